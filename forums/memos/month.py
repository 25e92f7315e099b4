"""Reading a capability's month for the memo: the status the month's figures propose for each
assumption, the releases of the month with their impact reviews and the defects tied to them,
the experiments, incidents, signals and actions of the month, the decision owner and the next
monthly value review session. Each reader is one or two queries whatever the data's size."""

import datetime
from collections import defaultdict

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext

from forums.choices import Cadence
from forums.memos.figures import _level_word, _movement_words, _ref
from forums.memos.matrix import WORSE
from forums.memos.sections import DEFECT_CATEGORIES, PAST_WARNING
from forums.models import Forum, Session
from productops.formats import local_iso, person_name

# --- reading the month ---------------------------------------------------------------------------


def _assumption_proposal(assumption, figures: dict[str, dict], month_label: str, today) -> dict:
    """The status the month's figures propose for one assumption, from the contracts that test
    it, with the evidence in words. Confirmed when every testing contract with data holds
    (within warning, not worse than its baseline, not "not net"); weakened when one does not;
    invalidated when one stands at its stop level, or at breach and worse than its baseline;
    needs more evidence when no testing contract has data this month."""
    verdicts = []
    texts = []
    for metric_id in assumption.tested_by_contracts or []:
        figure = figures.get(metric_id)
        if figure is None:
            verdicts.append("no_data")
            texts.append(gettext("%(metric)s: no active contract") % {"metric": metric_id})
            continue
        movement = figure["movement"]
        has_data = movement["sufficient"] or figure["level"] != "insufficient"
        if not has_data:
            verdict = "no_data"
        elif figure["worst_level"] == "stop" or (
            figure["worst_level"] == "breach" and movement["moved"] == WORSE
        ):
            verdict = "strongly_against"
        elif movement["moved"] == WORSE or figure["worst_level"] in PAST_WARNING or figure["not_net"]:
            verdict = "against"
        else:
            verdict = "supports"
        verdicts.append(verdict)
        text = gettext(
            "%(ref)s: %(current)s in %(month)s (%(level)s), baseline %(baseline)s, %(movement)s"
        ) % {
            "ref": _ref(figure),
            "current": figure["current_text"],
            "month": month_label,
            "level": _level_word(figure["worst_level"]),
            "baseline": figure["baseline_text"],
            "movement": _movement_words(movement, against=gettext("baseline")),
        }
        if figure["not_net"]:
            text += " — " + gettext("improvement not net: %(reason)s") % {
                "reason": figure["not_net_reason"].rstrip(".")
            }
        texts.append(text)
    if "strongly_against" in verdicts:
        proposed = "invalidated"
    elif "against" in verdicts:
        proposed = "weakened"
    elif "supports" in verdicts:
        proposed = "confirmed"
    else:
        proposed = "needs_evidence"
    evidence = gettext("Monthly value review of %(month)s: %(figures)s.") % {
        "month": month_label,
        "figures": "; ".join(texts) if texts else gettext("no metric contract tests it"),
    }
    from assumptions.choices import AssumptionStatus, AssumptionType

    return {
        "id": assumption.readable_id,
        "pk": assumption.pk,
        "url": assumption.get_absolute_url(),
        "statement": assumption.statement,
        "type": assumption.type,
        "type_label": str(AssumptionType(assumption.type).label),
        "status": assumption.status,
        "status_label": str(AssumptionStatus(assumption.status).label),
        "proposed": proposed,
        "proposed_label": str(AssumptionStatus(proposed).label),
        "contracts": list(assumption.tested_by_contracts or []),
        "evidence": evidence,
        "expires_on": local_iso(assumption.expires_on),
        # Leaving "expired", or an expiry date already past, needs a new expiry date (the ledger's rule).
        "needs_expiry": assumption.status == "expired" or assumption.expires_on < today,
    }


def _defects_of(figures: dict | None) -> list[str]:
    """Regressions in an impact figures dict (``releases.services.impact_figures``, live or as
    an impact review kept it) of the categories that count as defects."""
    found = []
    for contract in (figures or {}).get("contracts", []):
        if contract.get("category") not in DEFECT_CATEGORIES:
            continue
        for figure in [contract.get("whole") or {}, *contract.get("cuts", [])]:
            if figure.get("regression"):
                cut = figure.get("cut")
                found.append(f"{contract['metric_id']} [{cut}]" if cut else contract["metric_id"])
    return found


def regressions_in_words(regressions: list[str], limit: int = 3) -> str:
    """Regressions grouped by contract: "cc.repeat (whole population; intent=billing, team=north
    and 4 more cuts)" rather than one entry per cut."""
    by_metric: dict[str, list[str]] = {}
    for entry in regressions:
        metric, _sep, cut = entry.partition(" [")
        by_metric.setdefault(metric, []).append(cut.rstrip("]"))
    parts = []
    for metric, cuts in by_metric.items():
        named = [gettext("whole population") if not cut else cut for cut in cuts]
        shown = ", ".join(named[:limit])
        if len(named) > limit:
            shown += " " + gettext("and %(n)s more cuts") % {"n": len(named) - limit}
        parts.append(f"{metric} ({shown})")
    return "; ".join(parts)


def _defect_summary(row: dict) -> str:
    if row["regressions"]:
        return f"{row['id']}: {regressions_in_words(row['regressions'])}"
    return gettext("%(id)s: impact review decided %(decision)s") % {
        "id": row["id"],
        "decision": row["review_decision_label"].lower(),
    }


def _releases(capability_ids, *, previous_start, month_start, month_end, today) -> dict[int, list[dict]]:
    """{capability id: rows}: the releases of the month (planned, deployed or rolled back in it)
    and those deployed the month before (still "recent"), with their latest impact review and
    the regressions it found. A live release without an impact review has its impact figures
    computed now (``impact_figures_many``: the regression must not wait for the review to be
    seen). Four queries however many capabilities and releases."""
    from forums.memos.impact import impact_figures_many
    from releases.choices import LIVE_STATES, ImpactDecision
    from releases.models import ImpactReview, Release

    releases = list(
        Release.objects.filter(capability_id__in=list(capability_ids))
        .filter(
            Q(deployed_date__gte=previous_start, deployed_date__lt=month_end)
            | Q(planned_date__gte=month_start, planned_date__lt=month_end)
            | Q(rolled_back_date__gte=month_start, rolled_back_date__lt=month_end)
        )
        .prefetch_related(
            Prefetch("impact_reviews", queryset=ImpactReview.objects.order_by("-reviewed_at", "-id"))
        )
        .order_by("planned_date", "readable_id")
    )
    unreviewed = [
        release
        for release in releases
        if not release.impact_reviews.all()
        and release.state in LIVE_STATES
        and release.deployed_date
        and release.deployed_date <= today
    ]
    live_figures = impact_figures_many(unreviewed) if unreviewed else {}
    rows: dict[int, list[dict]] = {capability_id: [] for capability_id in capability_ids}
    for release in releases:
        reviews = list(release.impact_reviews.all())
        review = reviews[0] if reviews else None
        live = release.state in LIVE_STATES
        figures = review.figures if review is not None else live_figures.get(release.pk)
        regressions = _defects_of(figures)
        # A release kept at its impact review despite a regression was judged by the release
        # forum: shown, not counted again. One the review sent to a hotfix still is a defect.
        kept = review is not None and review.decision == ImpactDecision.KEEP
        defect = (
            live
            and not kept
            and (bool(regressions) or (review is not None and review.decision == ImpactDecision.HOTFIX))
        )
        rows.setdefault(release.capability_id, []).append(
            {
                "id": release.readable_id,
                "url": release.get_absolute_url(),
                "object_type": release.object_type,
                "object_type_label": str(release.get_object_type_display()),
                "change": release.change,
                "version": f"{release.version_from or '—'} → {release.version_to}",
                "state": release.state,
                "state_label": str(release.get_state_display()),
                "planned": local_iso(release.planned_date),
                "deployed": local_iso(release.deployed_date),
                "rolled_back": local_iso(release.rolled_back_date),
                "review_decision": review.decision if review else "",
                "review_decision_label": str(review.get_decision_display()) if review else "",
                "review_comment": review.comment if review else "",
                "reviewed": review is not None,
                "regressions": regressions,
                "kept_despite_regressions": kept and bool(regressions),
                "defect": bool(defect),
            }
        )
    return rows


def _experiments(capability_ids, *, month_start, month_end) -> dict[int, list[dict]]:
    """{capability id: rows}: experiments that ran, read out or were decided during the month.
    One query."""
    from experiments.models import Experiment

    start_moment = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time.min))
    experiments = (
        Experiment.objects.filter(capability_id__in=list(capability_ids), start_date__lt=month_end)
        .exclude(state="proposed")
        .filter(
            Q(state__in=["running", "readout"])
            | Q(ended_on__gte=month_start)
            | Q(decided_at__gte=start_moment)
        )
        .select_related("primary_metric")
        .order_by("start_date", "readable_id")
    )
    rows: dict[int, list[dict]] = {capability_id: [] for capability_id in capability_ids}
    for experiment in experiments:
        rows.setdefault(experiment.capability_id, []).append(
            {
                "id": experiment.readable_id,
                "url": experiment.get_absolute_url(),
                "title": experiment.title,
                "state": experiment.state,
                "state_label": str(experiment.get_state_display()),
                "decision": experiment.decision,
                "decision_label": str(experiment.get_decision_display()) if experiment.decision else "",
                "result": experiment.result,
                "metric_id": experiment.primary_metric.metric_id if experiment.primary_metric else "",
            }
        )
    return rows


def _incidents(capability_ids, *, previous_start, month_end) -> dict[int, list[dict]]:
    """{capability id: rows}: incidents of the month and the month before. Two queries."""
    from incidents.models import Incident

    incidents = (
        Incident.objects.filter(
            capability_id__in=list(capability_ids), occurred_on__gte=previous_start, occurred_on__lt=month_end
        )
        .prefetch_related("root_causes")
        .order_by("occurred_on", "readable_id")
    )
    rows: dict[int, list[dict]] = {capability_id: [] for capability_id in capability_ids}
    for incident in incidents:
        rows.setdefault(incident.capability_id, []).append(
            {
                "id": incident.readable_id,
                "url": incident.get_absolute_url(),
                "title": incident.title,
                "source": incident.source,
                "severity": incident.severity,
                "severity_label": str(incident.get_severity_display()),
                "occurred_on": local_iso(incident.occurred_on),
                "state_label": str(incident.get_state_display()),
                "root_causes": sorted(cause.cause_class for cause in incident.root_causes.all()),
            }
        )
    return rows


def _signals(contract_ids, *, month_start, month_end) -> dict[int, list[dict]]:
    """{capability id: rows}: the signals of the contracts given open during the month. One query."""
    from contracts.models import Signal

    signals = (
        Signal.objects.filter(contract_id__in=list(contract_ids), opened_period__lt=month_end)
        .filter(Q(resolved_period__isnull=True) | Q(resolved_period__gte=month_start))
        .select_related("contract", "action")
        .order_by("contract__metric_id", "cut")
    )
    rows: dict[int, list[dict]] = defaultdict(list)
    for signal in signals:
        rows[signal.contract.capability_id].append(
            {
                "metric_id": signal.contract.metric_id,
                "category": signal.contract.category,
                "cut": signal.cut,
                "level": signal.level,
                "worst_level": signal.worst_level,
                "opened": local_iso(signal.opened_period),
                "resolved": local_iso(signal.resolved_period),
                "action": signal.action.readable_id if signal.action else "",
                "url": signal.get_absolute_url(),
            }
        )
    return rows


def _actions(capability_ids, *, month_start, month_end, today) -> dict[int, dict]:
    """{capability id: {"open": rows, "closed": rows}}: actions open now or closed during the
    month, with their accepted closure evidence. Two queries."""
    from actions.models import Action, ClosureEvidence

    start = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(month_end, datetime.time.min))
    actions = (
        Action.objects.filter(capability_id__in=list(capability_ids))
        .filter(~Q(status="closed") | Q(closed_at__gte=start, closed_at__lt=end))
        .select_related("owner")
        .prefetch_related(
            Prefetch(
                "evidence",
                queryset=ClosureEvidence.objects.filter(verdict="accepted").order_by("-submitted_at", "-id"),
            )
        )
        .order_by("due_date", "readable_id")
    )
    result: dict[int, dict] = {capability_id: {"open": [], "closed": []} for capability_id in capability_ids}
    for action in actions:
        evidence = list(action.evidence.all())
        row = {
            "id": action.readable_id,
            "url": action.get_absolute_url(),
            "action": action.action,
            "owner": person_name(action.owner),
            "due_date": local_iso(action.due_date),
            "status": action.status,
            "status_label": str(action.get_status_display()),
            "overdue": action.status != "closed" and action.due_date < today,
            "closure_criterion": action.closure_criterion,
            "closure_evidence": evidence[0].text if evidence else "",
            "closed_at": local_iso(action.closed_at),
        }
        found = result.setdefault(action.capability_id, {"open": [], "closed": []})
        (found["closed"] if action.status == "closed" else found["open"]).append(row)
    for found in result.values():
        found["open"].sort(key=lambda row: (not row["overdue"], row["status"] != "blocked", row["due_date"]))
    return result


def _decision_owners(capability_ids, session, by) -> dict[int, object]:
    """{capability id: who owns the decision}: the forum's owner when there is a session, else
    the capability's AI PM (accountable for the monthly value review), else the person
    generating the memo. One query at most."""
    if session is not None:
        return {capability_id: session.forum.owner for capability_id in capability_ids}
    from productops.models import RoleAssignment

    owners: dict[int, object] = {}
    for row in (
        RoleAssignment.objects.filter(
            capability_id__in=list(capability_ids), role="ai_pm", user__is_active=True
        )
        .select_related("user")
        .order_by("pk")
    ):
        owners.setdefault(row.capability_id, row.user)
    return {capability_id: owners.get(capability_id, by) for capability_id in capability_ids}


def monthly_forums_for(capability):
    """The monthly value review forums whose scope covers the capability (or the whole
    organisation)."""
    return (
        Forum.objects.filter(cadence=Cadence.MONTHLY_VALUE_REVIEW)
        .covering([capability.pk])
        .distinct()
        .order_by("name", "pk")
    )


def _next_review_sessions(capability_ids, session, after) -> dict[int, Session | None]:
    """{capability id: the next monthly value review session after ``after``}: of the session's
    own forum when there is a session, else of any monthly value review forum whose scope covers
    the capability (or the whole organisation). Two queries."""
    sessions = Session.objects.filter(scheduled_at__gt=after).select_related("forum")
    if session is not None:
        first = sessions.filter(forum_id=session.forum_id).order_by("scheduled_at").first()
        return {capability_id: first for capability_id in capability_ids}
    found: dict[int, Session | None] = {capability_id: None for capability_id in capability_ids}
    wanted = set(found)
    for candidate in (
        sessions.filter(forum__cadence=Cadence.MONTHLY_VALUE_REVIEW)
        .prefetch_related("forum__scope")
        .order_by("scheduled_at", "pk")
    ):
        scope = {capability.pk for capability in candidate.forum.scope.all()}
        for capability_id in (wanted & scope) if scope else set(wanted):
            found[capability_id] = candidate
            wanted.discard(capability_id)
        if not wanted:
            break
    return found
