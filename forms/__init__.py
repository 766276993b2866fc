"""CivicFlow's forms core: JSON Schema checks and validation, the UI schema and the widget tree.

No Django here: templates in ``workflows`` draw the tree that ``render_tree`` builds.
"""

from forms.catalogue import LANGUAGES
from forms.errors import FieldError, InvalidSchema, SchemaError
from forms.program_ui import default_ui, load_program_ui
from forms.tree import FieldNode, FormTree, PageNode, render_tree
from forms.ui import UiSchema, clean, load_ui
from forms.validation import (
    MAX_DATA_BYTES,
    MAX_DATA_DEPTH,
    MAX_ERRORS,
    MAX_SCHEMA_BYTES,
    MAX_SCHEMA_DEPTH,
    FormValidator,
    check_schema,
    validate,
)

__all__ = [
    "LANGUAGES",
    "MAX_DATA_BYTES",
    "MAX_DATA_DEPTH",
    "MAX_ERRORS",
    "MAX_SCHEMA_BYTES",
    "MAX_SCHEMA_DEPTH",
    "FieldError",
    "FieldNode",
    "FormTree",
    "FormValidator",
    "InvalidSchema",
    "PageNode",
    "SchemaError",
    "UiSchema",
    "check_schema",
    "clean",
    "default_ui",
    "load_program_ui",
    "load_ui",
    "render_tree",
    "validate",
]
