from django.db import models
from django.utils.translation import gettext_lazy as _


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    BLOCKED = "blocked", _("Blocked")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting verification")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")


_S = ActionStatus

# The action's state machine. "Done" is not closed: the only way into CLOSED is a reviewer's
# verification of evidence the owner submitted (AWAITING_VERIFICATION).
TRANSITIONS: dict[str, set[str]] = {
    _S.OPEN: {_S.IN_PROGRESS, _S.BLOCKED, _S.AWAITING_VERIFICATION},
    _S.IN_PROGRESS: {_S.BLOCKED, _S.AWAITING_VERIFICATION},
    _S.BLOCKED: {_S.IN_PROGRESS},
    _S.AWAITING_VERIFICATION: {_S.CLOSED, _S.IN_PROGRESS},
    _S.CLOSED: {_S.REOPENED},
    _S.REOPENED: {_S.IN_PROGRESS, _S.BLOCKED, _S.AWAITING_VERIFICATION},
}

# The named moves (one model method each) and the state each one leads to from each state it
# starts from. Two moves may share a target (start and unblock both lead to "in progress"), so
# the move, not only the pair of states, says what happened. Every pair here is in TRANSITIONS.
MOVES: dict[str, dict[str, str]] = {
    "start": {_S.OPEN: _S.IN_PROGRESS, _S.REOPENED: _S.IN_PROGRESS},
    "block": {_S.OPEN: _S.BLOCKED, _S.IN_PROGRESS: _S.BLOCKED, _S.REOPENED: _S.BLOCKED},
    "unblock": {_S.BLOCKED: _S.IN_PROGRESS},
    "submit_evidence": {
        _S.OPEN: _S.AWAITING_VERIFICATION,
        _S.IN_PROGRESS: _S.AWAITING_VERIFICATION,
        _S.REOPENED: _S.AWAITING_VERIFICATION,
    },
    "verify": {_S.AWAITING_VERIFICATION: _S.CLOSED},
    "send_back": {_S.AWAITING_VERIFICATION: _S.IN_PROGRESS},
    "reopen": {_S.CLOSED: _S.REOPENED},
}

# Escalation changes who is looking at the action, not its state: allowed while it is not closed.
ESCALATABLE = {_S.OPEN, _S.IN_PROGRESS, _S.BLOCKED, _S.AWAITING_VERIFICATION, _S.REOPENED}

MOVE_LABELS = {
    "start": _("Start work"),
    "block": _("Mark blocked"),
    "unblock": _("Unblock"),
    "submit_evidence": _("Submit closure evidence"),
    "verify": _("Verify and close"),
    "send_back": _("Send back"),
    "reopen": _("Reopen"),
    "escalate": _("Escalate"),
}


class SourceKind(models.TextChoices):
    """What raised the action (playbook 21.2 "source")."""

    SIGNAL = "signal", _("Threshold signal")
    INCIDENT = "incident", _("Incident")
    FORUM_SESSION = "forum_session", _("Forum session")
    EXPERIMENT = "experiment", _("Experiment")
    RELEASE_REVIEW = "release_review", _("Release review")
    COMPLAINT = "complaint", _("Complaint")
    OTHER = "other", _("Other")


class EvidenceVerdict(models.TextChoices):
    PENDING = "pending", _("Pending review")
    ACCEPTED = "accepted", _("Accepted")
    SENT_BACK = "sent_back", _("Sent back")


class TriggerKind(models.TextChoices):
    CONTRACT_LEVEL = "contract_level", _("Metric contract level")
    RECHECK_DATE = "recheck_date", _("Re-check date")


class Comparison(models.TextChoices):
    AT_OR_ABOVE = "at_or_above", _("at or above")
    AT_OR_BELOW = "at_or_below", _("at or below")


class QuickView(models.TextChoices):
    """Named views of the register: the weekly ops board's action-closure row, one click each."""

    OVERDUE = "overdue", _("Overdue")
    DUE_THIS_WEEK = "due_this_week", _("Due this week")
    BLOCKED = "blocked", _("Blocked")
    REOPENED = "reopened", _("Reopened")
    AWAITING_VERIFICATION = "awaiting_verification", _("Awaiting verification")
    OPEN = "open", _("All open")
    MINE = "mine", _("My open actions")
    TO_VERIFY = "to_verify", _("Waiting for my verification")


# Closure evidence files: what a QA sample, a report or an export usually is.
EVIDENCE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "csv", "xlsx", "docx", "txt"]
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

# Open-by-age buckets of the weekly ops board, in days since the action was raised.
AGE_BUCKETS = [
    ("age_0_7", _("0–7 days"), 0, 7),
    ("age_8_14", _("8–14 days"), 8, 14),
    ("age_15_30", _("15–30 days"), 15, 30),
    ("age_over_30", _("over 30 days"), 31, None),
]
