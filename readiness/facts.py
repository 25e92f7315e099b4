"""What the registers and forums hold about each capability, loaded once for the eight questions
of the quality bar (playbook 25): a fixed number of queries whatever the number of capabilities,
so the portfolio board asks them for every capability at once."""

import datetime
from dataclasses import dataclass, field

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


@dataclass
class CapabilityFacts:
    """One capability's records as the eight questions read them."""

    capability: object
    today: datetime.date
    forums: list = field(default_factory=list)  # forums that review it (its scope, or organisation-wide)
    decisions: list = field(default_factory=list)  # decisions of the window, newest first, annotated
    cited_contracts: list = field(default_factory=list)  # (decision, evidence link) citing a contract
    contracts: list = field(default_factory=list)  # contracts not retired
    releases: list = field(default_factory=list)  # deployed releases, annotated ``reviewed``
    incidents: list = field(default_factory=list)  # annotated ``learning``
    closed_actions: list = field(default_factory=list)  # closed in the window, annotated ``proven``
    assumptions: list = field(default_factory=list)  # annotated ``review_count``
    scorecard_rows: list = field(default_factory=list)  # quarterly scorecard rows, newest first

    @property
    def window_start(self) -> datetime.date:
        return self.today - datetime.timedelta(days=DECISION_WINDOW_DAYS)

    @property
    def closure_window_start(self) -> datetime.date:
        return self.today - datetime.timedelta(days=CLOSURE_WINDOW_DAYS)


def _group(rows, key="capability_id") -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(getattr(row, key), []).append(row)
    return grouped


def readiness_facts(capabilities, *, today: datetime.date | None = None) -> dict[int, CapabilityFacts]:
    """{capability pk: CapabilityFacts} for the given capabilities, in ten queries."""
    capabilities = list(capabilities)
    today = today or timezone.localdate()
    ids = [capability.pk for capability in capabilities]
    since = today - datetime.timedelta(days=DECISION_WINDOW_DAYS)
    closure_since = today - datetime.timedelta(days=CLOSURE_WINDOW_DAYS)
    contract_type = ContentType.objects.get_for_model(MetricContract)

    forums = list(Forum.objects.prefetch_related("scope").order_by("cadence", "name", "pk"))
    decisions = _group(
        Decision.objects.filter(capability_id__in=ids, decided_on__gte=since, decided_on__lte=today)
        .annotate(
            evidence_total=Count("evidence_links"),
            superseded=Exists(Decision.objects.filter(supersedes=OuterRef("pk"))),
        )
        # The fields the questions read (and a decision's link): a board asks for every capability.
        .only("id", "readable_id", "capability", "type", "decided_on", "forum_session_type")
        .order_by("-decided_on", "-pk")
    )
    cited = {}
    for link in (
        EvidenceLink.objects.filter(
            decision__capability_id__in=ids,
            decision__decided_on__gte=since,
            decision__decided_on__lte=today,
            content_type=contract_type,
        )
        .select_related("decision")
        .only("id", "decision__capability", "object_id", "reference")
        .order_by("reference", "pk")
    ):
        cited.setdefault(link.decision.capability_id, []).append(link)
    contracts = _group(
        MetricContract.objects.filter(capability_id__in=ids)
        .exclude(status=ContractStatus.RETIRED)
        .only(
            "pk",
            "metric_id",
            "capability_id",
            "category",
            "status",
            "business_owner_id",
            "warning_action",
            "breach_action",
            "evidence_level",
        )
        .order_by("category", "metric_id")
    )
    releases = _group(
        Release.objects.filter(capability_id__in=ids, deployed_date__lte=today)
        .annotate(reviewed=Exists(ImpactReview.objects.filter(release=OuterRef("pk"))))
        .only(
            "id",
            "readable_id",
            "capability",
            "object_type",
            "version_from",
            "version_to",
            "state",
            "deployed_date",
            "planned_date",
            "post_release_review_date",
        )
        .order_by("-deployed_date", "-planned_date", "-pk")
    )
    incidents = _group(
        Incident.objects.filter(capability_id__in=ids, occurred_on__lte=today)
        .annotate(learning=Count("learning_items"))
        .only("id", "readable_id", "capability", "severity", "occurred_on")
        .order_by("-occurred_on", "-pk")
    )
    accepted = ClosureEvidence.objects.filter(action=OuterRef("pk"), verdict=EvidenceVerdict.ACCEPTED)
    closed = _group(
        Action.objects.filter(
            capability_id__in=ids, status=ActionStatus.CLOSED, closed_at__date__gte=closure_since
        )
        .annotate(proven=Exists(accepted))
        .only("id", "readable_id", "capability", "action", "status", "closed_at")
        .order_by("-closed_at", "-pk")
    )
    assumptions = _group(
        Assumption.objects.filter(capability_id__in=ids)
        .annotate(review_count=Count("reviews"))
        .only("id", "readable_id", "capability", "status", "expires_on", "next_review_on")
        .order_by("readable_id")
    )
    rows = _group(
        ScorecardRow.objects.filter(capability_id__in=ids)
        .select_related("review", "decision_logged")
        .order_by("-review__quarter")
    )

    facts = {}
    for capability in capabilities:
        facts[capability.pk] = CapabilityFacts(
            capability=capability,
            today=today,
            forums=[forum for forum in forums if _reviews(forum, capability)],
            decisions=decisions.get(capability.pk, []),
            cited_contracts=cited.get(capability.pk, []),
            contracts=contracts.get(capability.pk, []),
            releases=releases.get(capability.pk, []),
            incidents=incidents.get(capability.pk, []),
            closed_actions=closed.get(capability.pk, []),
            assumptions=assumptions.get(capability.pk, []),
            scorecard_rows=rows.get(capability.pk, []),
        )
    return facts


def _reviews(forum, capability) -> bool:
    """A forum reviews a capability when its scope names it, or when it has no scope (the
    whole organisation)."""
    scope = forum.scope_list()
    return not scope or any(item.pk == capability.pk for item in scope)


def is_session_decision(decision) -> bool:
    """The decision was recorded in a forum session (not straight into the log)."""
    return decision.forum_session_type_id == ContentType.objects.get_for_model(Session).pk
