from django.db import models
from django.utils.translation import gettext_lazy as _

from productops.roles import Activity, Role, roles_that_change


class ObjectType(models.TextChoices):
    """What a release changes (playbook 12.1 "Release Objects")."""

    MODEL = "model", _("Model")
    PROMPT = "prompt", _("Prompt")
    DATA = "data", _("Data")
    KNOWLEDGE = "knowledge", _("Knowledge")
    TOOL = "tool", _("Tool")
    POLICY = "policy", _("Policy")
    WORKFLOW = "workflow", _("Workflow")
    DASHBOARD = "dashboard", _("Dashboard")


class ReleaseState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    APPROVED = "approved", _("Approved")
    APPROVED_FOR_CANARY = "approved_for_canary", _("Approved for canary")
    ON_HOLD = "on_hold", _("On hold")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    REJECTED = "rejected", _("Rejected")
    CANARY = "canary", _("Canary")
    RELEASED = "released", _("Released")
    ROLLED_BACK = "rolled_back", _("Rolled back")
    IMPACT_REVIEWED = "impact_reviewed", _("Impact reviewed")


_S = ReleaseState

# The release's state machine. Approval verdicts may leave the state as it is: the first of a
# tool change's two approvals keeps it submitted ("waiting for second approver"), and a full
# approval of a canary keeps it in canary (it may then be deployed to everyone).
TRANSITIONS: dict[str, set[str]] = {
    _S.DRAFT: {_S.SUBMITTED},
    _S.SUBMITTED: {_S.APPROVED, _S.APPROVED_FOR_CANARY, _S.ON_HOLD, _S.CHANGES_REQUESTED, _S.REJECTED},
    _S.ON_HOLD: {_S.APPROVED, _S.APPROVED_FOR_CANARY, _S.CHANGES_REQUESTED, _S.REJECTED},
    _S.CHANGES_REQUESTED: {_S.SUBMITTED},
    _S.APPROVED: {_S.CANARY, _S.RELEASED, _S.ON_HOLD},
    _S.APPROVED_FOR_CANARY: {_S.CANARY, _S.ON_HOLD},
    _S.CANARY: {_S.RELEASED, _S.ROLLED_BACK, _S.IMPACT_REVIEWED},
    _S.RELEASED: {_S.ROLLED_BACK, _S.IMPACT_REVIEWED},
    _S.IMPACT_REVIEWED: {_S.ROLLED_BACK},
    _S.REJECTED: set(),
    _S.ROLLED_BACK: set(),
}

# The named moves (one model method each) and the states each starts from. Where a move can
# lead to more than one state (deploy to canary or to everyone; an approval that completes the
# required approvers or waits for the next), the method says which; every pair is in TRANSITIONS.
MOVES: dict[str, set[str]] = {
    "submit": {_S.DRAFT, _S.CHANGES_REQUESTED},
    "approve": {_S.SUBMITTED, _S.ON_HOLD, _S.CANARY},
    "approve_for_canary": {_S.SUBMITTED, _S.ON_HOLD},
    "hold": {_S.SUBMITTED, _S.APPROVED, _S.APPROVED_FOR_CANARY},
    "request_changes": {_S.SUBMITTED, _S.ON_HOLD},
    "reject": {_S.SUBMITTED, _S.ON_HOLD},
    "deploy": {_S.APPROVED, _S.APPROVED_FOR_CANARY, _S.CANARY},
    "rollback": {_S.CANARY, _S.RELEASED, _S.IMPACT_REVIEWED},
    "record_impact_review": {_S.CANARY, _S.RELEASED},
}

MOVE_LABELS = {
    "submit": _("Submit for approval"),
    "approve": _("Approve"),
    "approve_for_canary": _("Approve for canary only"),
    "hold": _("Hold"),
    "request_changes": _("Request changes"),
    "reject": _("Reject"),
    "deploy": _("Record deployment"),
    "rollback": _("Roll back"),
    "record_impact_review": _("Record impact review"),
}

# The moves an approver makes: each is a ReleaseApproval row with a comment.
VERDICT_MOVES = ("approve", "approve_for_canary", "hold", "request_changes", "reject")

# States the release can still be edited in (the evidence checklist follows the object type).
EDITABLE_STATES = {_S.DRAFT, _S.CHANGES_REQUESTED}
# Evidence can be attested until the release is approved.
ATTESTABLE_STATES = {_S.DRAFT, _S.SUBMITTED, _S.ON_HOLD, _S.CHANGES_REQUESTED}
# Waiting for an approver's verdict: the "pending my approval" queue.
PENDING_STATES = {_S.SUBMITTED, _S.ON_HOLD}
# Deployed and live: the capability's version set carries the release's version.
LIVE_STATES = {_S.CANARY, _S.RELEASED, _S.IMPACT_REVIEWED}
# Approved but not yet deployed: a stop hold holds these too.
APPROVED_STATES = {_S.APPROVED, _S.APPROVED_FOR_CANARY}


class Verdict(models.TextChoices):
    APPROVE = "approve", _("Approve")
    APPROVE_FOR_CANARY = "approve_for_canary", _("Approve for canary only")
    HOLD = "hold", _("Hold")
    REQUEST_CHANGES = "request_changes", _("Request changes")
    REJECT = "reject", _("Reject")


APPROVING_VERDICTS = {Verdict.APPROVE, Verdict.APPROVE_FOR_CANARY}


class ApprovalScope(models.TextChoices):
    """How far the approvals of the current round let the release go."""

    NONE = "", _("Not approved")
    CANARY = "canary", _("Canary only")
    FULL = "full", _("Full release")


class DeployTarget(models.TextChoices):
    CANARY = "canary", _("Canary")
    RELEASED = "released", _("Everyone (released)")


class ImpactDecision(models.TextChoices):
    """The decision of a post-release impact review (playbook 21.3)."""

    KEEP = "keep", _("Keep")
    EXTEND_CANARY = "extend_canary", _("Extend canary")
    HOTFIX = "hotfix", _("Hotfix")
    ROLLBACK = "rollback", _("Roll back")


# The decision log type each impact review decision is recorded as.
IMPACT_DECISION_TYPES = {
    ImpactDecision.KEEP: "continue",
    ImpactDecision.EXTEND_CANARY: "restrict",
    ImpactDecision.HOTFIX: "continue",
    ImpactDecision.ROLLBACK: "rollback",
}

# Risk tiers whose releases need an approver holding Risk / Compliance on the capability.
RISK_APPROVAL_TIERS = {"high", "critical"}
# Object types whose releases need two distinct approvers (playbook 12.1: tool "dual control").
DUAL_CONTROL_TYPES = {ObjectType.TOOL}
# Object types an assumption can rest on (assumptions.choices.ObjectType): a deployment or a
# rollback of one of them expires the assumptions that depend on it.
ASSUMPTION_OBJECT_TYPES = {
    ObjectType.MODEL,
    ObjectType.PROMPT,
    ObjectType.DATA,
    ObjectType.KNOWLEDGE,
    ObjectType.TOOL,
    ObjectType.POLICY,
    ObjectType.WORKFLOW,
}

# Who keeps the calendar: A or R on the release calendar (AI architect, platform).
CALENDAR_ROLES = roles_that_change(Activity.RELEASE_CALENDAR)
# Who may give an approval verdict: the calendar's keepers, the AI PM and Risk / Compliance
# (consulted on the release calendar; the risk partner is the approver the playbook names).
APPROVER_ROLES = CALENDAR_ROLES | {Role.AI_PM, Role.RISK_COMPLIANCE}
# Who may attest an evidence item: every role the release calendar consults or makes
# responsible (the eval comes from analytics, the legal review from risk, the frontline
# communication from ops ...). Finance, executives and viewers are only informed.
ATTESTER_ROLES = APPROVER_ROLES | {Role.BUSINESS_ANALYST, Role.OPS, Role.ANALYTICS}
# Who may record the post-release impact review, or roll a live release back.
REVIEWER_ROLES = CALENDAR_ROLES | {Role.AI_PM}
ROLLBACK_ROLES = CALENDAR_ROLES | {Role.AI_PM, Role.RISK_COMPLIANCE}


# The evidence a release needs, by object type (playbook 12.1 "Required review" and 12.3).
# (key, label, what shows it). Keys are stable: an attestation survives an edit that keeps it.
EVIDENCE_ITEMS: dict[str, list[tuple[str, object, object]]] = {
    ObjectType.MODEL: [
        (
            "quality_comparison",
            _("Quality comparison"),
            _("Eval results of the new model against the current one."),
        ),
        (
            "latency_comparison",
            _("Latency comparison"),
            _("p50/p95 latency of both models on the same traffic."),
        ),
        ("cost_comparison", _("Cost comparison"), _("Cost per case of both models.")),
        (
            "rollback_test",
            _("Rollback test"),
            _("The rollback was rehearsed and restores the previous model."),
        ),
    ],
    ObjectType.PROMPT: [
        ("regression_eval", _("Regression eval"), _("The prompt's regression eval set passes.")),
    ],
    ObjectType.DATA: [
        ("lineage", _("Lineage review"), _("Where the data comes from and what changed.")),
        ("privacy", _("Privacy review"), _("Personal data handling signed off.")),
        ("bias", _("Bias and segmentation review"), _("Effect on cohorts and protected-class proxies.")),
        ("validation", _("Validation"), _("Validation checks on the new data pass.")),
    ],
    ObjectType.KNOWLEDGE: [
        ("freshness", _("Freshness"), _("The content is current (review dates, withdrawn items removed).")),
        ("authority", _("Authority"), _("The content owner approved the source.")),
        ("retrieval_quality", _("Retrieval quality"), _("Retrieval eval on the changed content passes.")),
    ],
    ObjectType.TOOL: [
        (
            "authorization",
            _("Authorization review"),
            _("Who and what may call the tool, and with which permissions."),
        ),
        (
            "side_effects",
            _("Side-effect review"),
            _("What the tool changes in other systems, and how it is undone."),
        ),
        ("audit", _("Audit trail"), _("Every call is logged with who, what and the case.")),
        ("dual_control", _("Dual control"), _("Two people approve the permission change.")),
    ],
    ObjectType.POLICY: [
        (
            "legal_compliance_review",
            _("Legal / compliance review"),
            _("Legal or compliance signed off the policy."),
        ),
        (
            "frontline_communication",
            _("Frontline communication"),
            _("Frontline staff were told what changes and when."),
        ),
        ("eval_update", _("Eval update"), _("The evals test the new policy.")),
    ],
    ObjectType.WORKFLOW: [
        ("adoption", _("Adoption impact"), _("How users' work changes, and the training or guidance given.")),
        ("capacity", _("Capacity impact"), _("Effect on queues, review capacity and staffing.")),
        ("control_impact", _("Control impact"), _("Effect on human review thresholds and other controls.")),
    ],
    ObjectType.DASHBOARD: [
        (
            "metric_owner_approval",
            _("Metric owner approval"),
            _("The metric contract's owner approved the change."),
        ),
    ],
}
# A prompt release needs a policy review when its risk tier calls for one ("by risk tier").
PROMPT_POLICY_REVIEW = (
    "policy_review",
    _("Policy review"),
    _("Risk / compliance reviewed the prompt against policy (high and critical risk tiers)."),
)

EVIDENCE_LABELS = {
    key: (label, help_text)
    for items in [*EVIDENCE_ITEMS.values(), [PROMPT_POLICY_REVIEW]]
    for key, label, help_text in items
}


def evidence_required(object_type: str, risk_tier: str) -> list[str]:
    """The keys of the evidence items a release of this object type and risk tier needs."""
    keys = [key for key, _label, _help in EVIDENCE_ITEMS.get(object_type, [])]
    if object_type == ObjectType.PROMPT and risk_tier in RISK_APPROVAL_TIERS:
        keys.append(PROMPT_POLICY_REVIEW[0])
    return keys


# Evidence files: what an eval report, a sign-off or an export usually is.
EVIDENCE_EXTENSIONS = ["pdf", "png", "jpg", "jpeg", "csv", "xlsx", "docx", "txt", "md", "json"]
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024

# Before/after periods of the impact review, and the choices the page offers.
DEFAULT_IMPACT_PERIODS = 4
IMPACT_PERIOD_CHOICES = [2, 3, 4, 6, 8, 12]
