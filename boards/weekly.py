"""The weekly ops board (playbook 18.2, read weekly by the PM, BA, ops and risk): the
wireframe's header — decision requests, releases pending, incidents open, actions overdue —
then five rows: adoption, quality, risk and complaints, reliability and cost, action closure.

A contract sits in a row's slot by its runtime watch (``MetricContract.watch``), never by its
name: qualified use, accept/edit/reject and rejection reasons in the adoption row; eval trend
(eval pass rate and confidence drift) and QA defects in quality, beside the top failure classes
(root-cause classes of the last 90 days' incidents) and the affected versions (versions named by
open incidents and by open signals on a version cut); complaints, overrides and escalations,
policy breach and the customer-harm watchlist in risk; SLO, latency, fallback, cost per case
and review queue in reliability and cost. The row's other active contracts of its categories are
listed under it as figures. The action-closure row counts the register (open by age, blocked,
due this week, reopened, overdue) and the closure quality of the last ``CLOSED_WINDOW_DAYS``:
closed with verified evidence (a reviewer accepted it) or not.

Plain data, loaded in a fixed number of queries whatever the size of the portfolio.
"""

import datetime
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from actions.choices import AGE_BUCKETS, ActionStatus, EvidenceVerdict, QuickView
from actions.models import Action, ClosureEvidence
from actions.querysets import closure_counts, not_closed
from boards.runtime import (
    ContractFigure,
    active_contracts,
    alarming_first,
    attach_contracts,
    load_figures,
    own_work_counts,
    with_capability,
)
from contracts.choices import Category, Watch
from contracts.models import Signal
from forums.choices import Cadence, SessionState
from forums.models import Session
from incidents.choices import IncidentState, RootCauseClass
from incidents.models import Incident, RootCause
from productops.prepared import prepared, prepared_counts
from releases.choices import PENDING_STATES
from releases.models import Release

FAILURE_WINDOW_DAYS = 90
CLOSED_WINDOW_DAYS = 28
# The weekly ops reviews of the coming week (one per forum on a weekly cadence), and those that
# started in the last few hours (still being held).
SESSIONS_AHEAD_DAYS = 7
SESSIONS_STARTED_HOURS = 4
STUCK_ACTIONS_SHOWN = 12
# The person's own work is read in the closure row's statement under these names.
MINE = "mine_"
# The register's named views the action-closure row counts, each a link to that view (18.2's
# blocked, due this week and reopened, then overdue and awaiting verification).
CLOSURE_VIEWS = (
    QuickView.BLOCKED,
    QuickView.DUE_THIS_WEEK,
    QuickView.REOPENED,
    QuickView.OVERDUE,
    QuickView.AWAITING_VERIFICATION,
)
OPEN_SESSION_STATES = (SessionState.SCHEDULED, SessionState.PACK_SENT, SessionState.IN_PROGRESS)


@dataclass(frozen=True)
class SlotSpec:
    key: str
    title: str
    watches: tuple
    # Show every cohort of the latest period (adoption is read by cohort), not only those past warning.
    all_cuts: bool = False
    # Rank by latest value, highest first (rejection reasons: the biggest reason on top).
    by_value: bool = False


@dataclass(frozen=True)
class RowSpec:
    key: str
    title: str
    categories: tuple
    slots: tuple


ROWS = (
    RowSpec(
        "adoption",
        _("Adoption"),
        (Category.ADOPTION,),
        (
            SlotSpec("qualified_use", _("Qualified use by cohort"), (Watch.QUALIFIED_USE,), all_cuts=True),
            SlotSpec("acceptance", _("Accept / edit / reject"), (Watch.ACCEPTANCE,), all_cuts=True),
            SlotSpec("rejection", _("Rejection reasons"), (Watch.REJECTION_REASON,), by_value=True),
        ),
    ),
    RowSpec(
        "quality",
        _("Quality"),
        (Category.QUALITY,),
        (
            SlotSpec("eval", _("Eval trend"), (Watch.EVAL_PASS_RATE, Watch.CONFIDENCE_DRIFT)),
            SlotSpec("qa_defects", _("QA defects"), (Watch.QA_DEFECTS,)),
        ),
    ),
    RowSpec(
        "risk",
        _("Risk and complaints"),
        (Category.RISK,),
        (
            SlotSpec("complaints", _("Complaints"), (Watch.COMPLAINTS,)),
            SlotSpec(
                "overrides", _("Overrides and escalations"), (Watch.OVERRIDE_RATE, Watch.ESCALATION_RATE)
            ),
            SlotSpec("policy_breach", _("Policy breach"), (Watch.POLICY_BREACH,)),
            SlotSpec("customer_harm", _("Customer harm watchlist"), (Watch.CUSTOMER_HARM,)),
        ),
    ),
    RowSpec(
        "reliability",
        _("Reliability and cost"),
        (Category.RELIABILITY, Category.COST),
        (
            SlotSpec("slo", _("SLO"), (Watch.SLO,)),
            SlotSpec("latency", _("Latency"), (Watch.LATENCY,)),
            SlotSpec("fallback", _("Fallback"), (Watch.FALLBACK_RATE,)),
            SlotSpec("cost_per_case", _("Cost per case"), (Watch.COST_PER_CASE,)),
            SlotSpec("review_queue", _("Review queue"), (Watch.REVIEW_QUEUE,)),
        ),
    ),
)
SLOTTED = {watch for row in ROWS for slot in row.slots for watch in slot.watches}
# What the board reads of an open signal (its figure's line, the affected versions) and of its
# action (the link beside it): the rest of both rows (time stamps, the action's texts) is never
# shown, and was half the time of reading them.
SIGNAL_FIELDS = (
    "contract_id",
    "cut",
    "level",
    "opened_period",
    "resolved_period",
    "action",
    "action__readable_id",
)


def needs_a_look(figure: ContractFigure) -> bool:
    """A figure the review reads the trend of first: past warning (whole population or a cut) or
    with an open signal. The others' trends stay folded until asked for (the board is long)."""
    return figure.alarming or figure.signal is not None


# The organisation-wide board folds what is not news (18.4: decisions and exceptions, not raw
# noise): each slot's contracts with nothing past warning, and each row's other contracts, sit in
# a closed fold that loads (``weekly_fold``) when the reader opens it.
OTHERS_FOLD = "others-"


@dataclass
class Fold:
    """A folded part of the weekly board, loaded when opened: a slot's contracts with nothing past
    warning (``quiet``: their trend cards go with them) or a row's other contracts."""

    key: str
    title: str
    figures: list[ContractFigure]
    all_cuts: bool = False
    quiet: bool = False


@dataclass
class Slot:
    spec: SlotSpec
    figures: list[ContractFigure]

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def title(self) -> str:
        return self.spec.title

    @cached_property
    def to_look_at(self) -> list[ContractFigure]:
        return [figure for figure in self.figures if needs_a_look(figure)]

    @cached_property
    def quiet(self) -> list[ContractFigure]:
        return [figure for figure in self.figures if not needs_a_look(figure)]


@dataclass
class Row:
    spec: RowSpec
    slots: list[Slot]
    # Active contracts of the row's categories that sit in none of its slots.
    others: list[ContractFigure]

    @property
    def key(self) -> str:
        return self.spec.key

    @property
    def title(self) -> str:
        return self.spec.title

    def slot(self, key: str) -> Slot:
        return next(slot for slot in self.slots if slot.key == key)

    @cached_property
    def figures(self) -> list[ContractFigure]:
        return [figure for slot in self.slots for figure in slot.figures]


@dataclass
class FailureClass:
    """A root-cause class of the last 90 days' incidents, with the incidents that named it."""

    cause_class: str
    label: str
    incidents: list[tuple[str, str]]  # (readable id, title)

    @property
    def count(self) -> int:
        return len(self.incidents)


@dataclass
class AffectedVersion:
    """A version the week's problems point at: named by an open incident (its affected releases
    or versions) or by an open signal on a version cut. One entry per capability and version,
    whichever way it was named (release ``v12``, cut ``prompt_version=v12``, free text ``v12``)."""

    version: str
    capability: object
    # What kind of version it is, where known: the release's object type or the cut's dimension.
    kinds: list[str]
    sources: list[tuple[str, str]]  # (label, url)


@dataclass
class ClosureQuality:
    """Actions closed in the last CLOSED_WINDOW_DAYS: with evidence a reviewer accepted or not,
    of the verified ones how many were proven by the data check, and their age at closure."""

    verified: int = 0
    not_verified: int = 0
    from_data: int = 0
    days_to_close: list[float] = field(default_factory=list)

    @property
    def closed(self) -> int:
        return self.verified + self.not_verified

    @property
    def verified_percent(self) -> float | None:
        return 100 * self.verified / self.closed if self.closed else None

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_close) if self.days_to_close else None


@dataclass
class WeeklyBoard:
    capabilities: list
    now: datetime.datetime
    figures: dict[int, ContractFigure]
    rows: list[Row]
    sessions: list[Session]
    releases_pending: list[Release]
    releases_mine: set[int]
    incidents: list[Incident]
    failure_classes: list[FailureClass]
    affected_versions: list[AffectedVersion]
    watchlist: list[Incident]
    not_net: list
    closure: dict
    closure_quality: ClosureQuality
    stuck: list[Action]
    # How many open actions are overdue, blocked or reopened (``stuck`` shows the oldest few).
    stuck_total: int
    mine: dict

    @property
    def today(self) -> datetime.date:
        return timezone.localdate(self.now)

    @property
    def folds_quiet(self) -> bool:
        """Organisation-wide, each slot's contracts with nothing past warning are folded (and load
        when opened); a capability's own board lists every one of its contracts."""
        return len(self.capabilities) > 1

    @cached_property
    def session_decisions(self) -> list[Session]:
        """The coming week's reviews that carry a decision requested."""
        return [session for session in self.sessions if session.decision_requested.strip()]

    @property
    def decision_requests(self) -> int:
        """Decisions the forum is asked for this week: each review's decision requested and each
        release waiting for an approver's verdict (the meeting's decision block takes both)."""
        return len(self.session_decisions) + len(self.releases_pending)

    @cached_property
    def open_incidents(self) -> list[Incident]:
        return [incident for incident in self.incidents if incident.state != IncidentState.CLOSED]

    @cached_property
    def complaint_incidents(self) -> list[Incident]:
        return [incident for incident in self.open_incidents if incident.source == "complaint"]

    @property
    def age_buckets(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.closure[key]) for key, label, _low, _high in AGE_BUCKETS]

    @property
    def closure_views(self) -> list[tuple[str, str, int]]:
        return [(view.value, view.label, self.closure[view.value]) for view in CLOSURE_VIEWS]

    @cached_property
    def charted(self) -> list[ContractFigure]:
        return [figure for row in self.rows for figure in row.figures]

    @property
    def week_start(self) -> datetime.date:
        return self.today - datetime.timedelta(days=self.today.weekday())

    @cached_property
    def releases_awaiting_me(self) -> list[Release]:
        return [release for release in self.releases_pending if release.pk in self.releases_mine]


def _rows(figures: list[ContractFigure]) -> list[Row]:
    rows = []
    for spec in ROWS:
        slots = []
        for slot_spec in spec.slots:
            chosen = [f for f in figures if f.contract.watch in slot_spec.watches]
            if slot_spec.by_value:
                chosen.sort(key=lambda f: (f.value is None, -(f.value or 0), f.contract.metric_id))
            else:
                chosen = alarming_first(chosen)
            slots.append(Slot(spec=slot_spec, figures=chosen))
        row_watches = {watch for slot_spec in spec.slots for watch in slot_spec.watches}
        others = alarming_first(
            [
                f
                for f in figures
                if f.contract.category in spec.categories
                and f.contract.watch not in row_watches
                and f.contract.watch not in SLOTTED
            ]
        )
        rows.append(Row(spec=spec, slots=slots, others=others))
    return rows


@prepared
def _open_signals(ids: tuple):
    """The open signals of these capabilities' contracts, each with its action."""
    return _as_shown(Signal.objects.open().filter(contract__capability_id__in=ids))


def _as_shown(signals):
    """Signals as the board shows them: with their action, only the fields it reads, by metric
    and cut (the board and its folds alike)."""
    return signals.select_related("action").only(*SIGNAL_FIELDS).order_by("contract__metric_id", "cut")


@prepared
def _incidents(ids: tuple):
    """Open incidents and those on the watchlist (Sev1 first, then the oldest)."""
    return (
        Incident.objects.filter(capability_id__in=ids)
        .filter(~Q(state=IncidentState.CLOSED) | Q(on_watchlist=True))
        .order_by("severity", "occurred_on", "pk")
    )


@prepared
def _affected_releases(incident_ids: tuple):
    """(incident id, version, release kind) of each release these incidents affect, in the
    releases' own order."""
    return (
        Incident.affected_releases.through.objects.filter(incident_id__in=incident_ids)
        # Ordering by the relation orders by the release's own Meta.ordering.
        .order_by("release")
        .values_list("incident_id", "release__version_to", "release__object_type")
    )


@prepared
def _pending_releases(ids: tuple):
    return (
        Release.objects.filter(capability_id__in=ids, state__in=PENDING_STATES)
        .select_related("owner")
        .order_by("planned_date", "readable_id")
    )


@prepared(bound=2)
def _sessions(ids: tuple, since: datetime.datetime, until: datetime.datetime):
    """The weekly ops reviews scheduled from ``since`` to ``until`` (the coming week, and those
    that started in the last few hours) whose forum covers these capabilities (or the whole
    organisation): every forum's, not only the first few, so that each decision requested counts."""
    return (
        Session.objects.filter(
            forum__cadence=Cadence.WEEKLY_OPS_REVIEW,
            state__in=OPEN_SESSION_STATES,
            scheduled_at__gte=since,
            scheduled_at__lt=until,
        )
        .covering(ids)
        .select_related("forum")
        .distinct()
        .order_by("scheduled_at", "pk")
    )


@prepared
def _root_causes(ids: tuple, since: datetime.date):
    """(cause class, incident id, incident title) of the root causes of incidents since ``since``."""
    return (
        RootCause.objects.filter(incident__capability_id__in=ids, incident__occurred_on__gte=since)
        .order_by("cause_class", "incident__readable_id")
        .values_list("cause_class", "incident__readable_id", "incident__title")
    )


def _failure_classes(ids: tuple, today) -> list[FailureClass]:
    labels = dict(RootCauseClass.choices)
    grouped: dict[str, list] = defaultdict(list)
    for cause, readable_id, title in _root_causes(ids, today - datetime.timedelta(days=FAILURE_WINDOW_DAYS)):
        grouped[cause].append((readable_id, title))
    classes = [FailureClass(cause, str(labels.get(cause, cause)), items) for cause, items in grouped.items()]
    return sorted(classes, key=lambda c: (-c.count, c.label))


def _affected_versions(incidents, signals) -> list[AffectedVersion]:
    found: dict[tuple, AffectedVersion] = {}
    releases = defaultdict(list)
    for incident_id, version, kind in _affected_releases(tuple(incident.pk for incident in incidents)):
        releases[incident_id].append((version, kind))

    def add(version, capability, kind, label, url):
        key = (capability.pk, version)
        item = found.setdefault(
            key, AffectedVersion(version=version, capability=capability, kinds=[], sources=[])
        )
        if kind and kind not in item.kinds:
            item.kinds.append(kind)
        if (label, url) not in item.sources:
            item.sources.append((label, url))

    for incident in incidents:
        if incident.state == IncidentState.CLOSED:
            continue
        url = incident.get_absolute_url()
        for version, kind in releases[incident.pk]:
            add(version, incident.capability, kind, incident.readable_id, url)
        for version in filter(None, (part.strip() for part in incident.affected_versions.split(","))):
            add(version, incident.capability, "", incident.readable_id, url)
    for signal in signals:
        dimension, _sep, value = signal.cut.partition("=")
        if signal.resolved_period is None and "version" in dimension and value:
            add(
                value,
                signal.contract.capability,
                dimension,
                str(signal.contract.metric_id),
                signal.get_absolute_url(),
            )
    return sorted(found.values(), key=lambda item: (item.capability.name, item.version))


@prepared(bound=1)
def _closed_actions(ids: tuple, since: datetime.datetime):
    """(raised, closed, verified, closed from data) of the actions closed since ``since``."""
    accepted = ClosureEvidence.objects.filter(action=OuterRef("pk"), verdict=EvidenceVerdict.ACCEPTED)
    return (
        Action.objects.filter(capability_id__in=ids, status=ActionStatus.CLOSED, closed_at__gte=since)
        .annotate(
            verified=Exists(accepted),
            from_data=Exists(accepted.filter(submitted_by__isnull=True)),
        )
        .values_list("created_at", "closed_at", "verified", "from_data")
    )


def _closure_quality(ids: tuple, now) -> ClosureQuality:
    quality = ClosureQuality()
    for created, closed, verified, from_data in _closed_actions(
        ids, now - datetime.timedelta(days=CLOSED_WINDOW_DAYS)
    ):
        if verified:
            quality.verified += 1
            quality.from_data += int(from_data)
        else:
            quality.not_verified += 1
        quality.days_to_close.append((closed - created).total_seconds() / 86400)
    return quality


@prepared_counts
def _closure_row(ids: tuple, today: datetime.date, user_id: int):
    """The closure row (``closure_summary``'s counts), the person's own work and how many open
    actions are stuck, for these capabilities: one statement, prepared once a day per scope and
    person (``productops.prepared``)."""
    return Action.objects.filter(capability_id__in=ids), {
        **closure_counts(today),
        "stuck": Count("pk", filter=not_closed() & _stuck(today)),
        **{MINE + key: count for key, count in own_work_counts(user_id, today).items()},
    }


def _stuck(today) -> Q:
    """An open action the forum must unstick: overdue, blocked or reopened."""
    return Q(due_date__lt=today) | Q(status=ActionStatus.BLOCKED) | Q(times_reopened__gt=0)


def _stuck_actions(ids, today):
    """Open actions the forum must unstick."""
    return Action.objects.filter(capability_id__in=ids).open().filter(_stuck(today))


def _oldest_stuck(capabilities, now) -> list[Action]:
    """The oldest ``STUCK_ACTIONS_SHOWN`` of them (``age`` annotated), each holding its
    capability from those already read."""
    ids = tuple(capability.pk for capability in capabilities)
    return with_capability(_oldest_stuck_actions(ids, timezone.localdate(now), now), capabilities)


@prepared(bound=1)
def _oldest_stuck_actions(ids: tuple, today: datetime.date, now: datetime.datetime):
    return (
        _stuck_actions(ids, today)
        .with_age(now)
        .select_related("owner")
        .order_by("created_at", "pk")[:STUCK_ACTIONS_SHOWN]
    )


def weekly_board(*, capabilities, user, now: datetime.datetime | None = None) -> WeeklyBoard:
    """The weekly ops board for these capabilities, as this person reads it. A fixed number of
    queries: contracts, evaluations, open signals, incidents (and their affected releases), root
    causes, sessions, pending releases, the person's approvals, the closure counts, closure
    quality, the oldest stuck actions, and the person's own actions with how many are stuck."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    ids = tuple(capability.pk for capability in capabilities)
    contracts = active_contracts(capabilities)
    signals = attach_contracts(_open_signals(ids), contracts)
    figures = load_figures(contracts, signals, today)
    incidents = with_capability(_incidents(ids), capabilities)
    releases = with_capability(_pending_releases(ids), capabilities)
    releases_mine = set(
        Release.objects.filter(capability_id__in=ids).awaiting_verdict_of(user).values_list("pk", flat=True)
    )
    closure = _closure_row(ids, today, user.pk)
    mine = {key.removeprefix(MINE): closure.pop(key) for key in list(closure) if key.startswith(MINE)}
    return WeeklyBoard(
        capabilities=capabilities,
        now=now,
        figures=figures,
        rows=_rows(list(figures.values())),
        sessions=_sessions(
            ids,
            now - datetime.timedelta(hours=SESSIONS_STARTED_HOURS),
            now + datetime.timedelta(days=SESSIONS_AHEAD_DAYS),
        ),
        releases_pending=releases,
        releases_mine=releases_mine,
        incidents=incidents,
        failure_classes=_failure_classes(ids, today),
        affected_versions=_affected_versions(incidents, signals),
        watchlist=[incident for incident in incidents if incident.on_watchlist],
        not_net=[contract for contract in contracts if contract.improvement_not_net],
        closure=closure,
        closure_quality=_closure_quality(ids, now),
        stuck=_oldest_stuck(capabilities, now),
        stuck_total=closure.pop("stuck"),
        mine=mine,
    )


def weekly_fold(key: str, *, capabilities, now: datetime.datetime | None = None) -> Fold | None:
    """The folded part ``key`` of the weekly board for these capabilities (None for no such
    fold): a slot's key for its contracts with nothing past warning, ``others-<row>`` for a row's
    other contracts. The same figures in the same order as the board, read for those contracts
    only: contracts, open signals and evaluations."""
    today = timezone.localdate(now or timezone.now())
    if key.startswith(OTHERS_FOLD):
        row_spec = next((spec for spec in ROWS if spec.key == key.removeprefix(OTHERS_FOLD)), None)
        if row_spec is None:
            return None
        narrowed = {"categories": row_spec.categories, "other_than_watches": SLOTTED}
    else:
        found = [(spec, slot) for spec in ROWS for slot in spec.slots if slot.key == key]
        if not found:
            return None
        row_spec, slot_spec = found[0]
        narrowed = {"watches": slot_spec.watches}
    contracts = active_contracts(capabilities, **narrowed)
    signals = list(
        _as_shown(Signal.objects.open().filter(contract_id__in=[contract.pk for contract in contracts]))
    )
    figures = load_figures(contracts, signals, today)
    (row,) = [row for row in _rows(list(figures.values())) if row.key == row_spec.key]
    if key.startswith(OTHERS_FOLD):
        return Fold(key=key, title=str(row.title), figures=row.others)
    slot = row.slot(key)
    return Fold(key=key, title=str(slot.title), figures=slot.quiet, all_cuts=slot.spec.all_cuts, quiet=True)
