"""The services of the quarterly portfolio review (``portfolio_review_open``,
``scorecard_rate``, ``scorecard_decide``, ``portfolio_review_close``): the one path the pages,
the API and any job take, with the quarters a review is named by and who may read and change
it. A person rates, a person decides; deciding writes the decision log through
``decisions.services``."""

import datetime
import re
from collections import defaultdict

from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from forums.choices import PortfolioDecision, PortfolioReviewState, ScorecardDimension
from forums.meeting import session_decision_outcome
from forums.models import PortfolioReview, ScorecardRow
from forums.portfolio_review.figures import portfolio_figures
from forums.portfolio_review.suggestions import Suggestion, suggest_all
from productops.errors import DomainError, TransitionNotAllowed
from productops.permissions import can_change, can_view, require_change, role_map, visible_capability_ids
from productops.roles import Activity

ACTIVITY = Activity.QUARTERLY_PORTFOLIO_REVIEW
DIMENSIONS: list[str] = list(ScorecardDimension.values)
RATINGS = (1, 2, 3, 4, 5)


# A quarter's figures: the thirteen weeks up to the review (or to the quarter's end for a past
# quarter), so a review held in the first weeks of its quarter still reads a full quarter.
WINDOW_DAYS = 91


_QUARTER = re.compile(r"^(?P<year>\d{4})-Q(?P<number>[1-4])$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# 9.3's decisions as the decision log's types (each has its own type there).
DECISION_TYPES: dict[str, str] = {
    PortfolioDecision.FUND: "fund",
    PortfolioDecision.SCALE: "scale",
    PortfolioDecision.SCALE_SELECTIVELY: "scale_selectively",
    PortfolioDecision.RESTRICT: "restrict",
    PortfolioDecision.CONSOLIDATE: "consolidate",
    PortfolioDecision.PLATFORMIZE: "platformize",
    PortfolioDecision.PAUSE: "pause",
    PortfolioDecision.RETIRE: "retire",
}


# --- quarters --------------------------------------------------------------------------------


def quarter_of(day: datetime.date) -> str:
    """The quarter a day falls in, as the review names it: ``2026-Q4``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def clean_quarter(quarter) -> str:
    """``quarter`` as ``YYYY-QN`` (``2026-q4`` and surrounding blanks are forgiven)."""
    text = str(quarter or "").strip().upper()
    if not _QUARTER.match(text):
        raise DomainError(_("Name the quarter as YYYY-QN, e.g. 2026-Q4."), field="quarter")
    return text


def quarter_bounds(quarter: str) -> tuple[datetime.date, datetime.date]:
    """The first and last day of a quarter."""
    match = _QUARTER.match(clean_quarter(quarter))
    year, number = int(match["year"]), int(match["number"])
    first = datetime.date(year, 3 * (number - 1) + 1, 1)
    following = datetime.date(year + 1, 1, 1) if number == 4 else datetime.date(year, 3 * number + 1, 1)
    return first, following - datetime.timedelta(days=1)


def figures_window(quarter: str, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The days whose figures the review reads: the 13 weeks ending at the earlier of today and
    the quarter's last day."""
    _first, last = quarter_bounds(quarter)
    end = min(today, last)
    return end - datetime.timedelta(days=WINDOW_DAYS - 1), end


def review_date_of(next_review: str) -> datetime.date | None:
    """The date a "next review" text names, when it names one: a quarter (its first day) or an
    ISO date. Free text ("2026-Q3 monthly value review") is read from its first word."""
    token = (next_review or "").strip().split(" ")[0].upper()
    if _QUARTER.match(token):
        return quarter_bounds(token)[0]
    if _DATE.match(token):
        try:
            return datetime.date.fromisoformat(token)
        except ValueError:
            return None
    return None


# --- who may do what -----------------------------------------------------------------------------


def may_run_review(user) -> bool:
    """Opening and closing a quarter's review takes A or R on the quarterly portfolio review
    across the organisation (Finance, Executive; an organisation-wide AI PM or Risk partner)."""
    return can_change(user, ACTIVITY)


def may_rate(user, row: ScorecardRow) -> bool:
    """Rating and deciding a capability's row takes A or R on the quarterly portfolio review for
    that capability (its AI PM and Risk partner, Finance, Executive)."""
    return can_change(user, ACTIVITY, row.capability_id)


def _require_run(by) -> None:
    if by is not None:
        require_change(by, ACTIVITY)


def _require_draft(review: PortfolioReview) -> None:
    if review.state != PortfolioReviewState.DRAFT:
        raise TransitionNotAllowed(
            _("The %(quarter)s review is closed: its decisions stand in the decision log.")
            % {"quarter": review.quarter},
            field="state",
        )


def reviews_visible_to(user):
    """Reviews a person may read: every one, for anyone holding a role somewhere (the review
    covers the whole portfolio; the rows they see are those of their capabilities)."""
    if not getattr(user, "is_authenticated", False):
        return PortfolioReview.objects.none()
    if not (user.is_superuser or role_map(user)):
        return PortfolioReview.objects.none()
    return PortfolioReview.objects.all()


def rows_visible_to(user, queryset=None):
    queryset = ScorecardRow.objects.all() if queryset is None else queryset
    visible = visible_capability_ids(user)
    return queryset if visible is None else queryset.filter(capability_id__in=visible)


def get_review_for_user(user, quarter: str) -> PortfolioReview:
    """The review of a quarter, or 404 (also for a person holding no role at all)."""
    return get_object_or_404(
        reviews_visible_to(user).select_related("session__forum"), quarter=str(quarter).upper()
    )


def get_row_for_user(user, pk: int) -> ScorecardRow:
    """A scorecard row, or 404 when the person holds no role on its capability."""
    row = get_object_or_404(ScorecardRow.objects.select_related("review", "capability"), pk=pk)
    if not can_view(user, row.capability_id):
        raise Http404
    return row


# --- services ----------------------------------------------------------------------------------


def _blank_entry() -> dict:
    return {"rating": None, "suggested": None, "evidence": "", "note": "", "cites": []}


def _with_suggestions(ratings: dict, suggestions: dict[str, Suggestion]) -> dict:
    """The ratings with this quarter's suggestions written beside them; a person's rating and
    note are kept as they are."""
    updated = {}
    for dimension in DIMENSIONS:
        entry = {**_blank_entry(), **(ratings.get(dimension) or {})}
        suggestion = suggestions[dimension]
        entry.update(suggested=suggestion.rating, evidence=suggestion.evidence, cites=list(suggestion.cites))
        updated[dimension] = entry
    return updated


@transaction.atomic
def portfolio_review_open(
    *, quarter, session=None, by, today: datetime.date | None = None
) -> PortfolioReview:
    """Open (or re-open) the review of a quarter: one scorecard row for every capability that is
    not retired, with each dimension's suggestion computed from the quarter's data.

    Idempotent: opening again adds rows for capabilities that appeared since and refreshes the
    suggestions of undecided rows, keeping every rating and note a person gave; a decided row
    keeps the suggestions its decision saw; a closed review is returned as it is. A session of
    a quarterly portfolio review forum is linked when the review has none yet."""
    from forums.choices import Cadence
    from portfolio.models import Capability

    _require_run(by)
    quarter = clean_quarter(quarter)
    if session is not None and session.forum.cadence != Cadence.QUARTERLY_PORTFOLIO_REVIEW:
        raise DomainError(
            _("Only a quarterly portfolio review session holds the scorecard."), field="session"
        )
    today = today or timezone.localdate()
    review, created = PortfolioReview.objects.get_or_create(quarter=quarter, defaults={"session": session})
    review = PortfolioReview.objects.select_for_update().get(pk=review.pk)
    if review.state != PortfolioReviewState.DRAFT:
        return review
    if session is not None and review.session_id is None:
        review.session = session
        review._history_user = by
        review._change_reason = _("Linked to the session")
        review.save(update_fields=["session", "updated_at"])

    rows = {
        row.capability_id: row
        for row in review.rows.select_for_update(of=("self",)).select_related("capability")
    }
    capabilities = list(Capability.objects.active().order_by("name"))
    missing = [capability for capability in capabilities if capability.pk not in rows]
    undecided = [row for row in rows.values() if not row.decision]
    subjects = missing + [row.capability for row in undecided]
    start, end = figures_window(quarter, today)
    figures = portfolio_figures(subjects, start=start, end=end)
    suggestions = {capability_id: suggest_all(found) for capability_id, found in figures.items()}

    new_rows = [
        ScorecardRow(
            review=review, capability=capability, ratings=_with_suggestions({}, suggestions[capability.pk])
        )
        for capability in missing
    ]
    if new_rows:
        bulk_create_with_history(
            new_rows, ScorecardRow, default_user=by, default_change_reason=_("Opened with data suggestions")
        )
    changed = []
    now = timezone.now()
    for row in undecided:
        ratings = _with_suggestions(row.ratings, suggestions[row.capability_id])
        if ratings != row.ratings:
            row.ratings = ratings
            row.updated_at = now
            changed.append(row)
    if changed:
        bulk_update_with_history(
            changed,
            ScorecardRow,
            ["ratings", "updated_at"],
            default_user=by,
            default_change_reason=_("Suggestions refreshed from the quarter's data"),
        )
    return review


def _clean_rating(value) -> int:
    try:
        rating = int(value)
    except (TypeError, ValueError):
        rating = 0
    if rating not in RATINGS:
        raise DomainError(_("Rate from 1 to 5."), field="rating")
    return rating


def _locked_row(row: ScorecardRow) -> ScorecardRow:
    return (
        ScorecardRow.objects.select_for_update(of=("self",))
        .select_related("review", "capability", "decision_logged")
        .get(pk=row.pk)
    )


def _sync(target: ScorecardRow, source: ScorecardRow) -> None:
    for field_ in ScorecardRow._meta.concrete_fields:
        setattr(target, field_.attname, getattr(source, field_.attname))
    for name in ("review", "capability", "decision_logged", "decided_by"):
        if ScorecardRow._meta.get_field(name).is_cached(source):
            setattr(target, name, getattr(source, name))


@transaction.atomic
def scorecard_rate(
    *, row: ScorecardRow, dimension: str, by, rating=None, note: str = "", accept: bool = False
) -> ScorecardRow:
    """A person rates one dimension of a capability 1-5: ``accept=True`` takes the data's
    suggestion as it is; any other rating (or a dimension the data cannot speak to) needs a note
    saying what it rests on. A decided row's ratings are frozen with its decision."""
    fresh = _locked_row(row)
    if by is not None:
        require_change(by, ACTIVITY, fresh.capability)
    _require_draft(fresh.review)
    if dimension not in DIMENSIONS:
        raise DomainError(_("Choose one of the eight dimensions of the scorecard."), field="dimension")
    label = ScorecardDimension(dimension).label
    if fresh.decision:
        raise TransitionNotAllowed(
            _(
                "%(capability)s was decided (%(decision)s): its ratings stand with that decision. "
                "Supersede the decision to change it."
            )
            % {"capability": fresh.capability.name, "decision": fresh.get_decision_display()},
            field="rating",
        )
    entry = {**_blank_entry(), **(fresh.ratings.get(dimension) or {})}
    suggested = entry.get("suggested")
    note = (note or "").strip()
    if accept:
        if suggested is None:
            raise DomainError(
                _("The data suggests nothing for %(dimension)s: give your rating and say what it rests on.")
                % {"dimension": str(label).lower()},
                field="rating",
            )
        value = suggested
    else:
        value = _clean_rating(rating)
        if value != suggested and not note:
            message = (
                _("The data suggests %(suggested)s: say why you rate %(rating)s.")
                % {"suggested": suggested, "rating": value}
                if suggested is not None
                else _("No data speaks to %(dimension)s: say what your rating rests on.")
                % {"dimension": str(label).lower()}
            )
            raise DomainError(message, field="note")
    entry.update(rating=value, note=note)
    fresh.ratings = {**fresh.ratings, dimension: entry}
    fresh._history_user = by
    fresh._change_reason = f"{label}: {value}" + (" " + _("(suggestion accepted)") if accept else "")
    fresh.save(update_fields=["ratings", "updated_at"])
    _sync(row, fresh)
    return row


def _cited_records(ratings: dict) -> list:
    """The records the ratings cite (contracts, incidents, assumptions, backlog items), loaded
    with one query per kind, in the order cited."""
    from assumptions.models import Assumption
    from contracts.models import MetricContract
    from incidents.models import Incident
    from portfolio.models import BacklogItem

    models = {
        "contract": MetricContract,
        "incident": Incident,
        "assumption": Assumption,
        "backlog": BacklogItem,
    }
    wanted: dict[str, list[int]] = defaultdict(list)
    order = []
    for dimension in DIMENSIONS:
        for cite in (ratings.get(dimension) or {}).get("cites") or []:
            kind, pk = cite.get("kind"), cite.get("id")
            if kind in models and (kind, pk) not in order:
                order.append((kind, pk))
                wanted[kind].append(pk)
    found = {
        (kind, record.pk): record
        for kind, pks in wanted.items()
        for record in models[kind].objects.filter(pk__in=pks)
    }
    return [found[key] for key in order if key in found]


def _decision_text(row: ScorecardRow, decision: str, fields: dict) -> str:
    lines = [
        _("%(quarter)s portfolio review — %(decision)s: %(basis)s")
        % {
            "quarter": row.review.quarter,
            "decision": PortfolioDecision(decision).label,
            "basis": fields["evidence_basis"],
        },
        _("Funding change: %(value)s") % {"value": fields["funding_change"]},
    ]
    if fields["platform_dependency"]:
        lines.append(_("Platform dependency: %(value)s") % {"value": fields["platform_dependency"]})
    lines.append(_("Risk condition: %(value)s") % {"value": fields["risk_condition"]})
    return "\n".join(lines)


OUTPUT_FIELDS = ("evidence_basis", "funding_change", "platform_dependency", "risk_condition", "next_review")
REQUIRED_OUTPUT = {
    "evidence_basis": gettext_lazy("Say what evidence the decision rests on (9.4 evidence basis)."),
    "funding_change": gettext_lazy("Say what happens to the funding (9.4 funding change), e.g. “no change”."),
    "risk_condition": gettext_lazy("Name the risk condition the decision holds under (9.4)."),
    "next_review": gettext_lazy("Say when the decision is looked at again (9.4 next review)."),
}


@transaction.atomic
def scorecard_decide(
    *,
    row: ScorecardRow,
    by,
    decision: str,
    evidence_basis: str,
    funding_change: str,
    risk_condition: str,
    next_review: str,
    platform_dependency: str = "",
    supersede: bool = False,
) -> ScorecardRow:
    """Take the decision of 9.3 for a capability and fill its output row of 9.4.

    Every dimension must be rated first. The decision is written to the decision log (its type
    mapped from the portfolio decision, the review's session as the forum session, the records
    the ratings cite as evidence, the person as its owner) and linked on the row. A decided row
    is never silently changed: deciding again needs ``supersede=True`` and records a new decision
    that supersedes the logged one; the log keeps both."""
    fresh = _locked_row(row)
    if by is None:
        raise DomainError(_("A person takes the portfolio decision."), field="decided_by")
    require_change(by, ACTIVITY, fresh.capability)
    _require_draft(fresh.review)
    if decision not in PortfolioDecision.values:
        raise DomainError(
            _("Choose fund, scale, scale selectively, restrict, consolidate, platformize, pause or retire."),
            field="decision",
        )
    unrated = [
        str(ScorecardDimension(dimension).label).lower()
        for dimension in DIMENSIONS
        if (fresh.ratings.get(dimension) or {}).get("rating") is None
    ]
    if unrated:
        raise DomainError(
            _("Rate every dimension before deciding: %(names)s still unrated.")
            % {"names": ", ".join(unrated)},
            field="ratings",
        )
    values = {
        "evidence_basis": evidence_basis,
        "funding_change": funding_change,
        "platform_dependency": platform_dependency,
        "risk_condition": risk_condition,
        "next_review": next_review,
    }
    values = {name: (value or "").strip() for name, value in values.items()}
    for name, message in REQUIRED_OUTPUT.items():
        if not values[name]:
            raise DomainError(str(message), field=name)
    for name in ("funding_change", "platform_dependency", "next_review"):
        limit = ScorecardRow._meta.get_field(name).max_length
        if len(values[name]) > limit:
            raise DomainError(_("Keep it under %(limit)s characters.") % {"limit": limit}, field=name)
    previous = fresh.decision_logged
    if previous is not None and not supersede:
        raise TransitionNotAllowed(
            _(
                "%(capability)s was already decided: %(decision)s (%(id)s). To change it, supersede "
                "that decision: the decision log keeps both."
            )
            % {
                "capability": fresh.capability.name,
                "decision": fresh.get_decision_display(),
                "id": previous.readable_id,
            },
            field="decision",
        )

    from decisions.services import decision_record

    review_date = review_date_of(values["next_review"])
    if review_date is not None and review_date < timezone.localdate():
        review_date = None
    # The quarterly review's keepers (Finance, Executive, Risk) are not all writers of the decision
    # log: then the system records it, and the person stands as its owner (as releases do).
    recorder = by if can_change(by, Activity.DECISION_LOG, fresh.capability) else None
    record = decision_record(
        capability=fresh.capability,
        by=recorder,
        type=DECISION_TYPES[decision],
        decision=_decision_text(fresh, decision, values),
        options_considered=_(
            "Fund, scale, scale selectively, restrict, consolidate, platformize, pause or retire "
            "(quarterly portfolio review, 9.3)."
        ),
        owner=by,
        evidence=_cited_records(fresh.ratings),
        review_trigger=_("Next review: %(when)s") % {"when": values["next_review"]},
        review_date=review_date,
        forum_session=fresh.review.session,
        decided_on=fresh.review.session.meeting_day if fresh.review.session else None,
        supersedes=previous,
        details={
            "quarter": fresh.review.quarter,
            "portfolio_decision": decision,
            **values,
            "ratings": {
                dimension: (fresh.ratings.get(dimension) or {}).get("rating") for dimension in DIMENSIONS
            },
        },
    )
    fresh.decision = decision
    for name, value in values.items():
        setattr(fresh, name, value)
    fresh.decided_by = by
    fresh.decision_logged = record
    fresh._history_user = by
    fresh._change_reason = (
        _("Decided: %(decision)s (%(id)s)")
        if previous is None
        else _("Decision superseded: %(decision)s (%(id)s)")
    ) % {"decision": PortfolioDecision(decision).label, "id": record.readable_id}
    fresh.save()
    if fresh.review.session_id:
        session_decision_outcome(session=fresh.review.session, decision=record, by=by)
    _sync(row, fresh)
    return row


@transaction.atomic
def portfolio_review_close(*, review: PortfolioReview, by) -> PortfolioReview:
    """Close the quarter's review: every capability on the scorecard must have its decision."""
    _require_run(by)
    fresh = PortfolioReview.objects.select_for_update().get(pk=review.pk)
    _require_draft(fresh)
    undecided = list(
        fresh.rows.filter(decision="").order_by("capability__name").values_list("capability__name", flat=True)
    )
    if undecided:
        raise DomainError(
            ngettext(
                "Every capability needs its decision before the review closes: %(names)s is undecided.",
                "Every capability needs its decision before the review closes: %(names)s are undecided.",
                len(undecided),
            )
            % {"names": ", ".join(undecided)},
            field="rows",
        )
    fresh.state = PortfolioReviewState.DECIDED
    fresh.decided_at = timezone.now()
    fresh._history_user = by
    fresh._change_reason = _("Review closed")
    fresh.save(update_fields=["state", "decided_at", "updated_at"])
    review.state, review.decided_at = fresh.state, fresh.decided_at
    return review
