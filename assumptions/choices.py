from django.db import models
from django.utils.translation import gettext_lazy as _


class AssumptionType(models.TextChoices):
    """The playbook's assumption types (14.2), each with its example in the help text of the form."""

    VALUE = "value", _("Value")
    ADOPTION = "adoption", _("Adoption")
    RISK = "risk", _("Risk")
    COST = "cost", _("Cost")
    CAPACITY = "capacity", _("Capacity")
    POLICY = "policy", _("Policy")
    TECHNICAL = "technical", _("Technical")


# The playbook's example of each type (14.2): shown beside the type field so people write alike.
TYPE_EXAMPLES = {
    AssumptionType.VALUE: _("Reducing average handle time creates net benefit after repeat contact."),
    AssumptionType.ADOPTION: _("Agents will use suggestions if citations are visible."),
    AssumptionType.RISK: _("Human review catches high-impact hallucinations."),
    AssumptionType.COST: _("Token cost per case remains below threshold at scale."),
    AssumptionType.CAPACITY: _("QA can sample 2% of assisted cases without queue impact."),
    AssumptionType.POLICY: _("Current hardship guidance remains valid for next quarter."),
    AssumptionType.TECHNICAL: _("Retrieval latency supports live-call workflow."),
}


class AssumptionStatus(models.TextChoices):
    """Where the evidence leaves the belief (playbook 14.2: what the monthly value review records)."""

    NEEDS_EVIDENCE = "needs_evidence", _("Needs evidence")
    CONFIRMED = "confirmed", _("Confirmed")
    WEAKENED = "weakened", _("Weakened")
    INVALIDATED = "invalidated", _("Invalidated")
    EXPIRED = "expired", _("Expired")


_S = AssumptionStatus

# The assumption's state machine; every move is one ``Assumption.review(...)`` with new evidence.
# - A live assumption (needs evidence, confirmed, weakened) may be reviewed into any status,
#   including its own: "still confirmed, here is this month's evidence" is a review row too.
# - Expired (its expiry date passed, or a release changed what it rests on) is re-opened only
#   by a review that brings new evidence *and* a new expiry date (checked in ``review``);
#   expired -> expired is no move: the daily job must not write a second row.
# - Invalidated is final. If the belief comes back in another form it is a new assumption, so
#   the failed one stays in the ledger as the evidence a retire or redesign decision rested on.
TRANSITIONS: dict[str, set[str]] = {
    _S.NEEDS_EVIDENCE: {_S.NEEDS_EVIDENCE, _S.CONFIRMED, _S.WEAKENED, _S.INVALIDATED, _S.EXPIRED},
    _S.CONFIRMED: {_S.CONFIRMED, _S.WEAKENED, _S.NEEDS_EVIDENCE, _S.INVALIDATED, _S.EXPIRED},
    _S.WEAKENED: {_S.WEAKENED, _S.CONFIRMED, _S.NEEDS_EVIDENCE, _S.INVALIDATED, _S.EXPIRED},
    _S.EXPIRED: {_S.CONFIRMED, _S.WEAKENED, _S.NEEDS_EVIDENCE, _S.INVALIDATED},
    _S.INVALIDATED: set(),
}

# Statuses in which the ledger still relies on the belief: these can expire.
LIVE_STATUSES = frozenset({_S.NEEDS_EVIDENCE, _S.CONFIRMED, _S.WEAKENED})


class Confidence(models.TextChoices):
    """How sure the owner is, in the words people use in a forum (not a false-precision score)."""

    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")


class ObjectType(models.TextChoices):
    """What a release can change (the release calendar's object types): an assumption that rests
    on one of them turns expired when a release changes it."""

    MODEL = "model", _("Model")
    PROMPT = "prompt", _("Prompt")
    DATA = "data", _("Data")
    KNOWLEDGE = "knowledge", _("Knowledge")
    TOOL = "tool", _("Tool")
    POLICY = "policy", _("Policy")
    WORKFLOW = "workflow", _("Workflow")
