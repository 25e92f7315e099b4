"""Pages of the quarterly portfolio review: the reviews by quarter, the scorecard of one quarter
(decisions and exceptions first, then the eight dimensions per capability), and the POSTs that
rate, decide and close, in place with htmx or as plain forms. Thin views over
``forums.portfolio_review``."""

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from forums import portfolio_review as service
from forums.access import get_session_for_user
from forums.choices import PortfolioDecision, PortfolioReviewState, ScorecardDimension
from forums.forms.portfolio_review import PortfolioReviewOpenForm, ScorecardDecisionForm, ScorecardRatingForm
from productops.errors import DomainError

TEMPLATE = "forums/portfolio_review.html"


def _detail_url(review, row=None) -> str:
    url = reverse("forums:portfolio-review-detail", kwargs={"quarter": review.quarter})
    return f"{url}#scorecard-row-{row.pk}" if row is not None else url


@require_GET
def portfolio_review_list(request):
    """The reviews by quarter, newest first, with how far each got."""
    reviews = (
        service.reviews_visible_to(request.user)
        .select_related("session__forum")
        .annotate(
            row_total=Count("rows"),
            decided_total=Count("rows", filter=~Q(rows__decision="")),
            stop_total=Count(
                "rows", filter=Q(rows__decision__in=[PortfolioDecision.PAUSE, PortfolioDecision.RETIRE])
            ),
        )
        .order_by("-quarter")
    )
    may_open = service.may_run_review(request.user)
    return render(
        request,
        "forums/portfolio_review_list.html",
        {"reviews": reviews, "form": PortfolioReviewOpenForm() if may_open else None},
    )


@require_POST
def portfolio_review_open(request):
    """Open (or bring up to date) the review of the quarter typed in."""
    form = PortfolioReviewOpenForm(request.POST)
    if form.is_valid():
        try:
            review = service.portfolio_review_open(quarter=form.cleaned_data["quarter"], by=request.user)
        except DomainError as error:
            form.add_error("quarter" if error.field == "quarter" else None, error.message)
        else:
            messages.success(request, _("Scorecard %(quarter)s is open.") % {"quarter": review.quarter})
            return redirect(_detail_url(review))
    reviews = service.reviews_visible_to(request.user).annotate(
        row_total=Count("rows"), decided_total=Count("rows", filter=~Q(rows__decision=""))
    )
    return render(
        request, "forums/portfolio_review_list.html", {"reviews": reviews, "form": form}, status=400
    )


@require_POST
def session_portfolio_review(request, pk):
    """From a quarterly portfolio review session: open the scorecard of the session's quarter,
    linked to the session, and go there."""
    session = get_session_for_user(request.user, pk)
    quarter = service.quarter_of(timezone.localtime(session.scheduled_at).date())
    try:
        review = service.portfolio_review_open(quarter=quarter, session=session, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(session)
    return redirect(_detail_url(review))


def _context(request, review, views, *, evidence_view=False) -> dict:
    draft = review.state == PortfolioReviewState.DRAFT
    retirement = sorted(
        (view for view in views if view.retirement_candidate),
        key=lambda view: (view.retirement_cell.shown or 6, view.row.capability.name),
    )
    decided = sum(1 for view in views if view.row.decision)
    for view in views:
        if draft and view.can_edit and view.decision_form is None:
            row = view.row
            view.decision_form = ScorecardDecisionForm(
                initial={name: getattr(row, name) for name in ("decision", *service.OUTPUT_FIELDS)}
            )
    return {
        "review": review,
        "views": views,
        "ordered": service.decisions_first(views),
        "retirement": retirement,
        "decided": decided,
        "total": len(views),
        "undecided": len(views) - decided,
        "counts": service.decision_counts(views),
        "draft": draft,
        "may_close": draft and service.may_run_review(request.user),
        "evidence_view": evidence_view,
        "dimensions": [
            (value, label, *service.DIMENSION_GUIDE[value]) for value, label in ScorecardDimension.choices
        ],
        "decision_groups": [
            (
                group,
                [(value, PortfolioDecision(value).label, service.DECISION_WHEN[value]) for value in values],
            )
            for group, values in service.DECISION_GROUPS
        ],
        "ratings": service.RATINGS,
    }


@require_GET
def portfolio_review_detail(request, quarter):
    """The scorecard of one quarter. ``?view=evidence`` lists every dimension's evidence as a table."""
    review = service.get_review_for_user(request.user, quarter)
    views = service.scorecard_rows(review, request.user)
    context = _context(request, review, views, evidence_view=request.GET.get("view") == "evidence")
    response = render(request, TEMPLATE, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _answer(request, row, *, error: str = "", dimension: str = "", decision_form=None, status: int = 200):
    """After a rating or a decision: with htmx, the capability's rows plus the progress line and
    the decisions table out of band; without, the whole page (on an error) or a redirect."""
    review = row.review
    views = service.scorecard_rows(review, request.user)
    current = next(view for view in views if view.row.pk == row.pk)
    current.error, current.error_dimension, current.decision_form = error, dimension, decision_form
    if not request.htmx and not error:
        return redirect(_detail_url(review, row))
    context = _context(request, review, views)
    if not request.htmx:
        return render(request, TEMPLATE, context, status=status)
    context.update(view=current, oob=True)
    row_html = render_to_string(f"{TEMPLATE}#row", context, request=request).strip()
    out_of_band = "".join(
        render_to_string(f"{TEMPLATE}#{name}", context, request=request).strip()
        for name in ("progress", "retirement", "decisions")
    )
    # The swapped row is a <tbody>, so the answer is parsed as table content: the out-of-band
    # regions travel in a <template>, where any element may stand (htmx 2 swaps them from there).
    # htmx swaps 2xx answers only: a refused rating comes back as 200 with the message in the row.
    response = HttpResponse(f"{row_html}\n<template>{out_of_band}</template>")
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def scorecard_row_rate(request, pk):
    row = service.get_row_for_user(request.user, pk)
    form = ScorecardRatingForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(message for messages_ in form.errors.values() for message in messages_)
        return _answer(request, row, error=errors, dimension=request.POST.get("dimension", ""), status=400)
    data = form.cleaned_data
    try:
        service.scorecard_rate(
            row=row,
            dimension=data["dimension"],
            by=request.user,
            rating=data["rating"],
            note=data["note"],
            accept=data["accept"],
        )
    except DomainError as error:
        return _answer(
            request, row, error=error.message, dimension=data["dimension"], status=error.status_code
        )
    if not request.htmx:
        messages.success(
            request,
            _("%(capability)s: %(dimension)s rated.")
            % {"capability": row.capability.name, "dimension": ScorecardDimension(data["dimension"]).label},
        )
    return _answer(request, row)


@require_POST
def scorecard_row_decide(request, pk):
    row = service.get_row_for_user(request.user, pk)
    form = ScorecardDecisionForm(request.POST)
    if not form.is_valid():
        return _answer(request, row, error=_("Choose a decision."), decision_form=form, status=400)
    try:
        service.scorecard_decide(row=row, by=request.user, **form.service_kwargs())
    except DomainError as error:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
        return _answer(request, row, error=error.message, decision_form=form, status=error.status_code)
    if not request.htmx:
        messages.success(
            request,
            _("%(capability)s: %(decision)s, logged as %(id)s.")
            % {
                "capability": row.capability.name,
                "decision": row.get_decision_display(),
                "id": row.decision_logged.readable_id,
            },
        )
    return _answer(request, row)


@require_POST
def portfolio_review_close(request, quarter):
    review = service.get_review_for_user(request.user, quarter)
    try:
        service.portfolio_review_close(review=review, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        views = service.scorecard_rows(review, request.user)
        return render(request, TEMPLATE, _context(request, review, views), status=error.status_code)
    messages.success(request, _("The %(quarter)s review is closed.") % {"quarter": review.quarter})
    return redirect(_detail_url(review))
