"""The monthly decision memo of playbook 8.4 built from one capability's month: ``memo_build``
reads the month's data in a fixed number of queries, reduces it to the plain figures the
decision matrix reads (each with its basis in words), runs the matrix and writes the memo's
sections (``MemoDraft``)."""

import datetime
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forums.memos.figures import (
    _adoption_level,
    _direction_word,
    _level_word,
    _low_risk_cohort_only,
    _movement_words,
    _no_contract,
    _outcome_movement,
    _primary_adoption,
    _ref,
    contract_figures,
)
from forums.memos.lines import _memo_lines
from forums.memos.matrix import (
    FALLING,
    RISING,
    STABLE,
    UNKNOWN,
    WORSE,
    MatrixEvidence,
    MatrixResult,
    decision_matrix,
)
from forums.memos.month import (
    _actions,
    _assumption_proposal,
    _decision_owners,
    _defect_summary,
    _experiments,
    _incidents,
    _next_review_sessions,
    _releases,
    _signals,
)
from forums.memos.sections import (
    MEMO_TITLE,
    MEMO_VERSION,
    MIN_COMPLAINTS_FOR_TREND,
    PAST_WARNING,
    SECTION_KEYS,
    SEVERE,
    month_after,
    month_before,
    month_start_of,
)
from forums.models import Session
from productops.formats import local_iso, person_name


@dataclass
class MemoDraft:
    """A memo as built from the data: its sections (``fields``), the plain figures the matrix
    reads, and what the matrix made of them."""

    fields: dict
    evidence: MatrixEvidence
    result: MatrixResult


def _lines_of(figures: list[dict], line: str) -> list[dict]:
    return [figure for figure in figures if figure["line"] == line]


def memo_build(
    *, capability, month: datetime.date, session: Session | None = None, by=None, now=None
) -> MemoDraft:
    """The monthly decision memo of playbook 8.4 for one capability and month, from the data as
    it stands: every figure names its contract and evidence level (below E3 marked); outcome
    movement is baseline → month with its 95% interval (``contracts.stats``); risk, cost and
    adoption trends are previous month → month. A fixed number of queries."""
    return memo_drafts([capability], month=month, session=session, by=by, now=now)[capability.pk]


@dataclass
class _Month:
    """One month's records of many capabilities, read once (``memo_drafts``)."""

    now: datetime.datetime
    today: datetime.date
    month_start: datetime.date
    month_end: datetime.date
    previous_start: datetime.date
    month_label: str
    assumptions: dict
    contracts: list
    by_id: dict
    by_metric: dict
    releases: dict
    experiments: dict
    incidents: dict
    signals: dict
    actions: dict
    owners: dict
    next_sessions: dict


def memo_drafts(
    capabilities, *, month: datetime.date, session: Session | None = None, by=None, now=None
) -> dict[int, MemoDraft]:
    """{capability id: the memo ``memo_build`` builds for it} for many capabilities at once, in
    a fixed number of queries whatever their number (the boards show every capability's month
    as its memo would: the same function composes both)."""
    from assumptions.models import Assumption
    from contracts.models import MetricContract

    capabilities = list(capabilities)
    if not capabilities:
        return {}
    ids = [capability.pk for capability in capabilities]
    now = now or timezone.now()
    today = timezone.localdate(now)
    month_start = month_start_of(month)
    month_end = month_after(month_start)
    previous_start = month_before(month_start)

    assumptions: dict[int, list] = {pk: [] for pk in ids}
    for assumption in Assumption.objects.filter(capability_id__in=ids).order_by("readable_id"):
        assumptions[assumption.capability_id].append(assumption)
    tested = {
        metric_id
        for rows in assumptions.values()
        for assumption in rows
        for metric_id in assumption.tested_by_contracts or []
    }
    contracts = list(
        MetricContract.objects.filter(
            Q(capability_id__in=ids, status="active") | Q(metric_id__in=tested)
        ).order_by("category", "metric_id")
    )
    by_id = contract_figures(contracts, month_start=month_start, today=today)
    data = _Month(
        now=now,
        today=today,
        month_start=month_start,
        month_end=month_end,
        previous_start=previous_start,
        month_label=month_start.strftime("%Y-%m"),
        assumptions=assumptions,
        contracts=contracts,
        by_id=by_id,
        by_metric={figure["metric_id"]: figure for figure in by_id.values()},
        releases=_releases(
            ids, previous_start=previous_start, month_start=month_start, month_end=month_end, today=today
        ),
        experiments=_experiments(ids, month_start=month_start, month_end=month_end),
        incidents=_incidents(ids, previous_start=previous_start, month_end=month_end),
        signals=_signals(
            [c.pk for c in contracts if c.capability_id in assumptions],
            month_start=month_start,
            month_end=month_end,
        ),
        actions=_actions(ids, month_start=month_start, month_end=month_end, today=today),
        owners=_decision_owners(ids, session, by),
        next_sessions=_next_review_sessions(ids, session, session.scheduled_at if session else now),
    )
    return {capability.pk: _compose(capability, data, session=session, by=by) for capability in capabilities}


def _compose(capability, data: _Month, *, session: Session | None, by) -> MemoDraft:
    """One capability's memo from the month's records: the plain figures of the matrix with
    their basis, the matrix's result and the memo's sections."""
    now, today = data.now, data.today
    month_start, month_end = data.month_start, data.month_end
    month_label = data.month_label
    assumptions = data.assumptions[capability.pk]
    contracts = data.contracts
    by_id, by_metric = data.by_id, data.by_metric
    own = [
        by_id[contract.pk]
        for contract in contracts
        if contract.capability_id == capability.pk
        and contract.status == "active"
        and by_id[contract.pk]["line"]
    ]
    sections_figures = {key: [figure for figure in own if figure["section"] == key] for key in SECTION_KEYS}
    outcomes = [figure for figure in own if figure["line"] == "outcome"]
    adoption = sections_figures["adoption"]
    risk_figures = [f for f in own if f["section"] == "risk" and f["category"] == "risk"]

    releases = data.releases[capability.pk]
    experiments = data.experiments[capability.pk]
    incidents = data.incidents[capability.pk]
    month_incidents = [i for i in incidents if i["occurred_on"] >= month_start.isoformat()]
    signals = data.signals.get(capability.pk, [])
    actions = data.actions[capability.pk]
    owner = data.owners[capability.pk]
    proposals = [
        _assumption_proposal(assumption, by_metric, month_label, today)
        for assumption in assumptions
        if assumption.status != "invalidated"
    ]

    basis: dict[str, str] = {}

    # Outcome.
    movement = _outcome_movement(outcomes)
    basis["outcome_movement"] = "; ".join(
        f"{_ref(f)}: {_movement_words(f['movement'], against=gettext('baseline'))}" for f in outcomes
    ) or _no_contract(_("the outcome"))
    not_net = tuple(f["metric_id"] for f in outcomes if f["not_net"])
    basis["not_net"] = "; ".join(f["not_net_reason"] or f["metric_id"] for f in outcomes if f["not_net"])

    # Adoption.
    primary = _primary_adoption(adoption)
    adoption_level = _adoption_level(primary)
    durable = None
    if primary is not None:
        basis["adoption_level"] = gettext(
            "%(ref)s: %(current)s in %(month)s (target %(target)s, warning %(warning)s)"
        ) % {
            "ref": _ref(primary),
            "current": primary["current_text"],
            "month": month_label,
            "target": primary["target_text"],
            "warning": primary["warning_text"],
        }
        dropping = primary["cuts_past_warning_last"]
        if primary["trend"]["moved"] == WORSE or dropping:
            durable = False
        elif primary["trend"]["sufficient"] or primary["level"] != "insufficient":
            durable = True
        basis["adoption_durable"] = "; ".join(
            part
            for part in [
                f"{_ref(primary)}: {_movement_words(primary['trend'], against=gettext('previous month'))}",
                (gettext("cohorts at warning or worse: %(cuts)s") % {"cuts": ", ".join(dropping)})
                if dropping
                else gettext("no cohort at warning or worse in the month's last period"),
            ]
            if part
        )
    else:
        basis["adoption_level"] = basis["adoption_durable"] = _no_contract(_("adoption"))

    # Complaints, risk.
    complaints = _lines_of(own, "complaints")
    complaint_incidents = [i for i in incidents if i["source"] == "complaint"]
    in_month = sum(1 for i in complaint_incidents if i["occurred_on"] >= month_start.isoformat())
    before = len(complaint_incidents) - in_month
    if complaints and any(f["trend"]["sufficient"] for f in complaints):
        complaints_trend = _direction_word([f["trend"] for f in complaints], rising_is=WORSE)
        basis["complaints_trend"] = "; ".join(
            f"{_ref(f)}: {_movement_words(f['trend'], against=gettext('previous month'))}" for f in complaints
        )
    elif in_month >= MIN_COMPLAINTS_FOR_TREND or before >= MIN_COMPLAINTS_FOR_TREND:
        complaints_trend = RISING if in_month > before else (FALLING if in_month < before else STABLE)
        basis["complaints_trend"] = gettext(
            "No complaint contract with data; complaint incidents: %(month)s this month, %(before)s the month "
            "before (E2 sampled)"
        ) % {"month": in_month, "before": before}
    else:
        complaints_trend = UNKNOWN
        basis["complaints_trend"] = _no_contract(_("complaints")) + (
            " "
            + gettext(
                "Complaint incidents: %(month)s this month, %(before)s the month before: too few for a trend."
            )
            % {"month": in_month, "before": before}
            if complaint_incidents
            else ""
        )
    harm = [
        *(
            gettext("%(ref)s at %(level)s in %(month)s")
            % {"ref": _ref(f), "level": _level_word(f["worst_level"]), "month": month_label}
            for f in risk_figures
            if f["worst_level"] in SEVERE
        ),
        *(
            gettext("signal %(metric)s%(cut)s at %(level)s")
            % {
                "metric": _ref(by_metric[s["metric_id"]]) if s["metric_id"] in by_metric else s["metric_id"],
                "cut": f" [{s['cut']}]" if s["cut"] else "",
                "level": _level_word(s["worst_level"]),
            }
            for s in signals
            if s["category"] == "risk" and s["worst_level"] in SEVERE
        ),
        *(
            f"{i['id']} {i['severity_label']}: {i['title']}"
            for i in month_incidents
            if i["severity"] == "sev1"
        ),
    ]
    basis["harm_signals"] = "; ".join(harm) or gettext(
        "no risk contract or signal at breach or stop, no Sev1 incident in %(month)s"
    ) % {"month": month_label}
    # Risk is stable when nothing harms customers, complaints do not rise and no Sev2 incident
    # (a material defect or repeated complaint, 15.1) happened in the month.
    unstable = harm + [
        f"{i['id']} {i['severity_label']}: {i['title']}" for i in month_incidents if i["severity"] == "sev2"
    ]
    if complaints_trend == RISING:
        unstable.append(gettext("complaints rising"))
    if unstable:
        risk_stable = False
        basis["risk_stable"] = "; ".join(unstable)
    elif risk_figures or month_incidents:
        risk_stable = True
        basis["risk_stable"] = gettext(
            "%(n)s risk contracts, none at breach or stop in %(month)s; no Sev1/Sev2 incident; complaints not rising"
        ) % {"n": len(risk_figures), "month": month_label}
    else:
        risk_stable = None
        basis["risk_stable"] = _no_contract(_("risk"))

    # Cost.
    costs = _lines_of(own, "cost_per_case")
    with_data = [f for f in costs if f["trend"]["sufficient"] or f["level"] != "insufficient"]
    cost_trend = _direction_word([f["trend"] for f in costs], rising_is=WORSE) if costs else UNKNOWN
    if not with_data:
        cost_acceptable = None
    else:
        cost_acceptable = not any(f["worst_level"] in PAST_WARNING for f in with_data)
    basis["cost_trend"] = "; ".join(
        f"{_ref(f)}: {_movement_words(f['trend'], against=gettext('previous month'))}" for f in costs
    ) or _no_contract(_("cost per case"))
    basis["cost_acceptable"] = "; ".join(
        gettext("%(ref)s: %(current)s (%(level)s; warning %(warning)s)")
        % {
            "ref": _ref(f),
            "current": f["current_text"],
            "level": _level_word(f["worst_level"]),
            "warning": f["warning_text"],
        }
        for f in costs
    ) or _no_contract(_("cost per case"))

    # Releases.
    defects = tuple(_defect_summary(row) for row in releases if row["defect"])
    basis["release_defects"] = "; ".join(defects) or gettext(
        "no regression in the impact figures of recent releases"
    )

    # Manual review load.
    review_load = _lines_of(own, "human_review_load")
    straining = [f for f in review_load if f["trend"]["moved"] == WORSE or f["worst_level"] in PAST_WARNING]
    basis["manual_review_unscalable"] = (
        "; ".join(
            f"{_ref(f)}: {f['current_text']} ({_level_word(f['worst_level'])}), {_movement_words(f['trend'], against=gettext('previous month'))}"
            for f in straining
        )
        if straining
        else (
            gettext("review load within its thresholds")
            if review_load
            else _no_contract(_("the human review load"))
        )
    )

    # Cohorts.
    risky_cuts = {
        cut
        for figure in own
        if figure["category"] in ("risk", "quality")
        for cut in figure["cuts_past_warning"]
    }
    low_risk_only, low_risk_basis = _low_risk_cohort_only(outcomes, risky_cuts)
    basis["low_risk_cohort_only"] = low_risk_basis or gettext(
        "no outcome improvement confined to low-risk cohorts"
    )

    # Friction and the value thesis.
    friction = [i for i in month_incidents if set(i["root_causes"]) & {"workflow", "training"}]
    basis["workflow_friction"] = "; ".join(
        f"{i['id']}: {i['title']} ({', '.join(i['root_causes'])})" for i in friction
    ) or gettext("no incident of the month with a workflow or training root cause")
    weak_values = [
        p
        for p in proposals
        if p["type"] == "value"
        and (p["proposed"] in ("weakened", "invalidated") or p["status"] == "weakened")
    ] + [
        {"id": a.readable_id, "proposed_label": a.get_status_display(), "statement": a.statement}
        for a in assumptions
        if a.type == "value" and a.status == "invalidated"
    ]
    basis["value_thesis_weak"] = "; ".join(
        f"{p['id']} ({p['proposed_label']}): {p['statement']}" for p in weak_values
    ) or gettext("no value assumption weakened or invalidated")

    evidence = MatrixEvidence(
        outcome_movement=movement,
        not_net=not_net,
        adoption_level=adoption_level,
        adoption_durable=durable,
        complaints_trend=complaints_trend,
        harm_signals=tuple(harm),
        risk_stable=risk_stable,
        cost_trend=cost_trend,
        cost_acceptable=cost_acceptable,
        release_defects=defects,
        manual_review_unscalable=bool(straining),
        low_risk_cohort_only=low_risk_only,
        workflow_friction=bool(friction),
        value_thesis_weak=bool(weak_values),
        basis=basis,
    )
    result = decision_matrix(evidence)
    next_session = data.next_sessions[capability.pk]

    fields = {
        "version": MEMO_VERSION,
        "meta": {
            "title": str(MEMO_TITLE),
            "capability": capability.name,
            "capability_slug": capability.slug,
            "month": month_label,
            "month_start": local_iso(month_start),
            "data_to": local_iso(min(month_end - datetime.timedelta(days=1), today)),
            "partial": month_end > today,
            "session_id": session.pk if session else None,
            "session": str(session) if session else "",
            "session_at": local_iso(session.scheduled_at) if session else None,
            "forum": session.forum.name if session else "",
            "generated_at": local_iso(now),
            "generated_by": person_name(by),
            "owner": person_name(owner),
            "owner_id": owner.pk if owner else None,
            "next_session_at": local_iso(next_session.scheduled_at) if next_session else None,
        },
        "figures": {key: sections_figures[key] for key in ("outcome", "adoption", "risk", "cost")},
        "release_rows": releases,
        "experiments": experiments,
        "incidents": month_incidents,
        "signals": signals,
        "actions": actions,
        "assumption_update": proposals,
        "judgments": {},
        "not_net": [
            {"metric_id": f["metric_id"], "reason": f["not_net_reason"], "url": f["url"]}
            for f in own
            if f["not_net"]
        ],
        "below_e3": sorted({f["metric_id"] for f in own if f["below_e3"]}),
        "citations": {
            "contracts": [f["metric_id"] for f in own],
            "releases": [row["id"] for row in releases],
            "experiments": [row["id"] for row in experiments],
            "incidents": [row["id"] for row in month_incidents],
        },
    }
    fields.update(
        _memo_lines(
            capability=capability,
            fields=fields,
            own=own,
            outcomes=outcomes,
            primary=primary,
            result=result,
            session=session,
            next_session=next_session,
            month_label=month_label,
            complaint_counts=(in_month, before),
        )
    )
    return MemoDraft(fields=fields, evidence=evidence, result=result)
