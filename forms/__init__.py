"""CivicFlow's forms core: JSON Schema checks and validation. No Django here."""

from forms.catalogue import LANGUAGES
from forms.errors import FieldError, InvalidSchema, SchemaError
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
    "FormValidator",
    "InvalidSchema",
    "SchemaError",
    "check_schema",
    "validate",
]
