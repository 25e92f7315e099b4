"""The evidence review pack (playbook 11.1) as a frozen snapshot: plain JSON-safe data, built once
before a session from what the database says then, so a pack re-rendered later shows what was
sent. Every figure carries its contract's metric id and evidence level (11.2); a decision that
rests on an outcome figure below E3 is marked.

Query budget: a fixed number of statements whatever the size of the portfolio (one per section,
one Evaluation query for all the figures), never one per contract or per period.
"""

import datetime
from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from actions.choices import ActionStatus
from actions.models import Action, ClosureEvidence
from assumptions.models import Assumption
from contracts.charts import contract_thresholds
from contracts.choices import Category, ContractStatus, below_decision_grade
from contracts.markers import markers_for_many
from contracts.models import Evaluation, MetricContract
from experiments.choices import ExperimentState
from experiments.models import Experiment
from forums.pack_extras import pack_extras
from incidents.choices import IncidentState
from incidents.models import Incident
from productops.formats import local_iso, person_name
from releases.models import Release

PACK_VERSION = 1
BASELINE_PERIODS = 4
TREND_PERIODS = 12
RECENT_DAYS = 28
# Releases waiting for a decision or a deployment show whatever their date.
PENDING_RELEASE_STATES = [
    "submitted",
    "approved",
    "approved_for_canary",
    "on_hold",
    "changes_requested",
    "canary",
]

# (key, heading, contract category or None), in the order of playbook 11.1.
SECTIONS = [
    ("decision_requested", _("Decision Requested"), None),
    ("scope", _("Product and Version Scope"), None),
    ("outcome", _("Outcome Evidence"), Category.OUTCOME),
    ("adoption", _("Adoption Evidence"), Category.ADOPTION),
    ("quality", _("Quality Evidence"), Category.QUALITY),
    ("risk", _("Risk / Control Evidence"), Category.RISK),
    ("cost", _("Cost / Capacity Evidence"), Category.COST),
    ("releases_experiments", _("Release and Experiment Evidence"), None),
    ("incidents", _("Incident and Complaint Learning"), None),
    ("assumptions", _("Assumption Ledger Update"), None),
    ("actions", _("Action Closure"), None),
]
SECTION_HEADINGS = [str(heading) for _key, heading, _category in SECTIONS]
FIGURE_SECTIONS = [key for key, _heading, category in SECTIONS if category]
CHART_SECTIONS = ("outcome", "quality", "risk", "cost")

# What some cadences add to the standard pack, and after which section.
# Monthly value review (playbook 8.2): value leakage beside cost, the recommendation last.
# Quarterly portfolio review (9.2-9.4): the scorecard and its decisions right after the scope.
VALUE_LEAKAGE = ("value_leakage", _("Value Leakage"), None)
RECOMMENDATION = ("recommendation", _("Recommendation"), None)
PORTFOLIO_SCORECARD = ("portfolio_scorecard", _("Portfolio Scorecard and Decisions"), None)
CADENCE_EXTRAS = {
    "monthly_value_review": [("cost", VALUE_LEAKAGE), ("actions", RECOMMENDATION)],
    "quarterly_portfolio_review": [("scope", PORTFOLIO_SCORECARD)],
}

# 8.2's value leakage (rework, human review, delay, support, remediation, redress): which words
# in a contract's metric key put its figure there. The first class that matches wins.
LEAKAGE_CLASSES = [
    ("rework", _("Rework"), ("rework",)),
    ("human_review", _("Human review"), ("review", "edit", "override")),
    ("delay", _("Delay"), ("delay", "aging", "chase", "wait")),
    ("support", _("Support"), ("support",)),
    ("remediation", _("Remediation"), ("remediation",)),
    ("redress", _("Redress"), ("redress", "refund", "compensation")),
]
# The memo lines of 8.4 that are value leakage too.
LEAKAGE_MEMO_LINES = [("cost", "human_review_load"), ("cost", "support_load")]


def sections_for(cadence: str) -> list[tuple]:
    """(key, heading, category) of a cadence's pack, in order: the standard pack of 11.1 for
    every cadence, with the extras of the monthly value review and the quarterly portfolio
    review inserted; the decision requested always first."""
    sections = list(SECTIONS)
    for after, extra in CADENCE_EXTRAS.get(cadence, []):
        position = next(index for index, (key, _h, _c) in enumerate(sections) if key == after)
        sections.insert(position + 1, extra)
    return sections


def section_headings(cadence: str) -> list[str]:
    return [str(heading) for _key, heading, _category in sections_for(cadence)]


def _when(value: datetime.datetime | None) -> str:
    """``2026-03-03 10:00 GMT``: a moment in the organisation's zone, named."""
    if value is None:
        return ""
    local = timezone.localtime(value) if timezone.is_aware(value) else value
    return local.strftime("%Y-%m-%d %H:%M %Z").strip()


def _label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def _figures(contracts: list[MetricContract], today: datetime.date) -> dict[str, list[dict]]:
    """The figure rows of every contract, by section key, from one Evaluation statement: the
    periods that had begun by ``today`` (the pack's build day), so a pack shows what was known."""
    history: dict[int, list[tuple]] = defaultdict(list)
    rows = (
        Evaluation.objects.at_own_grain(contracts)
        .whole_population()
        .filter(period_start__lte=today)
        .order_by("contract_id", "period_start")
        .values_list("contract_id", "period_start", "value", "level")
    )
    for contract_id, period_start, value, level in rows:
        history[contract_id].append((period_start, value, level))

    # Release markers frozen with the trend they stand on (one statement for all contracts).
    markers = markers_for_many(contracts)
    by_section: dict[str, list[dict]] = {key: [] for key in FIGURE_SECTIONS}
    for contract in contracts:
        evaluated = [row for row in history[contract.pk] if row[1] is not None]
        first = [value for _period, value, _level in evaluated[:BASELINE_PERIODS]]
        latest = evaluated[-1] if evaluated else None
        trend = evaluated[-TREND_PERIODS:]
        by_section[contract.category].append(
            {
                "metric_id": contract.metric_id,
                "name": contract.name,
                "capability": contract.capability.name,
                "unit": contract.unit,
                "direction": contract.direction,
                "evidence_level": contract.evidence_level,
                "below_e3": below_decision_grade(contract.evidence_level),
                "baseline": sum(first) / len(first) if first else None,
                "baseline_text": contract.format_value(sum(first) / len(first)) if first else "—",
                "current": latest[1] if latest else None,
                "current_text": contract.format_value(latest[1]) if latest else "—",
                "current_period": local_iso(latest[0]) if latest else None,
                "level": latest[2] if latest else "insufficient",
                "trend": [value for _period, value, _level in trend],
                "trend_periods": [local_iso(period) for period, _value, _level in trend],
                "trend_levels": [level for _period, _value, level in trend],
                "thresholds": {
                    "target": contract.target,
                    "warning": contract.warning,
                    "breach": contract.breach,
                    "stop": contract.stop_level,
                },
                "threshold_text": contract.format_value(contract.warning),
                "action_rule": contract.warning_action,
                "grain": contract.grain,
                "threshold_rules": {line.level: line.rule for line in contract_thresholds(contract)},
                "markers": [
                    {"date": day.isoformat(), "label": label}
                    for day, label in markers[contract.pk]
                    if trend and trend[0][0] <= day <= today
                ],
            }
        )
    return by_section


def _scope(capabilities) -> list[dict]:
    return [
        {
            "capability": capability.name,
            "slug": capability.slug,
            "workflow": capability.workflow,
            "population": capability.target_users,
            "case_types": capability.case_types,
            "risk_tier": capability.risk_tier,
            "version_set": {
                str(k): str(v) for k, v in sorted((capability.current_version_set or {}).items())
            },
        }
        for capability in capabilities
    ]


def _releases_experiments(capability_ids, today: datetime.date) -> list[dict]:
    since = today - datetime.timedelta(days=RECENT_DAYS)
    items = []
    releases = (
        Release.objects.filter(capability_id__in=capability_ids)
        .filter(
            Q(planned_date__gte=since) | Q(deployed_date__gte=since) | Q(state__in=PENDING_RELEASE_STATES)
        )
        .select_related("capability")
        .prefetch_related("impact_reviews")
        .order_by("planned_date", "readable_id")
    )
    for release in releases:
        reviews = sorted(release.impact_reviews.all(), key=lambda review: review.reviewed_at)
        impact = reviews[-1] if reviews else None
        items.append(
            {
                "id": release.readable_id,
                "kind": "release",
                "capability": release.capability.name,
                "title": f"{release.get_object_type_display()}: {release.change}",
                "population": release.affected_population,
                "state": release.state,
                "state_label": release.get_state_display(),
                "date": local_iso(release.planned_date),
                "impact": (impact.get_decision_display() + " — " + impact.comment) if impact else "",
                "decision": impact.get_decision_display() if impact else "",
            }
        )
    experiments = (
        Experiment.objects.filter(capability_id__in=capability_ids)
        .exclude(state=ExperimentState.DECIDED, decided_at__date__lt=since)
        .select_related("capability", "primary_metric")
        .order_by("start_date", "readable_id")
    )
    for experiment in experiments:
        items.append(
            {
                "id": experiment.readable_id,
                "kind": "experiment",
                "capability": experiment.capability.name,
                "title": experiment.title,
                "population": experiment.population,
                "state": experiment.state,
                "state_label": experiment.get_state_display(),
                "date": local_iso(experiment.planned_end_date),
                "impact": experiment.result,
                "decision": experiment.get_decision_display() if experiment.decision else "",
                "metric_id": experiment.primary_metric.metric_id if experiment.primary_metric else "",
            }
        )
    return items


def _incidents(capability_ids) -> list[dict]:
    incidents = list(
        Incident.objects.filter(capability_id__in=capability_ids)
        .exclude(state=IncidentState.CLOSED)
        .select_related("capability")
        .prefetch_related("root_causes", "learning_items")
        .order_by("severity", "occurred_on", "readable_id")
    )
    corrective: dict[int, list[dict]] = defaultdict(list)
    if incidents:
        actions = (
            Action.objects.filter(
                source_content_type=ContentType.objects.get_for_model(Incident),
                source_object_id__in=[incident.pk for incident in incidents],
            )
            .select_related("owner")
            .order_by("due_date", "readable_id")
        )
        for action in actions:
            corrective[action.source_object_id].append(
                {"id": action.readable_id, "action": action.action, "status": action.get_status_display()}
            )
    return [
        {
            "id": incident.readable_id,
            "capability": incident.capability.name,
            "title": incident.title,
            "severity": incident.severity,
            "severity_label": incident.get_severity_display(),
            "source": incident.get_source_display(),
            "state_label": incident.get_state_display(),
            "occurred_on": local_iso(incident.occurred_on),
            "root_causes": sorted(cause.get_cause_class_display() for cause in incident.root_causes.all()),
            "corrective_actions": corrective[incident.pk],
            "roadmap_impact": sorted(
                f"{item.get_kind_display()}: {item.text}".rstrip(": ")
                for item in incident.learning_items.all()
            ),
        }
        for incident in incidents
    ]


def _assumptions(capability_ids) -> list[dict]:
    rows = (
        Assumption.objects.filter(capability_id__in=capability_ids)
        .select_related("capability")
        .order_by("capability__name", "readable_id")
    )
    return [
        {
            "id": assumption.readable_id,
            "capability": assumption.capability.name,
            "statement": assumption.statement,
            "status": assumption.status,
            "status_label": assumption.get_status_display(),
            "evidence": assumption.evidence,
            "decision_impact": assumption.decision_impact,
            "expires_on": local_iso(assumption.expires_on),
        }
        for assumption in rows
    ]


def _actions(capability_ids, today: datetime.date) -> dict:
    actions = list(
        Action.objects.filter(capability_id__in=capability_ids)
        .exclude(status=ActionStatus.CLOSED)
        .select_related("capability", "owner")
        .prefetch_related(
            Prefetch("evidence", queryset=ClosureEvidence.objects.order_by("submitted_at", "pk"))
        )
        .order_by("due_date", "readable_id")
    )
    rows = []
    counts = {"open": 0, "overdue": 0, "blocked": 0, "awaiting_verification": 0}
    for action in actions:
        overdue = action.due_date < today
        evidence = list(action.evidence.all())
        counts["open"] += 1
        counts["overdue"] += overdue
        counts["blocked"] += action.status == ActionStatus.BLOCKED
        counts["awaiting_verification"] += action.status == ActionStatus.AWAITING_VERIFICATION
        rows.append(
            {
                "id": action.readable_id,
                "capability": action.capability.name,
                "action": action.action,
                "owner": person_name(action.owner),
                "due_date": local_iso(action.due_date),
                "status": action.status,
                "status_label": action.get_status_display(),
                "overdue": overdue,
                "blocked_reason": action.blocked_reason,
                "closure_criterion": action.closure_criterion,
                "closure_evidence": (
                    evidence[-1].get_verdict_display() if evidence else gettext("None submitted")
                ),
            }
        )
    # Overdue and blocked first: they are what the forum acts on.
    rows.sort(key=lambda row: (not row["overdue"], row["status"] != ActionStatus.BLOCKED, row["due_date"]))
    return {"counts": counts, "rows": rows}


def _plain(value) -> str:
    """Text from JSON another part of the app wrote (a memo line, a matrix figure), whatever
    shape it has: a string, a number, ``{"text": ...}``, a list of those; never an error."""
    if value is None or value is False:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int | float):
        return f"{value:g}" if isinstance(value, float) else str(value)
    if isinstance(value, dict):
        for key in ("text", "value", "label", "reason"):
            if value.get(key) not in (None, ""):
                return _plain(value[key])
        return ""
    if isinstance(value, list | tuple):
        return "; ".join(text for text in (_plain(item) for item in value) if text)
    return str(value)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return list(value) if isinstance(value, list | tuple) else []


def _cadence_label(cadence: str) -> str:
    from forums.choices import Cadence

    return str(dict(Cadence.choices).get(cadence, cadence))


def _leakage_class(metric_id: str):
    name = metric_id.rpartition(".")[2].lower()
    for key, label, words in LEAKAGE_CLASSES:
        if any(word in name for word in words):
            return key, str(label)
    return None


def _value_leakage(figures: dict[str, list[dict]], memos) -> dict:
    """8.2's value leakage: the pack's figures whose contract measures rework, human review,
    delay, support, remediation or redress (each with its metric id and evidence level), and
    the memo's human review and support load lines."""
    order = {key: position for position, (key, _label, _words) in enumerate(LEAKAGE_CLASSES)}
    rows = []
    for section in FIGURE_SECTIONS:
        for row in figures[section]:
            found = _leakage_class(row["metric_id"])
            if found:
                rows.append({**row, "trend": [], "leakage": found[0], "leakage_label": found[1]})
    rows.sort(key=lambda row: (order[row["leakage"]], row["capability"], row["metric_id"]))
    memo_lines = []
    for memo in memos:
        fields = _dict(memo.fields)
        for section, line in LEAKAGE_MEMO_LINES:
            text = _plain(_dict(fields.get(section)).get(line))
            if text:
                memo_lines.append({"capability": memo.capability.name, "line": line, "text": text})
    return {"rows": rows, "memo_lines": memo_lines}


def _memo_decision_label(value: str) -> str:
    from forums.memos import MemoDecision

    return str(dict(MemoDecision.choices).get(value) or (value or "").replace("_", " ").capitalize())


def _recommendations(memos) -> list[dict]:
    """8.2's recommendation, one per capability memo of the session: the decision the matrix of
    8.3 recommends, the pattern that fired and on which figures, what blocked a net claim, the
    next evidence needed and the review trigger. The memo's JSON is read defensively: another
    part of the app writes it."""
    rows = []
    for memo in memos:
        matrix = _dict(memo.matrix)
        fields = _dict(memo.fields)
        figures = [
            f"{_plain(item.get('label'))}: {_plain(item.get('value'))}".strip(": ")
            if isinstance(item, dict)
            else _plain(item)
            for item in _list(matrix.get("figures"))
        ]
        rows.append(
            {
                "capability": memo.capability.name,
                "month": memo.month.strftime("%Y-%m") if memo.month else "",
                "memo_state": memo.get_state_display(),
                "decision": _plain(matrix.get("label")) or _memo_decision_label(memo.recommendation),
                "pattern": _plain(matrix.get("pattern")),
                "figures": [figure for figure in figures if figure],
                "blocked": [_plain(item) for item in _list(matrix.get("blocked")) if _plain(item)],
                "next_evidence": [_plain(item) for item in _list(matrix.get("missing")) if _plain(item)],
                "review_trigger": _plain(_dict(fields.get("decision")).get("next_review_trigger")),
            }
        )
    return rows


def _scorecard(rows) -> dict:
    """9.2's eight ratings and 9.4's output row for each capability of the quarter's review."""
    from forums.choices import ScorecardDimension

    dimensions = [(key, str(label)) for key, label in ScorecardDimension.choices]
    result = []
    for row in rows:
        ratings = _dict(row.ratings)
        cells = []
        for key, label in dimensions:
            rating = ratings.get(key)
            value = _dict(rating).get("rating") if isinstance(rating, dict) else rating
            try:
                value = int(value) if value not in (None, "") else None
            except (TypeError, ValueError):
                value = None
            cells.append(
                {
                    "dimension": key,
                    "label": label,
                    "rating": value,
                    "evidence": _plain(_dict(rating).get("evidence")),
                }
            )
        result.append(
            {
                "capability": row.capability.name,
                "ratings": cells,
                "decision": row.get_decision_display() if row.decision else "",
                "evidence_basis": row.evidence_basis,
                "funding_change": row.funding_change,
                "platform_dependency": row.platform_dependency,
                "risk_condition": row.risk_condition,
                "next_review": row.next_review,
            }
        )
    result.sort(key=lambda item: item["capability"])
    return {"dimensions": [label for _key, label in dimensions], "rows": result}


def pack_snapshot(
    *,
    capabilities,
    cadence: str,
    decision_requested: str,
    forum_name: str,
    session_at: datetime.datetime,
    built_at: datetime.datetime | None = None,
    owner: str = "",
    deadline: datetime.date | None = None,
    value_memos=(),
    scorecard_rows=(),
) -> dict:
    """The pack as JSON-safe data: ``{"meta": ..., "sections": [{"key", "heading", ...}, ...]}``
    with the sections of the cadence (``sections_for``), decision requested first.
    ``value_memos`` (monthly value review) and ``scorecard_rows`` (quarterly portfolio review)
    are the session's memos and scorecard rows, their capability loaded."""
    built_at = built_at or timezone.now()
    today = timezone.localdate(built_at) if timezone.is_aware(built_at) else built_at.date()
    capabilities = sorted(capabilities, key=lambda capability: capability.name)
    capability_ids = [capability.pk for capability in capabilities]
    contracts = list(
        MetricContract.objects.filter(
            capability_id__in=capability_ids,
            status=ContractStatus.ACTIVE,
            category__in=[category for _key, _heading, category in SECTIONS if category],
        )
        .select_related("capability")
        .order_by("capability__name", "category", "metric_id")
    )
    figures = _figures(contracts, today)
    weak = [row["metric_id"] for row in figures["outcome"] if row["below_e3"]]

    value_memos = list(value_memos)
    sections = []
    for key, heading, category in sections_for(cadence):
        section = {"key": key, "heading": str(heading)}  # frozen in the language it was built in
        if key == "decision_requested":
            section.update(
                {
                    "forum": forum_name,
                    "cadence": cadence,
                    "cadence_label": _cadence_label(cadence),
                    "decision": decision_requested,
                    "owner": owner,
                    "deadline": local_iso(deadline or (session_at.date() if session_at else None)),
                    "below_e3": bool(weak),
                    "below_e3_metrics": weak,
                    "evidence_note": (
                        gettext("Rests on evidence below E3: %(metrics)s") % {"metrics": ", ".join(weak)}
                        if weak
                        else gettext("Outcome evidence at E3 or above")
                    ),
                }
            )
        elif key == "scope":
            section["rows"] = _scope(capabilities)
        elif category:
            section["rows"] = figures[key]
        elif key == "releases_experiments":
            section["rows"] = _releases_experiments(capability_ids, today)
        elif key == "incidents":
            section["rows"] = _incidents(capability_ids)
        elif key == "assumptions":
            section["rows"] = _assumptions(capability_ids)
        elif key == "actions":
            section.update(_actions(capability_ids, today))
        elif key == "value_leakage":
            section.update(_value_leakage(figures, value_memos))
        elif key == "recommendation":
            section["rows"] = _recommendations(value_memos)
        elif key == "portfolio_scorecard":
            section.update(_scorecard(scorecard_rows))
        sections.append(section)

    return {
        "version": PACK_VERSION,
        "meta": {
            "forum": forum_name,
            "cadence": cadence,
            "cadence_label": _cadence_label(cadence),
            "session_at": local_iso(session_at),
            "built_at": local_iso(built_at),
            # As people read them, in the organisation's zone (the ISO values above are for machines).
            "session_at_text": _when(session_at),
            "built_at_text": _when(built_at),
            "capabilities": [capability.name for capability in capabilities],
        },
        "sections": sections,
        "extras": pack_extras(capabilities=capabilities, cadence=cadence, today=today),
    }
