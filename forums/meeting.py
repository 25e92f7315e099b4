"""Running a forum session in the browser (playbook 7.2 and 7.4): the live inputs of each agenda
block, the moves the PM makes in the meeting, attendance, notes per block, and the minutes.

The meeting never re-implements a lower register's rules: a decision is recorded through
``decisions.services.decision_record``, an action raised through ``actions.services.action_create``
and moved through the action's own methods, a release approved through ``Release.approve``. What
this module adds is the forum's part: the session must be in progress, the person must be able
to run the forum, the record must sit in the forum's scope, and every move leaves one
``SessionOutcome`` row, from which the minutes are built when they are published.
"""

import datetime
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import Prefetch, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext

from actions.choices import ActionStatus, SourceKind
from actions.models import Action, ClosureEvidence
from actions.services import action_create
from contracts.choices import (
    LEVEL_RANK,
    Category,
    ContractStatus,
    Direction,
    SignalLevel,
    below_decision_grade,
)
from contracts.models import Evaluation, MetricContract, Signal
from decisions.services import decision_record
from experiments.choices import ExperimentState
from experiments.models import Experiment
from forums.choices import Attendance, OutcomeKind, SessionState
from forums.models import Session, SessionAttendance, SessionOutcome
from forums.services import session_attendees, session_update
from forums.signals import minutes_published
from incidents.choices import IncidentSource, IncidentState
from incidents.models import Incident
from portfolio.models import Capability
from productops.errors import DomainError, TransitionNotAllowed
from productops.formats import local_iso, person_name
from productops.notifications import notify
from productops.permissions import can_view
from productops.transitions import lock
from releases.choices import APPROVED_STATES, PENDING_STATES, ReleaseState
from releases.models import Release

MINUTES_VERSION = 1
# How far back the figures look: enough for the latest and the previous period of a monthly
# contract, and for a weekly one's last few weeks.
FIGURE_WINDOW_DAYS = 100
# Releases deployed and actions closed this recently are still news for the forum.
RECENT_DAYS = 28
URGENT_SEVERITIES = ("sev1", "sev2")

# Agenda blocks are matched to their inputs by title, because a forum's agenda is editable: the
# first kind whose words appear in the title wins ("Decision requests", "Risk / complaints").
BLOCK_KINDS: list[tuple[str, tuple[str, ...]]] = [
    ("decisions", ("decision request", "decisions requested", "decision requested")),
    ("outcome", ("outcome",)),
    ("adoption", ("adoption",)),
    ("quality", ("quality", "eval")),
    ("reliability", ("reliability", "slo")),
    ("risk", ("risk", "complaint")),
    ("cost", ("cost", "capacity")),
    ("releases", ("release", "experiment")),
    ("actions", ("action",)),
]
KIND_CATEGORY = {
    "outcome": Category.OUTCOME,
    "adoption": Category.ADOPTION,
    "quality": Category.QUALITY,
    "reliability": Category.RELIABILITY,
    "risk": Category.RISK,
    "cost": Category.COST,
}
CATEGORY_KIND = {category: kind for kind, category in KIND_CATEGORY.items()}
# Which block discusses an open incident, by what raised it (7.2's inputs: complaints, policy
# breach and near miss under risk; review queue under capacity; QA samples under quality).
INCIDENT_KIND = {
    IncidentSource.COMPLAINT: "risk",
    IncidentSource.NEAR_MISS: "risk",
    IncidentSource.POLICY_DRIFT: "risk",
    IncidentSource.CAPACITY: "cost",
    IncidentSource.QA_SAMPLE: "quality",
    IncidentSource.MONITORING: "reliability",
}

# The action moves a meeting makes, and the outcome each one leaves in the minutes. Starting and
# unblocking work are the owner's day-to-day moves: they happen on the action's own page.
ACTION_MOVE_OUTCOMES = {
    "verify": OutcomeKind.ACTION_CLOSED,
    "submit_evidence": OutcomeKind.EVIDENCE_SUBMITTED,
    "send_back": OutcomeKind.ACTION_SENT_BACK,
    "reopen": OutcomeKind.ACTION_REOPENED,
    "escalate": OutcomeKind.ACTION_ESCALATED,
    "block": OutcomeKind.ACTION_BLOCKED,
}
ACTION_OUTCOME_KINDS = {OutcomeKind.ACTION_CREATED, *ACTION_MOVE_OUTCOMES.values()}
OUTCOME_URL_NAMES = {
    OutcomeKind.DECISION_RECORDED: "decisions:decision-detail",
    OutcomeKind.RELEASE_APPROVED: "releases:release-detail",
    **{kind: "actions:action-detail" for kind in ACTION_OUTCOME_KINDS},
}


def block_kind(title: str) -> str:
    """The kind of live inputs an agenda block shows ("" for a block ProductOps does not know)."""
    text = (title or "").lower()
    for kind, words in BLOCK_KINDS:
        if any(word in text for word in words):
            return kind
    return ""


def outcome_url(outcome: SessionOutcome) -> str:
    """The page of the record a session outcome names (no query: the reference is its id)."""
    name = OUTCOME_URL_NAMES.get(outcome.kind)
    return reverse(name, kwargs={"readable_id": outcome.reference}) if name and outcome.reference else ""


# --- the agenda and its clock -------------------------------------------------------------------


@dataclass
class Block:
    """One timed block of the session's agenda, with its planned place in the meeting."""

    number: int
    title: str
    minutes: int
    inputs: str
    outputs: str
    kind: str
    start_minute: int
    end_minute: int
    note: str = ""

    @property
    def anchor(self) -> str:
        return f"block-{self.number}"


def agenda_blocks(session: Session) -> list[Block]:
    """The forum's agenda as blocks with their planned start and end (minutes from the start)."""
    blocks = []
    start = 0
    for number, block in enumerate(session.forum.agenda or [], start=1):
        minutes = int(block.get("minutes") or 0)
        title = str(block.get("title") or "")
        blocks.append(
            Block(
                number=number,
                title=title,
                minutes=minutes,
                inputs=str(block.get("inputs") or ""),
                outputs=str(block.get("outputs") or ""),
                kind=block_kind(title),
                start_minute=start,
                end_minute=start + minutes,
                note=(session.notes or {}).get(title, ""),
            )
        )
        start += minutes
    return blocks


def block_titled(session: Session, title: str) -> str:
    """The agenda block a form names, or "" when it names none of this forum's blocks."""
    title = (title or "").strip()
    return title if any(block.title == title for block in agenda_blocks(session)) else ""


@dataclass
class AgendaPosition:
    """Where a running meeting stands against its agenda: time since it started, the block it
    should be in now (None before the first or after the last), and how far it is over time."""

    elapsed_seconds: int
    current: Block | None
    over_seconds: int

    @property
    def elapsed_minutes(self) -> int:
        return self.elapsed_seconds // 60


def agenda_position(blocks: list[Block], started_at, now=None) -> AgendaPosition:
    """The agenda position ``now`` (default: this moment) of a meeting started at ``started_at``.
    The page computes it again every second in the browser from the same numbers, so a reload
    never resets the clock."""
    now = now or timezone.now()
    elapsed = max(0, int((now - started_at).total_seconds()))
    current = next((b for b in blocks if b.start_minute * 60 <= elapsed < b.end_minute * 60), None)
    planned = blocks[-1].end_minute * 60 if blocks else 0
    return AgendaPosition(
        elapsed_seconds=elapsed, current=current, over_seconds=max(0, elapsed - planned) if blocks else 0
    )


# --- live inputs --------------------------------------------------------------------------------


@dataclass
class Figure:
    """A contract's latest figure as a forum reads it: value in its unit, level, evidence level,
    the change since the previous period, its required cuts (worst first) and the open signal."""

    contract: MetricContract
    period: datetime.date | None
    value_text: str
    level: str
    delta_text: str
    # True when the change is an improvement given the contract's direction; None: no change known.
    improved: bool | None
    cuts: list[dict] = field(default_factory=list)
    signal: Signal | None = None

    @property
    def cohorts(self) -> list[tuple[str, list[dict]]]:
        """The latest cuts by dimension, ``[("intent", [{"value": "billing", ...}, ...]), ...]``."""
        return _by_dimension(self.cuts)

    @property
    def cohorts_past_warning(self) -> list[tuple[str, list[dict]]]:
        return _by_dimension(
            [cut for cut in self.cuts if _rank(cut["level"]) >= LEVEL_RANK[SignalLevel.WARNING]]
        )

    @property
    def alarming(self) -> bool:
        """At warning or worse, for the whole population or a required cut."""
        worst = max([self.level, *(cut["level"] for cut in self.cuts)], key=_rank)
        return _rank(worst) >= LEVEL_RANK[SignalLevel.WARNING]

    @property
    def below_e3(self) -> bool:
        return below_decision_grade(self.contract.evidence_level)

    @property
    def level_label(self) -> str:
        return level_label(self.level)


def _by_dimension(cuts: list[dict]) -> list[tuple[str, list[dict]]]:
    by_dimension: dict[str, list[dict]] = defaultdict(list)
    for cut in sorted(cuts, key=lambda row: row["cut"]):
        dimension, _, value = cut["cut"].partition("=")
        by_dimension[dimension].append({**cut, "value": value})
    return list(by_dimension.items())


def _rank(level: str) -> int:
    return LEVEL_RANK.get(level, -1)


def level_label(level: str) -> str:
    """The level in words, in the reader's language; an unknown level as it is written."""
    return _level_labels_in(get_language()).get(level, level)


@functools.lru_cache(maxsize=16)
def _level_labels_in(language: str | None) -> dict[str, str]:
    # Translated once per language: a board names a level on every figure and cut it shows.
    return {value: str(label) for value, label in SignalLevel.choices}


@functools.lru_cache(maxsize=16)
def _points_in(language: str | None) -> str:
    return gettext("%(value)s pts")


def scope_capabilities(session: Session, user) -> list:
    """The forum's scope that this person may read (the whole organisation when it has none)."""
    scope = session.forum.scope_list()
    if not scope:
        return list(Capability.objects.visible_to(user).order_by("name"))
    return sorted((c for c in scope if can_view(user, c)), key=lambda c: c.name)


def _signed(text: str) -> str:
    # A difference that rounds to nothing reads as no change, not as "-0.0".
    return "±" + text[1:] if text.strip("+-0.,") == "" else text


def delta_text(contract: MetricContract, value: float | None) -> str:
    """A change as people say it: points for shares and percentages, the unit otherwise."""
    if value is None:
        return "—"
    if contract.unit.startswith("share"):
        return _points_in(get_language()) % {"value": _signed(f"{value * 100:+.1f}")}
    if contract.unit == "%":
        return _points_in(get_language()) % {"value": _signed(f"{value:+.1f}")}
    size = abs(value)
    number = f"{value:+,.0f}" if size >= 100 else f"{value:+.1f}" if size >= 10 else f"{value:+.3g}"
    return f"{_signed(number)} {contract.unit}".strip()


def _figures(contracts: list[MetricContract], signals: list, today: datetime.date) -> dict[str, list[Figure]]:
    """The figure of every contract, by block kind, from one Evaluation statement."""
    whole: dict[int, list[tuple]] = defaultdict(list)
    cuts: dict[tuple[int, datetime.date], list[tuple]] = defaultdict(list)
    rows = (
        Evaluation.objects.at_own_grain(contracts)
        .filter(period_start__gte=today - datetime.timedelta(days=FIGURE_WINDOW_DAYS))
        .order_by("contract_id", "period_start", "cut")
        .values_list("contract_id", "period_start", "cut", "value", "level")
    )
    for contract_id, period, cut, value, level in rows:
        if cut:
            cuts[(contract_id, period)].append((cut, value, level))
        elif value is not None:
            whole[contract_id].append((period, value, level))
    # Signals arrive worst first: the first one of a contract is the one to follow.
    worst_signal: dict[int, Signal] = {}
    for signal in signals:
        worst_signal.setdefault(signal.contract_id, signal)

    by_kind: dict[str, list[Figure]] = defaultdict(list)
    for contract in contracts:
        history = whole[contract.pk]
        latest = history[-1] if history else None
        previous = history[-2] if len(history) > 1 else None
        change = latest[1] - previous[1] if latest and previous else None
        change_text = delta_text(contract, change)
        improved = None
        if change and not change_text.startswith("±"):
            improved = (change > 0) == (contract.direction == Direction.HIGHER_IS_BETTER)
        latest_cuts = [
            {
                "cut": cut,
                "value_text": contract.format_value(value),
                "level": level,
                "level_label": level_label(level),
            }
            for cut, value, level in (cuts[(contract.pk, latest[0])] if latest else [])
        ]
        by_kind[CATEGORY_KIND[contract.category]].append(
            Figure(
                contract=contract,
                period=latest[0] if latest else None,
                value_text=contract.format_value(latest[1]) if latest else "—",
                level=latest[2] if latest else SignalLevel.INSUFFICIENT_DATA,
                delta_text=change_text,
                improved=improved,
                cuts=sorted(latest_cuts, key=lambda row: (-_rank(row["level"]), row["cut"])),
                signal=worst_signal.get(contract.pk),
            )
        )
    # The worst figures first: the forum starts where it must act.
    for figures in by_kind.values():
        figures.sort(key=lambda f: (not f.alarming, -_rank(f.level), f.contract.metric_id))
    return by_kind


@dataclass
class MeetingInputs:
    """Everything the agenda blocks show, loaded once for the page."""

    capabilities: list
    figures: dict[str, list[Figure]]
    signals: list
    incidents: list
    releases_awaiting: list
    releases_other: list
    # Releases awaiting approval that this person may approve now (the button is shown).
    approvable: set
    experiments: list
    actions_open: list
    actions_closed: list
    today: datetime.date

    @property
    def urgent_incidents(self) -> list:
        return [i for i in self.incidents if i.severity in URGENT_SEVERITIES]

    @property
    def signals_to_act_on(self) -> list:
        """Open signals at breach or stop: 7.1's "what signals require action?"."""
        return [s for s in self.signals if _rank(s.level) >= LEVEL_RANK[SignalLevel.BREACH]]

    @property
    def stuck_actions(self) -> list:
        """Blocked and overdue actions: the decision requests block asks the forum to unstick them."""
        return [a for a in self.actions_open if a.status == ActionStatus.BLOCKED or a.due_date < self.today]

    def for_block(self, kind: str) -> dict:
        """What one kind of agenda block shows."""
        if kind == "decisions":
            return {
                "releases": self.releases_awaiting,
                "incidents": self.urgent_incidents,
                "signals": self.signals_to_act_on,
                "actions": self.stuck_actions,
            }
        if kind in KIND_CATEGORY:
            return {
                "figures": self.figures.get(kind, []),
                "incidents": [i for i in self.incidents if INCIDENT_KIND.get(i.source) == kind],
            }
        if kind == "releases":
            return {
                "releases": self.releases_awaiting,
                "releases_other": self.releases_other,
                "experiments": self.experiments,
            }
        if kind == "actions":
            return {"actions": self.actions_open, "closed": self.actions_closed}
        return {}


def meeting_inputs(session: Session, *, user, today: datetime.date | None = None) -> MeetingInputs:
    """The live inputs of every agenda block of the session, for what this person may read.

    A fixed number of queries whatever the size of the portfolio: one each for contracts, their
    evaluations, open signals, incidents, releases, the releases awaiting this person's verdict,
    experiments, actions and their evidence.
    """
    today = today or timezone.localdate()
    capabilities = scope_capabilities(session, user)
    ids = [capability.pk for capability in capabilities]
    since = today - datetime.timedelta(days=RECENT_DAYS)

    contracts = list(
        MetricContract.objects.filter(
            capability_id__in=ids, status=ContractStatus.ACTIVE, category__in=list(KIND_CATEGORY.values())
        )
        .select_related("capability")
        .order_by("metric_id")
    )
    signals = sorted(
        Signal.objects.open()
        .filter(contract__capability_id__in=ids)
        .select_related("contract__capability", "action"),
        key=lambda s: (-_rank(s.level), s.contract.metric_id, s.cut),
    )
    incidents = list(
        Incident.objects.filter(capability_id__in=ids)
        .exclude(state=IncidentState.CLOSED)
        .select_related("capability")
        .order_by("severity", "-occurred_on", "readable_id")
    )
    releases = list(
        Release.objects.filter(capability_id__in=ids)
        .filter(
            Q(state__in=[*PENDING_STATES, *APPROVED_STATES, ReleaseState.CANARY])
            | Q(deployed_date__gte=since)
            | Q(planned_date__gte=since, state=ReleaseState.DRAFT)
        )
        .select_related("capability", "owner")
        .order_by("planned_date", "readable_id")
    )
    # The release calendar's own "pending my approval" rule, asked once for all of them.
    approvable = set(
        Release.objects.filter(capability_id__in=ids).awaiting_verdict_of(user).values_list("pk", flat=True)
    )
    experiments = list(
        Experiment.objects.filter(
            capability_id__in=ids, state__in=[ExperimentState.RUNNING, ExperimentState.READOUT]
        )
        .select_related("capability", "primary_metric", "owner")
        .order_by("planned_end_date", "readable_id")
    )
    actions = list(
        Action.objects.filter(capability_id__in=ids)
        .filter(~Q(status=ActionStatus.CLOSED) | Q(closed_at__date__gte=since))
        .select_related("capability", "owner", "reviewer", "escalated_to", "reopen_trigger")
        .prefetch_related(
            Prefetch(
                "evidence",
                queryset=ClosureEvidence.objects.select_related("submitted_by").order_by(
                    "-submitted_at", "-id"
                ),
            )
        )
        .order_by("due_date", "readable_id")
    )
    # What the forum acts on first: overdue, then blocked, then awaiting verification.
    open_actions = sorted(
        (a for a in actions if a.status != ActionStatus.CLOSED),
        key=lambda a: (
            a.due_date >= today,
            a.status != ActionStatus.BLOCKED,
            a.status != ActionStatus.AWAITING_VERIFICATION,
            a.due_date,
        ),
    )
    return MeetingInputs(
        capabilities=capabilities,
        figures=_figures(contracts, signals, today),
        signals=signals,
        incidents=incidents,
        releases_awaiting=[r for r in releases if r.state in PENDING_STATES],
        releases_other=[r for r in releases if r.state not in PENDING_STATES],
        approvable=approvable,
        experiments=experiments,
        actions_open=open_actions,
        actions_closed=sorted(
            (a for a in actions if a.status == ActionStatus.CLOSED), key=lambda a: a.closed_at, reverse=True
        ),
        today=today,
    )


def meeting_moves(action: Action, user) -> list[str]:
    """The moves this person may make on an action in the meeting (the server checks again)."""
    allowed = action.allowed_moves(user)
    return [move for move in ACTION_MOVE_OUTCOMES if move in allowed]


# --- the moves made in the meeting ----------------------------------------------------------


def _in_progress(session: Session) -> Session:
    """The session, row-locked, when the meeting is in progress (so a move cannot slip in while
    someone ends the meeting); refused otherwise."""
    fresh = lock(session)
    if fresh.state != SessionState.IN_PROGRESS:
        raise TransitionNotAllowed(
            gettext("The meeting is %(state)s: decisions and actions are recorded while it is in progress.")
            % {"state": fresh.get_state_display().lower()},
            field="state",
        )
    return fresh


def _running(session: Session, by) -> Session:
    """The forum's own records (its decisions, the actions it raises) are made by the people who
    run it, while the meeting is in progress."""
    session.forum.require_change(by)
    return _in_progress(session)


def in_scope(session: Session, capability_id: int | None, user=None) -> bool:
    """Whether a record of this capability belongs to the forum (its scope, or anything when it
    has none) and, given a person, whether they may read it."""
    scope = session.forum.scope_list()
    if scope and capability_id not in {capability.pk for capability in scope}:
        return False
    return user is None or can_view(user, capability_id)


def _check_scope(session: Session, capability_id: int | None, *, field: str) -> None:
    if not in_scope(session, capability_id):
        raise DomainError(gettext("This record is not in the forum's scope."), field=field)


def session_decision_outcome(*, session: Session, decision, by, agenda_block: str = "") -> SessionOutcome:
    """Keep a decision the forum took in this session among its outcomes (the minutes list
    them): decisions taken in the meeting, on a value memo or on a scorecard row alike."""
    return _outcome(
        session,
        kind=OutcomeKind.DECISION_RECORDED,
        reference=decision.readable_id,
        summary=f"{decision.get_type_display()}: {decision.decision}",
        block=agenda_block,
        by=by,
    )


def _outcome(session: Session, *, kind: str, reference: str, summary: str, block: str, by) -> SessionOutcome:
    return SessionOutcome.objects.create(
        session=session,
        kind=kind,
        reference=reference,
        summary=summary,
        agenda_block=block_titled(session, block),
        recorded_by=by,
    )


@transaction.atomic
def meeting_decision_record(
    *,
    session: Session,
    by,
    capability,
    type: str,
    decision: str,
    owner,
    options_considered: str = "",
    evidence=(),
    review_trigger: str = "",
    review_date=None,
    agenda_block: str = "",
):
    """Record a decision the forum took in the meeting, in the decision log, linked to the session.

    The forum takes only the decision types it was set up for (playbook 6.1: every recurring
    forum has a decision type); the decision log checks the rest (its RACI letters, the owner,
    the evidence ids)."""
    fresh = _running(session, by)
    if capability is None:
        raise DomainError(gettext("Choose the capability the decision is about."), field="capability")
    _check_scope(session, capability.pk, field="capability")
    if type not in session.forum.decision_types:
        if not session.forum.decision_types:
            message = gettext("This forum has no decision types yet: set them on the forum first.")
        else:
            message = gettext("This forum takes these decision types only: %(types)s.") % {
                "types": ", ".join(session.forum.decision_type_labels())
            }
        raise DomainError(message, field="type")
    record = decision_record(
        capability=capability,
        by=by,
        type=type,
        decision=decision,
        options_considered=options_considered,
        owner=owner,
        evidence=evidence,
        review_trigger=review_trigger,
        review_date=review_date,
        forum_session=session,
        # The log dates a forum's decision on the day of its meeting, in the organisation's zone.
        decided_on=fresh.meeting_day,
    )
    session_decision_outcome(session=session, decision=record, by=by, agenda_block=agenda_block)
    return record


@transaction.atomic
def meeting_action_create(
    *,
    session: Session,
    by,
    capability,
    action: str,
    owner,
    due_date,
    closure_criterion: str,
    reviewer=None,
    source_signal: str = "",
    reopen_trigger=None,
    agenda_block: str = "",
) -> Action:
    """Raise an action in the meeting: the action register's own rules (owner, due date and
    closure criterion required; a reviewer who is not the owner), with the session as its source."""
    _running(session, by)
    if capability is not None:
        _check_scope(session, capability.pk, field="capability")
    row = action_create(
        capability=capability,
        by=by,
        action=action,
        owner=owner,
        due_date=due_date,
        closure_criterion=closure_criterion,
        reviewer=reviewer,
        source=session,
        source_kind=SourceKind.FORUM_SESSION,
        source_signal=source_signal,
        forum=session,
        reopen_trigger=reopen_trigger,
    )
    _outcome(
        session,
        kind=OutcomeKind.ACTION_CREATED,
        reference=row.readable_id,
        summary=gettext("%(action)s — owner %(owner)s, due %(due)s")
        % {"action": row.action, "owner": person_name(row.owner), "due": row.due_date.isoformat()},
        block=agenda_block,
        by=by,
    )
    return row


def _move_summary(action: Action, move: str, inputs: dict) -> str:
    """What the minutes say about a move, in one line."""
    if move == "verify":
        return gettext("%(action)s — closed with evidence verified") % {"action": action.action}
    if move == "submit_evidence":
        return gettext("%(action)s — closure evidence submitted: %(evidence)s") % {
            "action": action.action,
            "evidence": inputs.get("text", ""),
        }
    if move == "escalate":
        return gettext("%(action)s — escalated to %(person)s: %(reason)s") % {
            "action": action.action,
            "person": person_name(inputs.get("to")),
            "reason": inputs.get("reason", ""),
        }
    detail = inputs.get("reason") or inputs.get("comment") or ""
    return f"{action.action} — {detail}" if detail else action.action


@transaction.atomic
def meeting_action_move(*, session: Session, by, action: Action, move: str, agenda_block: str = "", **inputs):
    """Move an action in the meeting (close with evidence, submit evidence, send back, reopen,
    escalate, block) through the action's own method. Who may is the register's rule, not the
    forum's: the named reviewer verifies, the owner submits evidence, whoever attends; the
    session keeps the outcome."""
    if move not in ACTION_MOVE_OUTCOMES:
        raise DomainError(gettext("This move is made on the action's own page."), field="move")
    _in_progress(session)
    _check_scope(session, action.capability_id, field="action")
    result = getattr(action, move)(by=by, **inputs)
    _outcome(
        session,
        kind=ACTION_MOVE_OUTCOMES[move],
        reference=action.readable_id,
        summary=_move_summary(action, move, inputs),
        block=agenda_block,
        by=by,
    )
    return result


@transaction.atomic
def meeting_release_approve(*, session: Session, by, release: Release, comment: str, agenda_block: str = ""):
    """Approve a release decision request in the meeting, by a person who holds that right
    (``Release.approve`` checks the approver rules and logs the release approval decision). A
    risk partner who attends approves here without running the forum."""
    _in_progress(session)
    _check_scope(session, release.capability_id, field="release")
    approval = release.approve(by=by, comment=comment)
    summary = gettext("%(release)s — approved by %(person)s (%(state)s): %(comment)s") % {
        "release": release.change,
        "person": person_name(by),
        "state": release.get_state_display().lower(),
        "comment": approval.comment,
    }
    if approval.decision_id:
        summary += f" ({approval.decision.readable_id})"
    _outcome(
        session,
        kind=OutcomeKind.RELEASE_APPROVED,
        reference=release.readable_id,
        summary=summary,
        block=agenda_block,
        by=by,
    )
    return approval


# --- the session's own moves: start, attendance, notes, end, minutes ----------------------------


@transaction.atomic
def meeting_start(*, session: Session, by) -> Session:
    """Start the meeting: the clock runs from now, and everyone the forum expects is listed for
    attendance — absent until ticked present, the person starting it present."""
    session.start(by=by)
    existing = set(session.attendance_rows.values_list("user_id", flat=True))
    SessionAttendance.objects.bulk_create(
        [
            SessionAttendance(
                session=session,
                user=person,
                status=Attendance.PRESENT if by is not None and person.pk == by.pk else Attendance.ABSENT,
            )
            for person in _expected(session, by)
            if person.pk not in existing
        ]
    )
    return session


def _expected(session: Session, by=None) -> list:
    people = {person.pk: person for person in session_attendees(session)}
    if by is not None:
        people.setdefault(by.pk, by)
    return sorted(people.values(), key=_name_key)


def _name_key(person) -> str:
    return (person.get_full_name() or person.get_username()).lower()


def _editable(session: Session, by) -> Session:
    """Attendance and notes may be corrected from the start until the minutes are published."""
    session.forum.require_change(by)
    fresh = lock(session)
    if fresh.state not in (SessionState.IN_PROGRESS, SessionState.HELD):
        raise TransitionNotAllowed(
            gettext(
                "Attendance and notes are kept from the start of the meeting until the minutes are published."
            ),
            field="state",
        )
    return fresh


def attendance_rows(session: Session) -> list[SessionAttendance]:
    """Everyone expected or recorded at the session, with their attendance (name order)."""
    rows = {row.user_id: row for row in session.attendance_rows.select_related("user")}
    for person in session_attendees(session):
        rows.setdefault(person.pk, SessionAttendance(session=session, user=person, status=Attendance.ABSENT))
    return sorted(rows.values(), key=lambda row: _name_key(row.user))


@transaction.atomic
def meeting_attendance_set(*, session: Session, by, present) -> list[SessionAttendance]:
    """Record who is present; everyone else expected or listed is absent."""
    fresh = _editable(session, by)
    present_ids = {int(pk) for pk in present}
    rows = attendance_rows(fresh)
    unknown = present_ids - {row.user_id for row in rows}
    if unknown:
        raise DomainError(gettext("Only the forum's attendees are recorded here."), field="present")
    for row in rows:
        status = Attendance.PRESENT if row.user_id in present_ids else Attendance.ABSENT
        if row.pk is None or row.status != status:
            row.status = status
            row.save()
    return rows


@transaction.atomic
def meeting_note_save(*, session: Session, by, block: str, text: str) -> Session:
    """Keep the notes of one agenda block (the others stay as they are)."""
    fresh = _editable(session, by)
    title = block_titled(fresh, block)
    if not title:
        raise DomainError(gettext("Notes are kept per agenda block: choose one."), field="block")
    notes = dict(fresh.notes or {})
    text = (text or "").strip()
    if text:
        notes[title] = text
    else:
        notes.pop(title, None)
    session_update(session=fresh, by=by, notes=notes)
    session.notes = fresh.notes
    return session


@transaction.atomic
def session_end(*, session: Session, by) -> Session:
    """End the meeting: the clock stops; attendance and notes may still be corrected."""
    return session.end_meeting(by=by)


def minutes_build(session: Session) -> dict:
    """The minutes as plain data, built from the session's outcomes: decisions (id, type, text,
    owner), actions created, closed, reopened, escalated or blocked (id, text, owner, due),
    releases approved, attendance and the notes per agenda block."""
    from decisions.models import Decision

    outcomes = list(session.outcomes.all())
    decision_ids = [o.reference for o in outcomes if o.kind == OutcomeKind.DECISION_RECORDED]
    action_ids = {o.reference for o in outcomes if o.kind in ACTION_OUTCOME_KINDS}
    decisions = {
        d.readable_id: d
        for d in Decision.objects.filter(readable_id__in=decision_ids).select_related("owner", "capability")
    }
    actions = {
        a.readable_id: a for a in Action.objects.filter(readable_id__in=action_ids).select_related("owner")
    }
    minutes_decisions, minutes_actions, minutes_releases = [], [], []
    for outcome in outcomes:
        if outcome.kind == OutcomeKind.DECISION_RECORDED and outcome.reference in decisions:
            record = decisions[outcome.reference]
            minutes_decisions.append(
                {
                    "id": record.readable_id,
                    "type": record.type,
                    "type_label": str(record.get_type_display()),
                    "decision": record.decision,
                    "owner": person_name(record.owner),
                    "capability": record.capability.name,
                    "agenda_block": outcome.agenda_block,
                    "url": record.get_absolute_url(),
                }
            )
        elif outcome.kind in ACTION_OUTCOME_KINDS and outcome.reference in actions:
            action = actions[outcome.reference]
            minutes_actions.append(
                {
                    "id": action.readable_id,
                    "event": outcome.kind,
                    "event_label": str(outcome.get_kind_display()),
                    "action": action.action,
                    "owner": person_name(action.owner),
                    "due_date": local_iso(action.due_date),
                    "summary": outcome.summary,
                    "agenda_block": outcome.agenda_block,
                    "url": action.get_absolute_url(),
                }
            )
        elif outcome.kind == OutcomeKind.RELEASE_APPROVED:
            minutes_releases.append(
                {
                    "id": outcome.reference,
                    "summary": outcome.summary,
                    "agenda_block": outcome.agenda_block,
                    "url": outcome_url(outcome),
                }
            )
    return {
        "version": MINUTES_VERSION,
        "forum": session.forum.name,
        "session_at": local_iso(session.scheduled_at),
        "started_at": local_iso(session.started_at),
        "ended_at": local_iso(session.ended_at),
        "decision_requested": session.decision_requested,
        "decisions": minutes_decisions,
        "actions": minutes_actions,
        "releases": minutes_releases,
        "attendance": [
            {
                "name": person_name(row.user),
                "username": row.user.get_username(),
                "status": row.status,
                "status_label": str(row.get_status_display()),
            }
            for row in attendance_rows(session)
        ],
        "notes": [{"block": b.title, "text": b.note} for b in agenda_blocks(session) if b.note],
    }


def minutes_text(minutes: dict) -> str:
    """The minutes as the e-mail body the attendees receive."""
    lines = [
        gettext("Minutes of %(forum)s, %(when)s")
        % {"forum": minutes["forum"], "when": minutes["session_at"]},
        "",
    ]
    if minutes.get("decision_requested"):
        lines += [gettext("Decision requested: %(text)s") % {"text": minutes["decision_requested"]}, ""]
    lines.append(gettext("Decisions"))
    lines += [
        f"- {d['id']} ({d['type_label']}): {d['decision']} — {gettext('owner')} {d['owner']}"
        for d in minutes["decisions"]
    ] or ["- " + gettext("none")]
    lines += ["", gettext("Actions")]
    lines += [
        f"- {a['id']} [{a['event_label']}] {a['action']} — {gettext('owner')} {a['owner']}, "
        f"{gettext('due')} {a['due_date']}"
        for a in minutes["actions"]
    ] or ["- " + gettext("none")]
    if minutes.get("releases"):
        lines += ["", gettext("Releases approved")]
        lines += [f"- {r['id']}: {r['summary']}" for r in minutes["releases"]]
    lines += ["", gettext("Attendance")]
    lines += [f"- {p['name']}: {p['status_label']}" for p in minutes["attendance"]] or [
        "- " + gettext("none")
    ]
    if minutes.get("notes"):
        lines += ["", gettext("Notes")]
        for note in minutes["notes"]:
            lines += [f"{note['block']}:", note["text"], ""]
    return "\n".join(lines).rstrip() + "\n"


def minutes_recipients(session: Session) -> list:
    """Who receives the minutes: everyone the forum expects and everyone on the attendance list,
    absent or not (those who missed the meeting need its decisions most)."""
    recipients = {person.pk: person for person in session_attendees(session)}
    for row in session.attendance_rows.select_related("user"):
        recipients.setdefault(row.user_id, row.user)
    return sorted(recipients.values(), key=_name_key)


@transaction.atomic
def session_publish_minutes(*, session: Session, by) -> Session:
    """Publish the minutes of a held session: freeze them on the session (what the attendees
    received) and tell each attendee once. A second publication is refused by the state machine,
    so nobody is told twice."""
    session.forum.require_change(by)
    fresh = lock(session)
    if fresh.state != SessionState.HELD:
        raise TransitionNotAllowed(
            gettext("Minutes are published once, after the meeting has ended (it is %(state)s).")
            % {"state": fresh.get_state_display().lower()},
            field="state",
        )
    fresh.publish_minutes(by=by)
    minutes = minutes_build(fresh)
    minutes["published_at"] = local_iso(fresh.minutes_published_at)
    minutes["published_by"] = person_name(by)
    recipients = minutes_recipients(fresh)
    minutes["recipients"] = len(recipients)
    fresh.minutes = minutes
    fresh._change_reason = "minutes published"
    fresh.save(update_fields=["minutes", "updated_at"])
    notify(
        recipients=recipients,
        subject=gettext("Minutes: %(session)s") % {"session": fresh},
        body=minutes_text(minutes),
        url=fresh.get_absolute_url(),
    )
    minutes_published.send(sender=Session, session=fresh)
    for name in ("state", "minutes_published_at", "minutes"):
        setattr(session, name, getattr(fresh, name))
    return session


# The session's state moves as the pages and the API make them: starting lists the attendance,
# publishing freezes the minutes and tells the attendees; "pack sent" is reached only by sending
# the pack (built if needed, one delivery per attendee), never by a bare change of state.
def _send_pack(*, session: Session, by) -> Session:
    from forums.pack_delivery import pack_send

    pack_send(session=session, by=by)
    session.refresh_from_db(fields=["state", "updated_at"])
    return session


SESSION_MOVES = {
    "mark_pack_sent": _send_pack,
    "start": meeting_start,
    "end_meeting": session_end,
    "publish_minutes": session_publish_minutes,
}


def session_move(*, session: Session, by, move: str) -> Session:
    """Make one move of the session's state machine, with what goes with it."""
    if move not in SESSION_MOVES:
        raise DomainError(gettext("Unknown move."), field="move")
    return SESSION_MOVES[move](session=session, by=by)
