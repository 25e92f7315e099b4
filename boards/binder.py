"""The evidence binder (playbook 18.1 "Evidence Binder View": trace from metric to source,
decision, action closure): everything behind one figure of one contract, read for an auditor.

From the figure — a contract, optionally a cohort cut and a period — to:

- the contract itself: its definition, population, owners, thresholds with their action rules,
  guardrails, evidence level, source and trace fields, reviews, and the decisions that changed
  its definition;
- the evaluated figure and the recent evaluations of that cut, with their levels;
- the observations that were pooled into the figure, summarised by ingest source and version set
  (counts, sample, when ingested), and the figure recomputed from them, so the number can be
  reconciled with its source;
- the signals the thresholds raised, the actions they opened with their age and closure evidence
  (verified or not, by whom, when);
- the decisions that cite the contract, its signals or its actions as evidence; the releases
  whose markers stand on the trend and whose impact reviews judged the contract; the experiments
  that name it; the incidents whose learning changed it.

A fixed number of statements whatever the size of the history (``evidence_binder``): one per kind
of thing, with short lists (the most recent first) rather than everything ever recorded.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from actions.choices import ActionStatus, EvidenceVerdict
from actions.models import Action, ClosureEvidence
from contracts.charts import Threshold, contract_thresholds, parse_cut
from contracts.choices import Grain
from contracts.models import Evaluation, MetricContract, Observation, Signal, StopHold
from contracts.periods import FEEDING_GRAINS, describe_period, period_start_of, shift_period
from decisions.choices import DecisionType
from decisions.models import Decision, EvidenceLink
from experiments.models import Experiment
from incidents.models import Incident
from productops.permissions import visible_capability_ids
from productops.reads import loaded, loaded_values, placeholders, raw_instances
from releases.models import ImpactReview, Release

# How much of the history the binder lists: enough to read the story around a figure.
EVALUATION_PERIODS = 12
MAX_SOURCE_ROWS = 15
MAX_SIGNALS = 30
MAX_DECISIONS = 30
MAX_RELEASES = 12
MAX_INCIDENTS = 12
SPAN_MONTH = "month"


# The binder reads with hand-written SQL: its short lists through ``Model.objects.raw`` (model
# instances, so the pages keep the models' own links and words), the observations' sums and
# groups on a cursor. Each statement is a plain filter on indexed columns, and building and
# compiling it through the ORM took four to five times the statement's own time (0.5-0.7 ms
# against 0.1-0.2 ms a statement on the bench binder). Parameters always go through the driver
# (``%s``); only placeholders are formatted in. boards/tests/test_evidence_binder*.py pin what
# each statement must find and leave out.


def _person_columns(alias: str, prefix: str) -> str:
    """The columns of a person the binder names (``productops.formats.person_name``), from the
    user row ``alias``, as ``<prefix>_first_name``, ``..._last_name``, ``..._username``."""
    return ", ".join(f"{alias}.{name} AS {prefix}_{name}" for name in ("first_name", "last_name", "username"))


def _decision_named(db: str, pk, readable_id):
    """The decision a row names by id and readable id (a record, a successor); None for none."""
    return None if pk is None else loaded(Decision, db, id=pk, readable_id=readable_id)


def _within(alias: str, visible) -> tuple[str, list]:
    """The condition keeping rows of ``alias`` to the capabilities the reader may see (none when
    they see every one), and its parameters."""
    if visible is None:
        return "", []
    return f"AND {alias}.capability_id IN ({placeholders(visible)})", list(visible)


def _person(row, prefix: str, pk):
    """The person ``_person_columns(..., prefix)`` read on ``row``; None for nobody."""
    if pk is None:
        return None
    return loaded(
        get_user_model(),
        row._state.db,
        id=pk,
        first_name=getattr(row, f"{prefix}_first_name"),
        last_name=getattr(row, f"{prefix}_last_name"),
        username=getattr(row, f"{prefix}_username"),
    )


@dataclass
class SourceRow:
    """Observations of the figure from one ingest source and one version set."""

    source: str
    version_key: str
    observations: int
    sample: int
    first_period: datetime.date
    last_period: datetime.date
    first_ingested: datetime.datetime
    last_ingested: datetime.datetime
    # The CSV import these rows came from (its file name is their source), when there is one.
    import_job_id: int | None = None

    @property
    def versions(self) -> str:
        return self.version_key.replace("|", ", ")


@dataclass
class Observed:
    """The observations pooled into the figure, as the evaluation job pools them."""

    observations: int = 0
    sample: int = 0
    value: float | None = None
    sources: int = 0
    versions: int = 0
    first_ingested: datetime.datetime | None = None
    last_ingested: datetime.datetime | None = None
    rows: list[SourceRow] = field(default_factory=list)
    # Source/version groups found, counted up to one past the rows shown ("more than").
    sources_versions: int = 0

    @property
    def more_groups(self) -> bool:
        return self.sources_versions > len(self.rows)


@dataclass
class ActionTrace:
    """An action the contract's signals raised: its age and the evidence its closure rests on."""

    action: Action
    evidence: list[ClosureEvidence]
    age_days: int
    signal_ids: list[int]

    @property
    def verified(self) -> ClosureEvidence | None:
        """The accepted evidence of a closed action (closure quality: verified)."""
        if self.action.status != ActionStatus.CLOSED:
            return None
        return next((item for item in self.evidence if item.verdict == EvidenceVerdict.ACCEPTED), None)

    @property
    def closure_quality(self) -> str:
        """``verified`` (closed on accepted evidence), ``unverified`` (closed without it),
        ``awaiting`` (evidence waits for its reviewer) or ``open``."""
        if self.action.status == ActionStatus.CLOSED:
            return "verified" if self.verified else "unverified"
        if self.action.status == ActionStatus.AWAITING_VERIFICATION:
            return "awaiting"
        return "open"


@dataclass
class DecisionTrace:
    """A decision of the log and what of this binder it cites as evidence."""

    decision: Decision
    cites: list[tuple[EvidenceLink, str]]  # each link with the page of what it names
    successor: Decision | None = None  # the decision that superseded it (its readable id loaded)

    @property
    def is_definition_change(self) -> bool:
        return self.decision.type == DecisionType.METRIC_DEFINITION_CHANGE


@dataclass
class ReleaseTrace:
    """A release of the capability: deployed within the trend (its marker stands on the chart)
    and/or judged this contract in its post-release impact review."""

    release: Release
    review: ImpactReview | None
    figure: dict | None  # the review's kept figure of this contract (impact_figures' entry)
    regressed: bool


@dataclass
class Binder:
    contract: MetricContract
    cut: str
    cut_error: str
    # "" the contract's own period (a figure an evaluation holds); "month" a calendar month of a
    # daily or weekly contract, pooled from its observations as the monthly value review pools it.
    span: str
    period: datetime.date | None
    period_end: datetime.date | None
    period_label: str
    period_error: str
    thresholds: list[Threshold]
    guardrails: list[MetricContract]
    guarded: list[MetricContract]
    figure: Evaluation | None
    evaluations: list[Evaluation]
    observed: Observed
    signals: list[Signal]
    stop_holds: dict[int, list[StopHold]]  # by signal id
    actions: list[ActionTrace]
    decisions: list[DecisionTrace]
    definition_changes: list[DecisionTrace]
    releases: list[ReleaseTrace]
    experiments: list[Experiment]
    incidents: list[Incident]
    today: datetime.date

    @property
    def span_grain(self) -> str:
        """The grain of the period the binder is about."""
        return Grain.MONTH if self.span == SPAN_MONTH else self.contract.grain

    def in_period(self, day: datetime.date) -> bool:
        return self.period is not None and self.period <= day <= self.period_end

    @property
    def reconciles(self) -> bool | None:
        """Does the figure equal the value recomputed from its observations? None when there is
        nothing to compare (no evaluated value or no observations)."""
        if self.figure is None or self.figure.value is None or self.observed.value is None:
            return None
        return math.isclose(self.figure.value, self.observed.value, rel_tol=1e-9, abs_tol=1e-12)

    @property
    def ingested_after_evaluation(self) -> bool:
        """Observations of the figure arrived after it was evaluated (the job has not re-run)."""
        return bool(
            self.figure is not None
            and self.observed.last_ingested is not None
            and self.observed.last_ingested > self.figure.evaluated_at
        )


def _period(grain, period, today) -> tuple[datetime.date | None, str]:
    """The period the binder is about: the one at ``grain`` containing ``period`` (a date or
    ISO text); an unreadable date, or one after today (no figure can exist yet, and the calendar
    ends at 9999), is named as the error and the latest period shown instead."""
    if not period:
        return None, ""
    text = str(period).strip()
    if isinstance(period, str):
        try:
            period = datetime.date.fromisoformat(text[:10])
        except ValueError:
            return None, _("period: “%(value)s” is not a date (YYYY-MM-DD); showing the latest period.") % {
                "value": text
            }
    if period > today:
        return None, _("period: “%(value)s” is after today; showing the latest period.") % {"value": text}
    return period_start_of(period, grain), ""


def _cut_message(contract, requested: str, cut_filter: dict, has_data) -> str:
    """What the page says about the cut asked for: the parts it ignored (no cohort dimension of
    the contract), a cut the evaluation job does not evaluate (its figure is recomputed from the
    observations only), or a cut with no data at all; "" when the cut is as evaluated."""
    if not requested:
        return ""
    kept = {f"{key}={value}" for key, value in cut_filter.items()}
    ignored = [
        part.strip() for part in requested.split("|") if part.strip() and not parse_cut(contract, part)
    ]
    dimensions = ", ".join(contract.cohort_dimensions or []) or "—"
    if ignored and not cut_filter:
        return _(
            "cut: “%(cut)s” names no cohort dimension of this contract (%(dimensions)s); showing the "
            "whole population."
        ) % {"cut": requested, "dimensions": dimensions}
    if ignored:
        return _(
            "cut: “%(ignored)s” names no cohort dimension of this contract (%(dimensions)s) and is "
            "ignored; showing the rest of the cut."
        ) % {"ignored": "|".join(ignored), "dimensions": dimensions}
    if not has_data():
        return _("cut: no observation or evaluation of this contract has “%(cut)s”.") % {
            "cut": "|".join(sorted(kept))
        }
    if len(cut_filter) > 1 or not set(cut_filter) <= set(contract.required_cuts or []):
        return _(
            "cut: “%(cut)s” is not a cut the contract is evaluated by (%(required)s): no evaluated "
            "figure, no signal; the value below is recomputed from its observations."
        ) % {"cut": "|".join(sorted(kept)), "required": ", ".join(contract.required_cuts or []) or "—"}
    return ""


def _cut_has_data(contract, cut_text: str, evaluations, observed: Observed) -> bool:
    """Has the cut any data: evaluations or observations of the figure's period, else (one more
    statement, only then) an evaluation or observation in any period."""
    if evaluations or observed.observations:
        return True
    if Evaluation.objects.filter(contract=contract, cut=cut_text).exists():
        return True
    where, params = _observations(contract, parse_cut(contract, cut_text), None, None)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT 1 FROM contracts_observation o WHERE {where} LIMIT 1", params)
        return cursor.fetchone() is not None


def _related_contracts(contract) -> tuple[list, list]:
    """(its guardrail contracts, the contracts it is a guardrail of) in one statement: the
    guardrail links naming it at either end, with the other end's id, metric id and name (the
    binder lists and links them, nothing more)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT g.from_metriccontract_id, g.to_metriccontract_id, t.metric_id, t.name, f.metric_id, f.name "
            "FROM contracts_metriccontract_guardrails g "
            "INNER JOIN contracts_metriccontract f ON f.id = g.from_metriccontract_id "
            "INNER JOIN contracts_metriccontract t ON t.id = g.to_metriccontract_id "
            "WHERE g.from_metriccontract_id = %s OR g.to_metriccontract_id = %s",
            [contract.pk, contract.pk],
        )
        rows = cursor.fetchall()
    guardrails, guarded = [], []
    for from_id, to_id, to_metric, to_name, from_metric, from_name in rows:
        if from_id == contract.pk:
            guardrails.append(
                loaded(MetricContract, contract._state.db, id=to_id, metric_id=to_metric, name=to_name)
            )
        if to_id == contract.pk:
            guarded.append(
                loaded(MetricContract, contract._state.db, id=from_id, metric_id=from_metric, name=from_name)
            )
    return sorted(guardrails, key=_by_metric_id), sorted(guarded, key=_by_metric_id)


def _by_metric_id(contract) -> str:
    return contract.metric_id


def _evaluations(contract, cut: str, before) -> list[Evaluation]:
    """The evaluations of the cut at the contract's grain, of periods starting before ``before``
    (the end of the binder's period; all when None), latest first."""
    before_sql = "AND period_start < %s" if before is not None else ""
    params = [contract.pk, contract.grain, cut] + ([before] if before is not None else [])
    return list(
        raw_instances(
            Evaluation,
            "SELECT id, contract_id, period_start, grain, cut, value, sample_size, raw_level, level, "
            "threshold_crossed, evaluated_at FROM contracts_evaluation "
            f"WHERE contract_id = %s AND grain = %s AND cut = %s {before_sql} "
            f"ORDER BY period_start DESC LIMIT {EVALUATION_PERIODS}",
            params,
        )
    )


def _observations(contract, cut_filter: dict, period, period_end) -> tuple[str, list]:
    """The observations the evaluation job pools into the figure, as a WHERE clause on
    ``contracts_observation o`` and its parameters: the feeding grains, the period (all periods
    when none), the cut's cohort values compared as text, as its SQL does."""
    grains = FEEDING_GRAINS.get(contract.grain, [contract.grain])
    where = [f"o.contract_id = %s AND o.grain IN ({placeholders(grains)})"]
    params = [contract.pk, *grains]
    if period is not None:
        where.append("o.period_start >= %s AND o.period_start < %s")
        params += [period, period_end]
    for dimension, value in cut_filter.items():
        if connection.vendor == "postgresql":
            where.append("(o.cohort ->> %s) = %s")
        else:
            where.append("CAST(json_extract(o.cohort, '$.' || %s) AS TEXT) = %s")
        params += [dimension, value]
    return " AND ".join(where), params


def _pooled(contract, numerator, denominator, weighted, sample) -> float | None:
    """The figure from its sums, as ``contracts.evaluation`` computes it."""
    if contract.is_ratio and numerator is not None and denominator:
        return numerator / denominator
    if sample:
        return weighted / sample if weighted is not None else None
    return None


def _observed(contract, cut_filter: dict, period, period_end) -> Observed:
    """The observations pooled into the figure: their totals, and the largest (source, version
    set) groups, each with the CSV import it came from (two statements)."""
    where, params = _observations(contract, cut_filter, period, period_end)
    period_field = Observation._meta.get_field("period_start")
    ingested_field = Observation._meta.get_field("ingested_at")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), SUM(o.sample_size), "
            "SUM(CASE WHEN o.denominator IS NOT NULL THEN o.numerator END), "
            "SUM(CASE WHEN o.numerator IS NOT NULL THEN o.denominator END), "
            "SUM(o.value * o.sample_size), COUNT(DISTINCT o.source), COUNT(DISTINCT o.version_key), "
            f"MIN(o.ingested_at), MAX(o.ingested_at) FROM contracts_observation o WHERE {where}",
            params,
        )
        count, sample, numerator, denominator, weighted, sources, versions, first, last = loaded_values(
            cursor.fetchone(), [None] * 7 + [ingested_field] * 2
        )
        # A CSV import's rows carry its file name as their source: the latest import of that name.
        cursor.execute(
            "SELECT o.source, o.version_key, COUNT(*), SUM(o.sample_size) AS sample, MIN(o.period_start), "
            "MAX(o.period_start), MIN(o.ingested_at), MAX(o.ingested_at), "
            "(SELECT j.id FROM contracts_importjob j WHERE j.capability_id = %s AND j.original_name = o.source "
            "ORDER BY j.created_at DESC, j.id DESC LIMIT 1) "
            f"FROM contracts_observation o WHERE {where} GROUP BY o.source, o.version_key "
            f"ORDER BY sample DESC, o.source, o.version_key LIMIT {MAX_SOURCE_ROWS + 1}",
            [contract.capability_id, *params],
        )
        fields = [None, None, None, None, period_field, period_field, ingested_field, ingested_field, None]
        group_rows = [SourceRow(*loaded_values(row, fields)) for row in cursor.fetchall()]
    for row in group_rows:
        if not row.source:
            row.import_job_id = None
    observed = Observed(
        observations=count or 0,
        sample=sample or 0,
        value=_pooled(contract, numerator, denominator, weighted, sample),
        sources=sources or 0,
        versions=versions or 0,
        first_ingested=first,
        last_ingested=last,
        rows=group_rows[:MAX_SOURCE_ROWS],
    )
    # The number of (source, version) groups is only known past the cap as "more than".
    observed.sources_versions = len(group_rows)
    return observed


def _signals(contract, cut: str) -> list[Signal]:
    """The signals of the cut (every cut's for the whole population), latest first, with the
    readable id of the action each opened: the columns the binder shows."""
    cut_sql = "AND s.cut = %s" if cut else ""
    signals = list(
        raw_instances(
            Signal,
            "SELECT s.id, s.cut, s.level, s.worst_level, s.opened_period, s.last_period, "
            "s.resolved_period, s.observed_value, s.action_id, a.readable_id AS action_readable_id "
            "FROM contracts_signal s LEFT OUTER JOIN actions_action a ON a.id = s.action_id "
            f"WHERE s.contract_id = %s {cut_sql} "
            f"ORDER BY s.opened_period DESC, s.id DESC LIMIT {MAX_SIGNALS}",
            [contract.pk, cut] if cut else [contract.pk],
        )
    )
    for signal in signals:
        if signal.action_id is not None:
            signal.action = loaded(
                Action, signal._state.db, id=signal.action_id, readable_id=signal.action_readable_id
            )
    return signals


def _stop_holds(signals: list[Signal]) -> dict[int, list[StopHold]]:
    """The stop holds each signal's stop rule put on releases (lifted or in force, oldest
    first), by signal id, with who lifted each."""
    if not signals:
        return {}
    holds: dict[int, list[StopHold]] = {}
    signal_ids = [signal.pk for signal in signals]
    rows = raw_instances(
        StopHold,
        f"SELECT h.id, h.signal_id, h.lifted_at, h.lifted_by_id, {_person_columns('u', 'lifted_by')} "
        "FROM contracts_stophold h LEFT OUTER JOIN productops_user u ON u.id = h.lifted_by_id "
        f"WHERE h.signal_id IN ({placeholders(signal_ids)}) ORDER BY h.id",
        signal_ids,
    )
    for hold in rows:
        hold.lifted_by = _person(hold, "lifted_by", hold.lifted_by_id)
        holds.setdefault(hold.signal_id, []).append(hold)
    return holds


def _actions(contract, signals: list[Signal], today) -> list[ActionTrace]:
    """The actions the signals opened (by the signal's link or the action's source), and any
    action whose source is the contract itself, with their closure evidence (two statements)."""
    signal_ct = ContentType.objects.get_for_model(Signal)
    contract_ct = ContentType.objects.get_for_model(MetricContract)
    signal_ids = [signal.pk for signal in signals]
    raised_by: dict[int, list[int]] = {}
    for signal in signals:
        if signal.action_id:
            raised_by.setdefault(signal.action_id, []).append(signal.pk)
    actions = list(
        raw_instances(
            Action,
            "SELECT a.id, a.readable_id, a.action, a.closure_criterion, a.status, a.times_reopened, "
            "a.due_date, a.created_at, a.closed_at, a.source_content_type_id, a.source_object_id, "
            f"a.owner_id, {_person_columns('o', 'owner')} "
            "FROM actions_action a INNER JOIN productops_user o ON o.id = a.owner_id "
            f"WHERE a.id IN ({placeholders(raised_by)}) "
            f"OR (a.source_content_type_id = %s AND a.source_object_id IN ({placeholders(signal_ids)})) "
            "OR (a.source_content_type_id = %s AND a.source_object_id = %s) "
            "ORDER BY a.created_at DESC, a.id DESC",
            [*raised_by, signal_ct.pk, *signal_ids, contract_ct.pk, contract.pk],
        )
    )
    for action in actions:
        action.owner = _person(action, "owner", action.owner_id)
    evidence = _closure_evidence(actions)
    traces = []
    for action in actions:
        ends = timezone.localtime(action.closed_at).date() if action.closed_at else today
        signals_of = set(raised_by.get(action.pk, []))
        if action.source_content_type_id == signal_ct.pk and action.source_object_id in signal_ids:
            signals_of.add(action.source_object_id)
        traces.append(
            ActionTrace(
                action=action,
                evidence=evidence.get(action.pk, []),
                age_days=(ends - timezone.localtime(action.created_at).date()).days,
                signal_ids=sorted(signals_of),
            )
        )
    return traces


def _closure_evidence(actions: list[Action]) -> dict[int, list[ClosureEvidence]]:
    """The closure evidence submitted for each action (newest first), by action id, with who
    submitted and who reviewed it."""
    if not actions:
        return {}
    by_id = {action.pk: action for action in actions}
    evidence: dict[int, list[ClosureEvidence]] = {}
    rows = raw_instances(
        ClosureEvidence,
        "SELECT e.id, e.action_id, e.text, e.link, e.file, e.submitted_at, e.verdict, e.reviewed_at, "
        f"e.review_comment, e.submitted_by_id, {_person_columns('s', 'submitted_by')}, "
        f"e.reviewed_by_id, {_person_columns('r', 'reviewed_by')} "
        "FROM actions_closureevidence e "
        "LEFT OUTER JOIN productops_user s ON s.id = e.submitted_by_id "
        "LEFT OUTER JOIN productops_user r ON r.id = e.reviewed_by_id "
        f"WHERE e.action_id IN ({placeholders(by_id)}) ORDER BY e.submitted_at DESC, e.id DESC",
        list(by_id),
    )
    for item in rows:
        item.action = by_id[item.action_id]
        item.submitted_by = _person(item, "submitted_by", item.submitted_by_id)
        item.reviewed_by = _person(item, "reviewed_by", item.reviewed_by_id)
        evidence.setdefault(item.action_id, []).append(item)
    return evidence


def _decisions(contract, signals, actions, visible) -> list[DecisionTrace]:
    """Decisions whose evidence links name the contract, one of its signals or actions (newest
    first), each with the decision that superseded it; the links are kept as recorded, so each
    says what it cited."""
    cts = ContentType.objects.get_for_models(MetricContract, Signal, Action)
    signal_ids = [signal.pk for signal in signals]
    action_ids = [trace.action.pk for trace in actions]
    params = [cts[MetricContract].pk, contract.pk, cts[Signal].pk, *signal_ids, cts[Action].pk, *action_ids]
    visible_sql, visible_params = _within("d", visible)
    params += visible_params
    rows = raw_instances(
        Decision,
        "SELECT d.id, d.readable_id, d.decided_on, d.type, d.decision, d.details, d.recorded_by_id, "
        f"d.owner_id, {_person_columns('o', 'owner')}, "
        "l.id AS link_id, l.content_type_id AS link_content_type_id, l.object_id AS link_object_id, "
        "l.reference AS link_reference, l.label AS link_label, l.url AS link_url, "
        "n.id AS successor_id, n.readable_id AS successor_readable_id "
        "FROM decisions_evidencelink l "
        "INNER JOIN decisions_decision d ON d.id = l.decision_id "
        "INNER JOIN productops_user o ON o.id = d.owner_id "
        "LEFT OUTER JOIN decisions_decision n ON n.supersedes_id = d.id "
        "WHERE ((l.content_type_id = %s AND l.object_id = %s) "
        f"OR (l.content_type_id = %s AND l.object_id IN ({placeholders(signal_ids)})) "
        f"OR (l.content_type_id = %s AND l.object_id IN ({placeholders(action_ids)}))) {visible_sql} "
        "ORDER BY d.decided_on DESC, d.id DESC, l.id",
        params,
    )
    # The cited records are already loaded: their pages, without fetching each link's target.
    pages = {(cts[MetricContract].pk, contract.pk): contract.get_absolute_url()}
    pages.update({(cts[Signal].pk, signal.pk): signal.get_absolute_url() for signal in signals})
    pages.update({(cts[Action].pk, trace.action.pk): trace.action.get_absolute_url() for trace in actions})
    traces: dict[int, DecisionTrace] = {}
    for decision in rows:
        trace = traces.get(decision.pk)
        if trace is None:
            if len(traces) >= MAX_DECISIONS:
                continue
            decision.owner = _person(decision, "owner", decision.owner_id)
            successor = _decision_named(
                decision._state.db, decision.successor_id, decision.successor_readable_id
            )
            trace = traces[decision.pk] = DecisionTrace(decision=decision, cites=[], successor=successor)
        link = loaded(
            EvidenceLink,
            decision._state.db,
            id=decision.link_id,
            decision_id=decision.pk,
            content_type_id=decision.link_content_type_id,
            object_id=decision.link_object_id,
            reference=decision.link_reference,
            label=decision.link_label,
            url=decision.link_url,
        )
        trace.cites.append((link, pages.get((link.content_type_id, link.object_id), link.url)))
    return list(traces.values())


def _releases(contract, since) -> list[ReleaseTrace]:
    """The capability's releases deployed since the first period shown (their markers stand on
    the trend) and those whose impact review named the contract a regression, each with its
    latest impact review (two statements)."""
    # A regression is named in the review's JSON list as the metric id (or "metric id [cut]"):
    # the list's text holds it, matched without regard to case as icontains matches.
    named = f"%{connection.ops.prep_for_like_query(contract.metric_id)}%"
    rows = list(
        raw_instances(
            Release,
            "SELECT r.id, r.readable_id, r.change, r.version_from, r.version_to, r.state, r.planned_date, "
            "r.deployed_date, r.rolled_back_date FROM releases_release r "
            "WHERE r.capability_id = %s AND ((r.deployed_date IS NOT NULL AND r.deployed_date >= %s) "
            "OR r.id IN (SELECT v.release_id FROM releases_impactreview v "
            "WHERE UPPER(CAST(v.regressions AS TEXT)) LIKE UPPER(%s) ESCAPE '\\')) "
            f"ORDER BY r.deployed_date DESC, r.planned_date DESC, r.id DESC LIMIT {MAX_RELEASES}",
            [contract.capability_id, since, named],
        )
    )
    latest = _latest_reviews(rows)
    traces = []
    for release in rows:
        review = latest.get(release.pk)
        figure = None
        if review is not None:
            figure = next(
                (
                    item
                    for item in (review.figures or {}).get("contracts", [])
                    if item.get("metric_id") == contract.metric_id
                ),
                None,
            )
        regressed = bool(
            review is not None
            and any(
                entry == contract.metric_id or str(entry).startswith(f"{contract.metric_id} [")
                for entry in review.regressions or []
            )
        )
        traces.append(ReleaseTrace(release=release, review=review, figure=figure, regressed=regressed))
    return traces


def _latest_reviews(releases: list[Release]) -> dict[int, ImpactReview]:
    """The latest post-release impact review of each release, by release id, with its reviewer
    and the decision it recorded."""
    if not releases:
        return {}
    latest: dict[int, ImpactReview] = {}
    release_ids = [release.pk for release in releases]
    rows = raw_instances(
        ImpactReview,
        "SELECT v.id, v.release_id, v.reviewed_at, v.decision, v.figures, v.regressions, v.reviewer_id, "
        f"{_person_columns('u', 'reviewer')}, v.decision_record_id, d.readable_id AS record_readable_id "
        "FROM releases_impactreview v INNER JOIN productops_user u ON u.id = v.reviewer_id "
        "LEFT OUTER JOIN decisions_decision d ON d.id = v.decision_record_id "
        f"WHERE v.release_id IN ({placeholders(release_ids)}) "
        "ORDER BY v.reviewed_at DESC, v.id DESC",  # newest first: the model's ordering
        release_ids,
    )
    for review in rows:
        if review.release_id in latest:
            continue
        review.reviewer = _person(review, "reviewer", review.reviewer_id)
        review.decision_record = _decision_named(
            review._state.db, review.decision_record_id, review.record_readable_id
        )
        latest[review.release_id] = review
    return latest


def _experiments(contract, visible) -> list[Experiment]:
    """The experiments whose primary metric or guardrail is the contract, latest first."""
    params = [contract.pk, contract.pk]
    visible_sql, visible_params = _within("e", visible)
    params += visible_params
    experiments = list(
        raw_instances(
            Experiment,
            "SELECT e.id, e.readable_id, e.title, e.primary_metric_id, e.state, e.decision, e.start_date, "
            "e.decision_record_id, d.readable_id AS record_readable_id FROM experiments_experiment e "
            "LEFT OUTER JOIN decisions_decision d ON d.id = e.decision_record_id "
            "WHERE (e.primary_metric_id = %s OR e.id IN (SELECT g.experiment_id "
            "FROM experiments_experiment_guardrails g WHERE g.metriccontract_id = %s)) "
            f"{visible_sql} ORDER BY e.start_date DESC, e.id DESC",
            params,
        )
    )
    for experiment in experiments:
        experiment.decision_record = _decision_named(
            experiment._state.db, experiment.decision_record_id, experiment.record_readable_id
        )
    return experiments


def _incidents(contract, decisions: list[DecisionTrace], visible) -> list[Incident]:
    """Incidents whose learning updated the contract, and incidents cited as evidence by the
    decisions of this binder."""
    cts = ContentType.objects.get_for_models(MetricContract, Incident)
    decision_ids = [trace.decision.pk for trace in decisions]
    params = [cts[MetricContract].pk, contract.pk, cts[Incident].pk, *decision_ids]
    visible_sql, visible_params = _within("i", visible)
    params += visible_params
    return list(
        raw_instances(
            Incident,
            "SELECT i.id, i.readable_id, i.title, i.severity, i.state, i.occurred_on FROM incidents_incident i "
            "WHERE (i.id IN (SELECT l.incident_id FROM incidents_learningitem l "
            "WHERE l.record_content_type_id = %s AND l.record_object_id = %s) "
            "OR i.id IN (SELECT e.object_id FROM decisions_evidencelink e "
            f"WHERE e.content_type_id = %s AND e.decision_id IN ({placeholders(decision_ids)}))) "
            f"{visible_sql} ORDER BY i.occurred_on DESC, i.id DESC LIMIT {MAX_INCIDENTS}",
            params,
        )
    )


def evidence_binder(
    contract: MetricContract, *, user, cut: str = "", period=None, span: str = "", today=None
) -> Binder:
    """The binder of ``contract`` (already loaded for ``user``, who may read it), for the figure
    of ``cut`` (``intent=billing``; "" the whole population) in ``period`` (a date or ISO text:
    the contract's period containing it; default the latest evaluated one). ``span="month"``
    makes it the calendar month containing it: the figure the monthly value board shows for a
    daily or weekly contract, pooled from the month's observations, with the evaluations of
    the periods within it."""
    today = today or timezone.localdate()
    visible = visible_capability_ids(user)
    cut_filter = parse_cut(contract, cut)
    cut_text = "|".join(f"{key}={cut_filter[key]}" for key in sorted(cut_filter))
    requested_cut = (cut or "").strip()
    span = SPAN_MONTH if span == SPAN_MONTH and contract.grain != Grain.MONTH else ""
    grain = Grain.MONTH if span else contract.grain
    period_start, period_error = _period(grain, period, today)

    evaluations = _evaluations(
        contract, cut_text, shift_period(period_start, grain, 1) if period_start else None
    )
    if period_start is None and evaluations:
        period_start = period_start_of(evaluations[0].period_start, grain)
    figure = None
    if not span and evaluations and evaluations[0].period_start == period_start:
        figure = evaluations[0]
    period_end = shift_period(period_start, grain, 1) if period_start else None

    guardrails, guarded = _related_contracts(contract)
    observed = _observed(contract, cut_filter, period_start, period_end)
    signals = _signals(contract, cut_text)
    actions = _actions(contract, signals, today)
    decisions = _decisions(contract, signals, actions, visible)
    since = (
        evaluations[-1].period_start
        if evaluations
        else shift_period(period_start_of(today, contract.grain), contract.grain, -EVALUATION_PERIODS)
    )
    return Binder(
        contract=contract,
        cut=cut_text,
        cut_error=_cut_message(
            contract,
            requested_cut,
            cut_filter,
            lambda: _cut_has_data(contract, cut_text, evaluations, observed),
        ),
        span=span,
        period=period_start,
        period_end=period_end - datetime.timedelta(days=1) if period_end else None,
        period_label=describe_period(period_start, grain) if period_start else _("all periods"),
        period_error=period_error,
        thresholds=contract_thresholds(contract),
        guardrails=guardrails,
        guarded=guarded,
        figure=figure,
        evaluations=evaluations,
        observed=observed,
        signals=signals,
        stop_holds=_stop_holds(signals),
        actions=actions,
        decisions=[trace for trace in decisions if not trace.is_definition_change],
        definition_changes=[trace for trace in decisions if trace.is_definition_change],
        releases=_releases(contract, since),
        experiments=_experiments(contract, visible),
        incidents=_incidents(contract, decisions, visible),
        today=today,
    )
