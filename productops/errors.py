"""Domain errors: what a model method or service raises when a rule of the playbook says no.

Pages turn them into form errors or messages, the API into JSON 400/409 answers that name
the field. Never a 500.
"""


class DomainError(Exception):
    """A rule refused the change. ``field`` names the input at fault, when there is one."""

    status_code = 400

    def __init__(self, message, *, field: str | None = None, code: str = "invalid"):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.code = code

    def as_dict(self) -> dict:
        return {self.field or "non_field_errors": [self.message]}


class TransitionNotAllowed(DomainError):
    """The record is not in a state this move starts from (or another person moved it first)."""

    status_code = 409

    def __init__(self, message, *, field: str | None = "status", code: str = "transition_not_allowed"):
        super().__init__(message, field=field, code=code)
