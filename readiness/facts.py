"""What the registers and forums hold about each capability, loaded once for the eight questions
of the quality bar (playbook 25): a fixed number of queries whatever the number of capabilities,
so the portfolio board asks them for every capability at once.

The records are read as rows (named tuples of the columns the questions read), not model
instances: the portfolio board asks about some thousand records a render, and building a model
instance for each cost more than the questions themselves. A row's link and its choices in words
are its model's own methods (``get_absolute_url``, ``get_<field>_display``), so each stays written
once.
"""

import datetime
from dataclasses import dataclass, field
from typing import NamedTuple

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, Exists, OuterRef
from django.utils import timezone

from actions.choices import ActionStatus, EvidenceVerdict
from actions.models import Action, ClosureEvidence
from assumptions.models import Assumption
from contracts.choices import ContractStatus
from contracts.models import MetricContract
from decisions.models import Decision, EvidenceLink
from forums.models import Forum, ScorecardRow, Session
from incidents.models import Incident
from releases.models import ImpactReview, Release

# "Operating" is about now: the decisions, forums and portfolio calls of the last two quarters
# (the quarterly review's own horizon: playbook 22's portfolio optimism is two quarters without a
# pause or retire discussion), and the closures of the last 90 days (one monthly value review
# cycle and a half: a capability whose last proven closure is older is coasting).
DECISION_WINDOW_DAYS = 183
CLOSURE_WINDOW_DAYS = 90


class DecisionFact(NamedTuple):
    """A decision of the window: whether a later one supersedes it, and how many evidence links
    it rests on."""

    pk: int
    readable_id: str
    capability_id: int
    type: str
    decided_on: datetime.date
    forum_session_type_id: int | None
    evidence_total: int
    superseded: bool

    get_absolute_url = Decision.get_absolute_url

    def get_type_display(self) -> str:
        return Decision.get_type_display(self)


class CitedContract(NamedTuple):
    """An evidence link of a decision of the window that cites a metric contract."""

    capability_id: int
    decision_id: int
    object_id: int
    reference: str


class ContractFact(NamedTuple):
    """A metric contract not retired: its state, owner and action rules."""

    pk: int
    metric_id: str
    capability_id: int
    category: str
    status: str
    business_owner_id: int | None
    warning_action: str
    breach_action: str
    evidence_level: str

    get_absolute_url = MetricContract.get_absolute_url


class ReleaseFact(NamedTuple):
    """A deployed release, and whether its impact review is recorded (``reviewed``)."""

    pk: int
    readable_id: str
    capability_id: int
    object_type: str
    version_from: str
    version_to: str
    state: str
    deployed_date: datetime.date | None
    post_release_review_date: datetime.date | None
    reviewed: bool

    get_absolute_url = Release.get_absolute_url
    version_change = Release.version_change

    def get_object_type_display(self) -> str:
        return Release.get_object_type_display(self)

    def get_state_display(self) -> str:
        return Release.get_state_display(self)


class IncidentFact(NamedTuple):
    """An incident, and how many learning items it created or updated (``learning``)."""

    pk: int
    readable_id: str
    capability_id: int
    severity: str
    occurred_on: datetime.date
    learning: int

    get_absolute_url = Incident.get_absolute_url

    def get_severity_display(self) -> str:
        return Incident.get_severity_display(self)


class ClosedAction(NamedTuple):
    """An action closed in the closure window, and whether a reviewer accepted its closure
    evidence (``proven``)."""

    pk: int
    readable_id: str
    capability_id: int
    action: str
    proven: bool

    get_absolute_url = Action.get_absolute_url


class AssumptionFact(NamedTuple):
    """An assumption of the ledger: its status and its dates."""

    pk: int
    readable_id: str
    capability_id: int
    status: str
    expires_on: datetime.date
    next_review_on: datetime.date | None

    get_absolute_url = Assumption.get_absolute_url

    def get_status_display(self) -> str:
        return Assumption.get_status_display(self)


@dataclass
class CapabilityFacts:
    """One capability's records as the eight questions read them."""

    capability: object
    today: datetime.date
    forums: list = field(default_factory=list)  # forums that review it (its scope, or organisation-wide)
    decisions: list = field(default_factory=list)  # DecisionFact of the window, newest first
    cited_contracts: list = field(default_factory=list)  # CitedContract
    contracts: list = field(default_factory=list)  # ContractFact, not retired
    releases: list = field(default_factory=list)  # ReleaseFact, deployed
    incidents: list = field(default_factory=list)  # IncidentFact
    closed_actions: list = field(default_factory=list)  # ClosedAction of the closure window
    assumptions: list = field(default_factory=list)  # AssumptionFact
    scorecard_rows: list = field(default_factory=list)  # quarterly scorecard rows, newest first
    # {forum pk: its decision types in words}: the same forums review many capabilities, so
    # their words are looked up once for all of them.
    forum_decision_labels: dict = field(default_factory=dict)

    @property
    def window_start(self) -> datetime.date:
        return self.today - datetime.timedelta(days=DECISION_WINDOW_DAYS)

    @property
    def closure_window_start(self) -> datetime.date:
        return self.today - datetime.timedelta(days=CLOSURE_WINDOW_DAYS)

    def decision_labels(self, forum) -> list[str]:
        """The decision types the forum may take, in words."""
        labels = self.forum_decision_labels.get(forum.pk)
        return forum.decision_type_labels() if labels is None else labels


def _grouped(rows) -> dict:
    """{capability pk: [row, ...]} in the rows' order."""
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row.capability_id, []).append(row)
    return grouped


def _facts(row_type, queryset) -> dict:
    """The queryset's rows as ``row_type`` (its fields, in order), by capability."""
    return _grouped(map(row_type._make, queryset.values_list(*row_type._fields)))


def readiness_facts(capabilities, *, today: datetime.date | None = None) -> dict[int, CapabilityFacts]:
    """{capability pk: CapabilityFacts} for the given capabilities, in ten queries."""
    capabilities = list(capabilities)
    today = today or timezone.localdate()
    ids = [capability.pk for capability in capabilities]
    since = today - datetime.timedelta(days=DECISION_WINDOW_DAYS)
    closure_since = today - datetime.timedelta(days=CLOSURE_WINDOW_DAYS)
    contract_type = ContentType.objects.get_for_model(MetricContract)

    forums = list(
        Forum.objects.only("id", "name", "cadence", "decision_types").order_by("cadence", "name", "pk")
    )
    scopes: dict[int, set] = {}
    for forum_id, capability_id in Forum.scope.through.objects.values_list("forum_id", "capability_id"):
        scopes.setdefault(forum_id, set()).add(capability_id)
    decisions = _facts(
        DecisionFact,
        Decision.objects.filter(capability_id__in=ids, decided_on__gte=since, decided_on__lte=today)
        .annotate(
            evidence_total=Count("evidence_links"),
            superseded=Exists(Decision.objects.filter(supersedes=OuterRef("pk"))),
        )
        .order_by("-decided_on", "-pk"),
    )
    cited = _grouped(
        CitedContract._make(row)
        for row in EvidenceLink.objects.filter(
            decision__capability_id__in=ids,
            decision__decided_on__gte=since,
            decision__decided_on__lte=today,
            content_type=contract_type,
        )
        .order_by("reference", "pk")
        .values_list("decision__capability_id", "decision_id", "object_id", "reference")
    )
    contracts = _facts(
        ContractFact,
        MetricContract.objects.filter(capability_id__in=ids)
        .exclude(status=ContractStatus.RETIRED)
        .order_by("category", "metric_id"),
    )
    releases = _facts(
        ReleaseFact,
        Release.objects.filter(capability_id__in=ids, deployed_date__lte=today)
        .annotate(reviewed=Exists(ImpactReview.objects.filter(release=OuterRef("pk"))))
        .order_by("-deployed_date", "-planned_date", "-pk"),
    )
    incidents = _facts(
        IncidentFact,
        Incident.objects.filter(capability_id__in=ids, occurred_on__lte=today)
        .annotate(learning=Count("learning_items"))
        .order_by("-occurred_on", "-pk"),
    )
    accepted = ClosureEvidence.objects.filter(action=OuterRef("pk"), verdict=EvidenceVerdict.ACCEPTED)
    closed = _facts(
        ClosedAction,
        Action.objects.filter(
            capability_id__in=ids, status=ActionStatus.CLOSED, closed_at__date__gte=closure_since
        )
        .annotate(proven=Exists(accepted))
        .order_by("-closed_at", "-pk"),
    )
    assumptions = _facts(
        AssumptionFact, Assumption.objects.filter(capability_id__in=ids).order_by("readable_id")
    )
    rows = _grouped(
        ScorecardRow.objects.filter(capability_id__in=ids)
        .select_related("review", "decision_logged")
        # What portfolio_call reads: not the ratings (a JSON document a row).
        .only(
            "id",
            "capability",
            "decision",
            "updated_at",
            "review",
            "review__quarter",
            "decision_logged",
            "decision_logged__readable_id",
            "decision_logged__decided_on",
        )
        .order_by("-review__quarter")
    )
    labels = {forum.pk: forum.decision_type_labels() for forum in forums}

    facts = {}
    for capability in capabilities:
        facts[capability.pk] = CapabilityFacts(
            capability=capability,
            today=today,
            forums=[forum for forum in forums if _reviews(scopes.get(forum.pk), capability)],
            decisions=decisions.get(capability.pk, []),
            cited_contracts=cited.get(capability.pk, []),
            contracts=contracts.get(capability.pk, []),
            releases=releases.get(capability.pk, []),
            incidents=incidents.get(capability.pk, []),
            closed_actions=closed.get(capability.pk, []),
            assumptions=assumptions.get(capability.pk, []),
            scorecard_rows=rows.get(capability.pk, []),
            forum_decision_labels=labels,
        )
    return facts


def _reviews(scope: set | None, capability) -> bool:
    """A forum reviews a capability when its scope (the pks of its capabilities) names it, or
    when it has no scope (the whole organisation)."""
    return not scope or capability.pk in scope


def is_session_decision(decision) -> bool:
    """The decision was recorded in a forum session (not straight into the log)."""
    return decision.forum_session_type_id == ContentType.objects.get_for_model(Session).pk
