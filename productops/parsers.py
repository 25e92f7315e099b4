"""The request bodies the API reads: DRF's JSON, form and multipart parsers, refusing text that
cannot be stored.

PostgreSQL stores no NUL character (``\\x00``) in text or JSON. DRF's text fields refuse one, but a
value that only looks a record up (an owner's username, a capability's slug) went to the
database as it came and failed there, a 500. Refused here, once for every endpoint, it is a 400
naming the field, before any view reads the body.
"""

from django.core.validators import ProhibitNullCharactersValidator
from rest_framework import parsers
from rest_framework.exceptions import ValidationError

NUL = "\x00"


def holds_nul(value) -> bool:
    """Whether a parsed value, at any depth, has a NUL in a text or a key."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(key) or holds_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(holds_nul(item) for item in value)
    return False


def refuse_nul(data) -> None:
    """Raise a 400 naming each top-level field whose value holds a NUL (``non_field_errors`` for
    a body that is a list, or a field whose very name holds one)."""
    message = str(ProhibitNullCharactersValidator.message)
    if hasattr(data, "lists"):  # a QueryDict from a form: every value sent under a name
        items = [(key, values) for key, values in data.lists()]
    elif isinstance(data, dict):
        items = list(data.items())
    else:
        items = [("non_field_errors", data)]
    errors = {}
    for key, value in items:
        if holds_nul(key):
            errors["non_field_errors"] = [message]
        elif holds_nul(value):
            errors[key] = [message]
    if errors:
        raise ValidationError(errors)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        refuse_nul(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        refuse_nul(parsed.data)
        return parsed
