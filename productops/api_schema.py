"""The OpenAPI schema's shared parts: the error answers every endpoint can give, in one place.

``productops.api.exception_handler`` decides what an error looks like on the wire; this module
says so in the schema, for every operation at once, so no view repeats it and none forgets it.
An operation's own ``extend_schema(responses=...)`` still wins for a code it describes itself
(the observation ingest's 400 lists rows, for example).
"""

import copy
import datetime

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework import ISO_8601, serializers
from rest_framework.permissions import SAFE_METHODS

FIELD_ERRORS_REF = {"$ref": "#/components/schemas/FieldErrors"}
FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Each input at fault with the reasons it was refused; `non_field_errors` when the rule "
        "concerns no single field. An input made of parts (an object, a list) names its parts the "
        'same way: `{"reopen_trigger": {"kind": [...]}}`, `{"tags": {"1": [...]}}`, or a '
        "list with one entry per item. A body that is not readable (malformed JSON) is refused "
        "with `detail`. Nothing was written."
    ),
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"anyOf": [{"type": "string"}, FIELD_ERRORS_REF]}},
            FIELD_ERRORS_REF,
        ]
    },
    "example": {"due_date": ["The due date cannot be in the past."]},
}
DETAIL = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
    "example": {"detail": "You do not have permission to perform this action."},
}
TRANSITION_CONFLICT = {
    **FIELD_ERRORS,
    "description": (
        "The record is not in a state this move starts from, or one that allows edits (someone "
        "may have moved it first): the field, usually `status` or `state`, with the reason. "
        "Nothing was written."
    ),
    "example": {"status": ["Cannot move from Closed to In progress."]},
}

DESCRIPTIONS = {
    "400": "Bad input: JSON naming each field at fault and the reason.",
    "403": (
        "Not signed in, a token that is not valid (unknown, revoked, expired), a read-only token "
        "on a change, or roles that do not allow this change."
    ),
    "404": "No such record, or it belongs to a capability you hold no role on.",
    "409": "The move or edit conflicts with the record's current state (a released release is not edited).",
}


def error_codes(*, method: str, has_path_parameters: bool, has_input: bool, is_create: bool) -> set[str]:
    """The error statuses an operation can answer, by what it takes and does.

    403 always (authentication and roles); 404 when it addresses a record; 400 when it takes
    input (a body, query parameters) or changes anything (a domain rule may refuse it); 409 for
    a move on a record (a state machine's transition, which may lose a race) and for an edit of
    one (a state may forbid edits).
    """
    codes = {"403"}
    if has_path_parameters:
        codes.add("404")
    if has_input or method not in SAFE_METHODS:
        codes.add("400")
    if has_path_parameters and (method in ("PUT", "PATCH") or (method == "POST" and not is_create)):
        codes.add("409")
    return codes


# A time of day as DRF writes and reads it ("10:00", "10:00:00", "10:00:00.250000"). OpenAPI's
# "time" format is RFC 3339's full-time, which requires a zone offset that a time of day has not.
TIME_OF_DAY = {"type": "string", "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?$", "example": "10:00:00"}


def model_field_of(field):
    """The model column a serializer field reads, when it reads one directly."""
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or len(field.source_attrs) != 1:
        return None
    try:
        return model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None


def as_stored(field):
    """A read-only field as its column holds it: null where the column may be null, "" where it
    may be blank. DRF drops both allowances from read-only fields (they validate nothing), and
    the schema would then promise a value the answer does not always have."""
    column = model_field_of(field) if field.read_only else None
    if column is None or not column.concrete:
        return field
    null = column.null and not field.allow_null
    blank = column.blank and hasattr(field, "allow_blank") and not field.allow_blank
    if not (null or blank):
        return field
    field = copy.copy(field)
    field.allow_null = field.allow_null or column.null
    if hasattr(field, "allow_blank"):
        field.allow_blank = field.allow_blank or column.blank
    return field


class ProductOpsAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers of ``error_codes`` on every operation,
    and fields described as the answers write them (see ``as_stored``, ``TIME_OF_DAY``; a date
    written in a format of its own, such as a memo's month ``2026-03``, is a plain string)."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        field = as_stored(field)
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField):
            schema.pop("format", None)
            schema.update(TIME_OF_DAY)
        elif isinstance(field, serializers.DateField) and getattr(field, "format", ISO_8601) not in (
            None,
            ISO_8601,
        ):
            schema.pop("format", None)
            schema["example"] = datetime.date(2026, 3, 1).strftime(field.format)
        return schema

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(as_stored(field), schema)

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        parameters = operation.get("parameters", [])
        codes = error_codes(
            method=self.method,
            has_path_parameters=any(p.get("in") == "path" for p in parameters),
            has_input="requestBody" in operation or any(p.get("in") == "query" for p in parameters),
            is_create=self._is_create_operation(),
        )
        responses = operation["responses"]
        for code in sorted(codes):
            if code not in responses:
                responses[code] = self._error_response(code)
        return operation

    def _error_response(self, code: str) -> dict:
        name, schema = {
            "400": ("FieldErrors", FIELD_ERRORS),
            "409": ("TransitionConflict", TRANSITION_CONFLICT),
        }.get(code, ("ErrorDetail", DETAIL))
        if code in ("400", "409"):  # both refer to FieldErrors for the parts of an input
            self._register("FieldErrors", FIELD_ERRORS)
        component = self._register(name, schema)
        return {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": component.ref}}}

    def _register(self, name: str, schema: dict) -> ResolvedComponent:
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return component
