import calendar
import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contracts.models import StopHold
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.uploads import evidence_file_response
from releases import services
from releases.access import get_release_for_user, get_release_to_change
from releases.choices import (
    APPROVING_VERDICTS,
    DEFAULT_IMPACT_PERIODS,
    IMPACT_PERIOD_CHOICES,
    MOVE_LABELS,
)
from releases.filtersets import ReleaseFilterSet
from releases.forms import MOVE_FORMS, AttestForm, ImpactReviewForm, ReleaseForm, capabilities_to_change
from releases.ical import calendar_feed
from releases.models import EvidenceItem, Release, ReleaseApproval

PAGE_SIZE = 50
# The move a person came to the page for: shown first and open.
PRIMARY_MOVES = {"submit", "approve", "deploy"}

MOVE_DONE = {
    "submit": gettext_lazy("%(id)s is submitted for approval."),
    "approve": gettext_lazy("%(id)s is approved."),
    "approve_for_canary": gettext_lazy("%(id)s is approved for canary only."),
    "hold": gettext_lazy("%(id)s is on hold."),
    "request_changes": gettext_lazy("%(id)s: changes requested from its owner."),
    "reject": gettext_lazy("%(id)s is rejected."),
    "deploy": gettext_lazy("%(id)s: deployment recorded."),
    "rollback": gettext_lazy("%(id)s is rolled back; the previous version is back in the version set."),
}


def _with_vary(response):
    patch_vary_headers(response, ["HX-Request"])
    return response


def held_capability_ids() -> set[int]:
    """Capabilities a stop rule holds (one query for a whole page)."""
    return set(StopHold.objects.filter(lifted_at__isnull=True).values_list("capability_id", flat=True))


def _csv(releases):
    rows = releases.select_related("capability", "owner").iterator(chunk_size=2000)

    def lines():
        for release in rows:
            yield [
                release.readable_id,
                release.capability.name,
                release.planned_date.isoformat(),
                release.deployed_date.isoformat() if release.deployed_date else "",
                release.get_object_type_display(),
                release.change,
                release.version_from,
                release.version_to,
                release.affected_population,
                release.get_risk_tier_display(),
                release.owner,
                release.canary_plan,
                release.rollback_plan,
                release.post_release_review_date.isoformat() if release.post_release_review_date else "",
                release.get_state_display(),
            ]

    return csv_response(
        "releases.csv",
        [
            _("Release id"),
            _("Capability"),
            _("Planned date"),
            _("Deployed date"),
            _("Object type"),
            _("Change"),
            _("Version from"),
            _("Version to"),
            _("Affected population"),
            _("Risk tier"),
            _("Owner"),
            _("Canary plan"),
            _("Rollback plan"),
            _("Post-release review date"),
            _("State"),
        ],
        lines(),
    )


@require_GET
def release_list(request):
    """The release calendar as a list: filters shared with the month view and the API, CSV."""
    filterset = ReleaseFilterSet(
        request.GET, queryset=Release.objects.visible_to(request.user), request=request
    )
    if request.GET.get("format") == "csv":
        return _csv(filterset.qs)
    page = Paginator(filterset.qs.with_list_related(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "page": page,
        "releases": page.object_list,
        "held": held_capability_ids(),
        "today": timezone.localdate(),
    }
    if request.htmx:
        return _with_vary(render(request, "releases/release_list.html#rows", context))
    context["can_create"] = bool(capabilities_to_change(request.user))
    return _with_vary(render(request, "releases/release_list.html", context))


def _month(value: str) -> datetime.date:
    """``2026-11`` -> 1 November 2026; anything else -> this month."""
    try:
        year, month = (int(part) for part in (value or "").split("-"))
        return datetime.date(year, month, 1)
    except (TypeError, ValueError):
        return timezone.localdate().replace(day=1)


@require_GET
def release_calendar(request):
    """The release calendar as a month: releases on their deployed (or planned) date and
    post-release reviews on their review date, filtered like the list."""
    first = _month(request.GET.get("month", ""))
    weeks = calendar.Calendar(firstweekday=0).monthdatescalendar(first.year, first.month)
    grid_first, grid_last = weeks[0][0], weeks[-1][-1]
    filterset = ReleaseFilterSet(
        request.GET, queryset=Release.objects.visible_to(request.user), request=request
    )
    entries: dict[datetime.date, list] = {}
    releases = filterset.qs.between(grid_first, grid_last).select_related("capability").order_by("id")
    for release in releases:
        day = release.deployed_date or release.planned_date
        kind = "deployed" if release.deployed_date else "planned"
        if grid_first <= day <= grid_last:
            entries.setdefault(day, []).append({"kind": kind, "release": release})
        review = release.post_release_review_date
        if review and grid_first <= review <= grid_last and release.state not in ("rejected", "rolled_back"):
            entries.setdefault(review, []).append({"kind": "review", "release": release})
    previous = (first - datetime.timedelta(days=1)).replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    query = request.GET.copy()
    query.pop("month", None)
    context = {
        "filterset": filterset,
        "month": first,
        "month_label": date_format(first, "F Y"),
        "weekdays": [WEEKDAYS_ABBR[index] for index in range(7)],
        "weeks": [
            [
                {"day": day, "in_month": day.month == first.month, "entries": entries.get(day, [])}
                for day in week
            ]
            for week in weeks
        ],
        "previous": previous.strftime("%Y-%m"),
        "following": following.strftime("%Y-%m"),
        "this_month": timezone.localdate().strftime("%Y-%m"),
        "filter_query": query.urlencode(),
        "today": timezone.localdate(),
    }
    return _with_vary(render(request, "releases/release_calendar.html", context))


@require_GET
def release_queue(request):
    """What waits for this person: releases pending their approval verdict (risk partners and
    the other approvers) and post-release impact reviews that are due."""
    visible = Release.objects.visible_to(request.user)
    approving = Prefetch(
        "approvals",
        queryset=ReleaseApproval.objects.filter(verdict__in=APPROVING_VERDICTS).select_related("approver"),
        to_attr="approving",
    )
    pending = list(
        visible.awaiting_verdict_of(request.user)
        .with_list_related()
        .prefetch_related(approving)
        .order_by("planned_date", "id")
    )
    for release in pending:
        current = [a for a in release.approving if a.round == release.approval_round]
        release.progress = release.approval_progress(current)
        release.current = current
    reviews_due = list(
        visible.review_due().select_related("capability", "owner").order_by("post_release_review_date")
    )
    context = {
        "pending": pending,
        "reviews_due": reviews_due,
        "held": held_capability_ids(),
        "today": timezone.localdate(),
    }
    return render(request, "releases/release_queue.html", context)


def url_name(move: str) -> str:
    return f"releases:release-{move.replace('_', '-')}"


def _render_detail(
    request, release, *, bound_move=None, bound_form=None, attest_key=None, attest_form=None, status=200
):
    moves = []
    allowed = release.allowed_moves(request.user)
    for move in allowed:
        if move == "record_impact_review":
            continue
        form_class = MOVE_FORMS[move]
        if move == bound_move:
            form = bound_form
        elif form_class is not None:
            form = form_class(release=release, auto_id=f"id_{move}_%s")
        else:
            form = None
        moves.append(
            {
                "move": move,
                "label": MOVE_LABELS[move],
                "form": form,
                "url_name": url_name(move),
                "primary": move in PRIMARY_MOVES,
            }
        )
    may_attest = release.may_attest(request.user)
    items = list(release.evidence_items.select_related("attested_by"))
    for item in items:
        item.form = (
            (attest_form if item.key == attest_key else AttestForm(auto_id=f"id_{item.key}_%s"))
            if may_attest
            else None
        )
    approvals = list(release.approvals.select_related("approver", "decision"))
    current = [a for a in approvals if a.round == release.approval_round and a.verdict in APPROVING_VERDICTS]
    context = {
        "release": release,
        "moves": moves,
        "may_review": "record_impact_review" in allowed,
        "can_edit": release.may_edit(request.user),
        "evidence_items": items,
        "open_evidence": sum(1 for item in items if not item.is_attested),
        "approvals": approvals,
        "progress": release.approval_progress(current),
        "holds": list(release.stop_holds()),
        "impact_reviews": list(release.impact_reviews.select_related("reviewer", "decision_record")),
        "decisions": list(release.decisions.order_by("-decided_on", "-id")),
        "review_due": release.review_due(),
        "history": history_entries(release),
        "today": timezone.localdate(),
    }
    return render(request, "releases/release_detail.html", context, status=status)


@require_GET
def release_detail(request, readable_id):
    return _render_detail(request, get_release_for_user(request.user, readable_id))


@require_POST
def release_move(request, readable_id, move):
    """One move of the release's state machine; the model method decides, this view reports."""
    release = get_release_for_user(request.user, readable_id)
    form_class = MOVE_FORMS[move]
    inputs = {}
    form = None
    if form_class is not None:
        form = form_class(request.POST, release=release, auto_id=f"id_{move}_%s")
        if not form.is_valid():
            messages.error(request, _("Check the highlighted fields."))
            return _render_detail(request, release, bound_move=move, bound_form=form, status=400)
        inputs = form.cleaned_data
    state_before = release.state
    try:
        getattr(release, move)(by=request.user, **inputs)
    except DomainError as error:
        if form is not None and error.field in form.fields:
            form.add_error(error.field, error.message)
            return _render_detail(request, release, bound_move=move, bound_form=form, status=400)
        messages.error(request, error.message)
        return redirect(release)
    if (
        move in ("approve", "approve_for_canary")
        and release.state == state_before
        and release.approval_scope != "full"
    ):
        messages.success(
            request,
            _("%(id)s: your approval is recorded; it waits for a second approver.")
            % {"id": release.readable_id},
        )
    else:
        messages.success(request, MOVE_DONE[move] % {"id": release.readable_id})
    return redirect(release)


@require_http_methods(["GET", "POST"])
def release_create_view(request):
    if not capabilities_to_change(request.user):
        raise PermissionDenied(_("Your roles do not allow you to put releases on the calendar."))
    initial = {
        "capability": request.GET.get("capability") or request.session.get("current_capability"),
        "owner": request.user.pk,
    }
    form = ReleaseForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            release = services.release_create(
                by=request.user, capability=form.cleaned_data["capability"], **form.service_fields()
            )
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(
                request, _("Release %(id)s is on the calendar as a draft.") % {"id": release.readable_id}
            )
            return redirect(release)
    return render(request, "releases/release_form.html", {"form": form, "release": None})


@require_http_methods(["GET", "POST"])
def release_edit(request, readable_id):
    release = get_release_to_change(request.user, readable_id)
    form = ReleaseForm(request.POST or None, user=request.user, release=release)
    if request.method == "POST" and form.is_valid():
        try:
            services.release_update(release=release, by=request.user, fields=form.service_fields())
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Release %(id)s saved.") % {"id": release.readable_id})
            return redirect(release)
    return render(request, "releases/release_form.html", {"form": form, "release": release})


@require_POST
def release_attest(request, readable_id, key):
    """Attest one evidence item of the release's checklist."""
    release = get_release_for_user(request.user, readable_id)
    form = AttestForm(request.POST, request.FILES, auto_id=f"id_{key}_%s")
    if not form.is_valid():
        messages.error(request, _("Check the highlighted fields."))
        return _render_detail(request, release, attest_key=key, attest_form=form, status=400)
    try:
        item = release.attest(by=request.user, item=key, **form.cleaned_data)
    except DomainError as error:
        if error.field in form.fields:
            form.add_error(error.field, error.message)
            return _render_detail(request, release, attest_key=key, attest_form=form, status=400)
        messages.error(request, error.message)
        return redirect(release)
    messages.success(request, _("%(item)s attested.") % {"item": item.label})
    return redirect(f"{release.get_absolute_url()}#evidence")


@require_GET
def evidence_file(request, readable_id, key):
    """Evidence files are served only to people who may read the release."""
    release = get_release_for_user(request.user, readable_id)
    item = EvidenceItem.objects.filter(release=release, key=key).first()
    if item is None or not item.file:
        raise Http404(_("This evidence item has no file."))
    return evidence_file_response(item.file, item.filename)


def _periods(value) -> int:
    try:
        periods = int(value)
    except (TypeError, ValueError):
        return DEFAULT_IMPACT_PERIODS
    return periods if periods in IMPACT_PERIOD_CHOICES else DEFAULT_IMPACT_PERIODS


@require_http_methods(["GET", "POST"])
def release_impact(request, readable_id):
    """The post-release impact review (playbook 21.3): the observed effect computed from the
    capability's contracts before and after the deployed date, and the reviewer's decision."""
    release = get_release_for_user(request.user, readable_id)
    periods = _periods(
        request.POST.get("periods") if request.method == "POST" else request.GET.get("periods")
    )
    may_review = "record_impact_review" in release.allowed_moves(request.user)
    form = ImpactReviewForm(request.POST or None, initial={"periods": periods})
    if request.method == "POST":
        if not may_review:
            try:
                release.check_move("record_impact_review", request.user)  # PermissionDenied: 403
            except DomainError as error:
                messages.error(request, error.message)
                return redirect("releases:release-impact", readable_id=release.readable_id)
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                review = release.record_impact_review(by=request.user, **data)
            except DomainError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(
                    request,
                    _("Impact review of %(id)s recorded: %(decision)s.")
                    % {"id": release.readable_id, "decision": review.get_decision_display().lower()},
                )
                return redirect(release)
    context = {
        "release": release,
        "figures": services.impact_figures(release, periods=periods) if release.deployed_date else None,
        "periods": periods,
        "period_choices": IMPACT_PERIOD_CHOICES,
        "form": form,
        "may_review": may_review,
        "review_due": release.review_due(),
        "impact_reviews": list(release.impact_reviews.select_related("reviewer", "decision_record")),
    }
    return render(request, "releases/release_impact.html", context, status=400 if form.errors else 200)


@require_GET
def calendar_token_page(request):
    """The person's iCal feed URL, to paste into a calendar app, and a way to change it."""
    token = services.calendar_token_for(request.user)
    feed_url = request.build_absolute_uri(reverse("releases:ical", kwargs={"token": token.token}))
    return render(request, "releases/calendar_token.html", {"token": token, "feed_url": feed_url})


@require_POST
def calendar_token_regenerate(request):
    services.calendar_token_regenerate(user=request.user)
    messages.success(request, _("Your feed has a new address: the old one no longer works."))
    return redirect("releases:calendar-token")


@login_not_required
@require_GET
def ical_feed(request, token):
    """The iCal feed: no login (calendar apps cannot), the token in the URL is the key."""
    user = services.user_for_calendar_token(token)
    if user is None:
        raise Http404(_("No calendar feed has this address."))
    response = HttpResponse(calendar_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="productops-releases.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
