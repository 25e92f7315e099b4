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
from django.db import connection
from django.utils import timezone

from actions.choices import ActionStatus, EvidenceVerdict
from actions.models import Action
from assumptions.models import Assumption
from contracts.choices import ContractStatus
from contracts.models import MetricContract
from decisions.models import Decision
from forums.models import Forum, PortfolioReview, ScorecardRow, Session
from incidents.models import Incident
from productops.reads import fetch, fields_of, placeholders
from releases.models import Release

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


class LoggedDecision(NamedTuple):
    """The decision log entry a scorecard row's decision was written to."""

    pk: int
    readable_id: str
    decided_on: datetime.date

    get_absolute_url = Decision.get_absolute_url


class ScorecardFact(NamedTuple):
    """A capability's row on a quarterly portfolio review's scorecard: the quarter, the decision
    taken on it (blank before the review decides) and its decision log entry."""

    pk: int
    capability_id: int
    quarter: str
    decision: str
    updated_at: datetime.datetime
    decision_logged: LoggedDecision | None

    def get_decision_display(self) -> str:
        return ScorecardRow.get_decision_display(self)


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
    scorecard_rows: list = field(default_factory=list)  # ScorecardFact, newest quarter first
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


def _bound(day: datetime.date):
    """Midnight starting ``day`` in the current time zone, as the database compares a datetime
    column with it: ``closed_at >= _bound(day)`` is the ORM's ``closed_at__date__gte=day`` (which
    converts each value to the current time zone), written portably and on the index."""
    midnight = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return connection.ops.adapt_datetimefield_value(midnight)


# The facts are read with hand-written SQL (productops.reads): the portfolio board asks for every
# capability at once on each render, and compiling these ten querysets through the ORM took some
# four times the statements' own time. Each statement keeps the ORM's filter and order (with its
# tie-breakers), so the rows and their order are the same; a test plants the records
# (readiness/tests/test_facts_reads.py).


def _forums() -> tuple[list, dict[int, set]]:
    """Every forum (with what the questions read of it: name, cadence, decision types), by
    cadence and name, and {forum pk: the pks of the capabilities of its scope}."""
    names = ["id", "name", "cadence", "decision_types"]
    rows = fetch(
        "SELECT f.id, f.name, f.cadence, f.decision_types, s.capability_id FROM forums_forum f "
        "LEFT OUTER JOIN forums_forum_scope s ON s.forum_id = f.id "
        "ORDER BY f.cadence, f.name, f.id",
        [],
        [*fields_of(Forum, *names), None],
    )
    forums, scopes = {}, {}
    for *values, capability_id in rows:
        if values[0] not in forums:
            forums[values[0]] = Forum.from_db(connection.alias, names, values)
        if capability_id is not None:
            scopes.setdefault(values[0], set()).add(capability_id)
    return list(forums.values()), scopes


def _decisions(ids: list, since: datetime.date, today: datetime.date) -> list[DecisionFact]:
    rows = fetch(
        "SELECT d.id, d.readable_id, d.capability_id, d.type, d.decided_on, d.forum_session_type_id, "
        "(SELECT COUNT(*) FROM decisions_evidencelink e WHERE e.decision_id = d.id), "
        "EXISTS(SELECT 1 FROM decisions_decision s WHERE s.supersedes_id = d.id) "
        f"FROM decisions_decision d WHERE d.capability_id IN ({placeholders(ids)}) "
        "AND d.decided_on >= %s AND d.decided_on <= %s ORDER BY d.decided_on DESC, d.id DESC",
        [*ids, since, today],
        fields_of(Decision, *DecisionFact._fields),
    )
    # EXISTS is 0 or 1 on SQLite.
    return [DecisionFact(*row[:-1], bool(row[-1])) for row in rows]


def _cited_contracts(ids: list, since: datetime.date, today: datetime.date) -> list[CitedContract]:
    contract_type = ContentType.objects.get_for_model(MetricContract)
    rows = fetch(
        "SELECT d.capability_id, e.decision_id, e.object_id, e.reference FROM decisions_evidencelink e "
        "INNER JOIN decisions_decision d ON d.id = e.decision_id "
        f"WHERE e.content_type_id = %s AND d.capability_id IN ({placeholders(ids)}) "
        "AND d.decided_on >= %s AND d.decided_on <= %s ORDER BY e.reference, e.id",
        [contract_type.pk, *ids, since, today],
    )
    return list(map(CitedContract._make, rows))


def _contracts(ids: list) -> list[ContractFact]:
    rows = fetch(
        "SELECT c.id, c.metric_id, c.capability_id, c.category, c.status, c.business_owner_id, "
        "c.warning_action, c.breach_action, c.evidence_level FROM contracts_metriccontract c "
        f"WHERE c.capability_id IN ({placeholders(ids)}) AND NOT (c.status = %s) "
        "ORDER BY c.category, c.metric_id",
        [*ids, ContractStatus.RETIRED.value],
    )
    return list(map(ContractFact._make, rows))


def _releases(ids: list, today: datetime.date) -> list[ReleaseFact]:
    rows = fetch(
        "SELECT r.id, r.readable_id, r.capability_id, r.object_type, r.version_from, r.version_to, "
        "r.state, r.deployed_date, r.post_release_review_date, "
        "EXISTS(SELECT 1 FROM releases_impactreview v WHERE v.release_id = r.id) "
        f"FROM releases_release r WHERE r.capability_id IN ({placeholders(ids)}) AND r.deployed_date <= %s "
        "ORDER BY r.deployed_date DESC, r.planned_date DESC, r.id DESC",
        [*ids, today],
        fields_of(Release, *ReleaseFact._fields),
    )
    return [ReleaseFact(*row[:-1], bool(row[-1])) for row in rows]


def _incidents(ids: list, today: datetime.date) -> list[IncidentFact]:
    rows = fetch(
        "SELECT i.id, i.readable_id, i.capability_id, i.severity, i.occurred_on, "
        "(SELECT COUNT(*) FROM incidents_learningitem l WHERE l.incident_id = i.id) "
        f"FROM incidents_incident i WHERE i.capability_id IN ({placeholders(ids)}) AND i.occurred_on <= %s "
        "ORDER BY i.occurred_on DESC, i.id DESC",
        [*ids, today],
        fields_of(Incident, *IncidentFact._fields),
    )
    return list(map(IncidentFact._make, rows))


def _closed_actions(ids: list, closure_since: datetime.date) -> list[ClosedAction]:
    rows = fetch(
        "SELECT a.id, a.readable_id, a.capability_id, a.action, "
        "EXISTS(SELECT 1 FROM actions_closureevidence e WHERE e.action_id = a.id AND e.verdict = %s) "
        f"FROM actions_action a WHERE a.capability_id IN ({placeholders(ids)}) "
        "AND a.status = %s AND a.closed_at >= %s ORDER BY a.closed_at DESC, a.id DESC",
        [EvidenceVerdict.ACCEPTED.value, *ids, ActionStatus.CLOSED.value, _bound(closure_since)],
    )
    return [ClosedAction(*row[:-1], bool(row[-1])) for row in rows]


def _assumptions(ids: list) -> list[AssumptionFact]:
    rows = fetch(
        "SELECT a.id, a.readable_id, a.capability_id, a.status, a.expires_on, a.next_review_on "
        f"FROM assumptions_assumption a WHERE a.capability_id IN ({placeholders(ids)}) ORDER BY a.readable_id",
        ids,
        fields_of(Assumption, *AssumptionFact._fields),
    )
    return list(map(AssumptionFact._make, rows))


def _scorecard_rows(ids: list) -> list[ScorecardFact]:
    rows = fetch(
        "SELECT r.id, r.capability_id, p.quarter, r.decision, r.updated_at, d.id, d.readable_id, d.decided_on "
        "FROM forums_scorecardrow r INNER JOIN forums_portfolioreview p ON p.id = r.review_id "
        "LEFT OUTER JOIN decisions_decision d ON d.id = r.decision_logged_id "
        f"WHERE r.capability_id IN ({placeholders(ids)}) ORDER BY p.quarter DESC",
        ids,
        [
            *fields_of(ScorecardRow, "id", "capability_id"),
            *fields_of(PortfolioReview, "quarter"),
            *fields_of(ScorecardRow, "decision", "updated_at"),
            *fields_of(Decision, "id", "readable_id", "decided_on"),
        ],
    )
    return [ScorecardFact(*row[:5], LoggedDecision(*row[5:]) if row[5] is not None else None) for row in rows]


def readiness_facts(capabilities, *, today: datetime.date | None = None) -> dict[int, CapabilityFacts]:
    """{capability pk: CapabilityFacts} for the given capabilities, in nine queries."""
    capabilities = list(capabilities)
    today = today or timezone.localdate()
    ids = [capability.pk for capability in capabilities]
    since = today - datetime.timedelta(days=DECISION_WINDOW_DAYS)
    closure_since = today - datetime.timedelta(days=CLOSURE_WINDOW_DAYS)

    forums, scopes = _forums()
    decisions = _grouped(_decisions(ids, since, today))
    cited = _grouped(_cited_contracts(ids, since, today))
    contracts = _grouped(_contracts(ids))
    releases = _grouped(_releases(ids, today))
    incidents = _grouped(_incidents(ids, today))
    closed = _grouped(_closed_actions(ids, closure_since))
    assumptions = _grouped(_assumptions(ids))
    rows = _grouped(_scorecard_rows(ids))
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


def session_decisions(decisions) -> list:
    """The decisions recorded in a forum session (not straight into the log), in their order."""
    session_type = ContentType.objects.get_for_model(Session).pk
    return [decision for decision in decisions if decision.forum_session_type_id == session_type]
