"""CivicFlow's forms core: JSON Schema checks and validation. No Django here."""

from forms.errors import FieldError, SchemaError
from forms.validation import FormValidator, check_schema, validate

__all__ = ["FieldError", "FormValidator", "SchemaError", "check_schema", "validate"]
