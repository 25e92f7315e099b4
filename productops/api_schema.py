"""The OpenAPI schema's shared parts: the error answers every endpoint can give, in one place.

``productops.api.exception_handler`` decides what an error looks like on the wire; this module
says so in the schema, for every operation at once, so no view repeats it and none forgets it.
An operation's own ``extend_schema(responses=...)`` still wins for a code it describes itself
(the observation ingest's 400 lists rows, for example).
"""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import SAFE_METHODS

FIELD_ERRORS = {
    "type": "object",
    "description": (
        "Each input at fault with the reasons it was refused; `non_field_errors` when the rule "
        "concerns no single field. Nothing was written."
    ),
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
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
        "The record is not in a state this move starts from (someone may have moved it first): "
        "the field, usually `status` or `state`, with the reason. Nothing was written."
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
    "409": "The move conflicts with the record's current state.",
}


def error_codes(*, method: str, has_path_parameters: bool, has_input: bool, is_create: bool) -> set[str]:
    """The error statuses an operation can answer, by what it takes and does.

    403 always (authentication and roles); 404 when it addresses a record; 400 when it takes
    input (a body, query parameters) or changes anything (a domain rule may refuse it); 409 for
    a move on a record (a state machine's transition, which may lose a race).
    """
    codes = {"403"}
    if has_path_parameters:
        codes.add("404")
    if has_input or method not in SAFE_METHODS:
        codes.add("400")
    if method == "POST" and has_path_parameters and not is_create:
        codes.add("409")
    return codes


class ProductOpsAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers of ``error_codes`` on every operation."""

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
        component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, schema=schema, object=name)
        self.registry.register_on_missing(component)
        return {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": component.ref}}}
