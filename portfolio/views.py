from django.conf import settings
from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portfolio.access import get_capability_for_user, get_capability_to_change
from portfolio.choices import SCORE_PARTS, TOP_BAND_SIZE, BacklogBand
from portfolio.filtersets import BacklogItemFilterSet, CapabilityFilterSet
from portfolio.forms import BacklogItemForm, BacklogMoveForm, CapabilityForm
from portfolio.models import BACKLOG_ACTIVITY, BacklogItem, Capability
from portfolio.services import backlog_item_create, backlog_item_update
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.models import RoleAssignment
from productops.permissions import can_change, require_change, roles_of
from productops.roles import Activity, Role

SESSION_KEY = "current_capability"


@require_GET
def capability_list(request):
    filterset = CapabilityFilterSet(request.GET, queryset=Capability.objects.visible_to(request.user))
    capabilities = filterset.qs
    if request.GET.get("format") == "csv":
        return csv_response(
            "capabilities.csv",
            [_("Name"), _("Slug"), _("Workflow"), _("Target users"), _("Risk tier"), _("Lifecycle status")],
            capabilities.values_list(
                "name", "slug", "workflow", "target_users", "risk_tier", "lifecycle_status"
            ),
        )
    context = {
        "filterset": filterset,
        "capabilities": capabilities,
        "can_create": can_change(request.user, Activity.CHARTER),
    }
    template = "portfolio/capability_list.html#rows" if request.htmx else "portfolio/capability_list.html"
    return render(request, template, context)


@require_GET
def capability_detail(request, slug):
    capability = get_capability_for_user(request.user, slug)
    request.session[SESSION_KEY] = capability.slug
    return render(
        request,
        "portfolio/capability_detail.html",
        {
            "capability": capability,
            "owner_map": RoleAssignment.objects.owner_map(capability),
            "my_roles": sorted(Role(role).label for role in roles_of(request.user, capability)),
            "can_edit": can_change(request.user, Activity.CHARTER, capability),
            "history": history_entries(capability),
        },
    )


@require_http_methods(["GET", "POST"])
def capability_create(request):
    require_change(request.user, Activity.CHARTER)
    form = CapabilityForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        capability = form.save()
        messages.success(request, _("Capability %(name)s created.") % {"name": capability.name})
        return redirect(capability)
    return render(request, "portfolio/capability_form.html", {"form": form, "capability": None})


@require_http_methods(["GET", "POST"])
def capability_edit(request, slug):
    capability = get_capability_to_change(request.user, slug, Activity.CHARTER)
    form = CapabilityForm(request.POST or None, instance=capability)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Charter of %(name)s saved.") % {"name": capability.name})
        return redirect(capability)
    return render(request, "portfolio/capability_form.html", {"form": form, "capability": capability})


@require_GET
def capability_switch(request):
    """The header's capability switcher: remember the choice and open that capability."""
    slug = request.GET.get("capability", "")
    if not slug:
        request.session.pop(SESSION_KEY, None)
        return redirect("portfolio:capability-list")
    capability = get_capability_for_user(request.user, slug)
    request.session[SESSION_KEY] = capability.slug
    return redirect(capability)


# --- Backlog governance (playbook 16) ----------------------------------------------------------

BACKLOG_MOVE_DONE = gettext_lazy("%(id)s moved to %(status)s.")


def _item_for_user(user, readable_id: str) -> BacklogItem:
    """The item, or 404 when the person holds no role on its capability."""
    return get_object_or_404(
        BacklogItem.objects.visible_to(user).select_related("capability", "expected_metric"),
        readable_id=readable_id,
    )


def _backlog_csv(ranked, filename: str):
    header = [
        _("Id"),
        _("Capability"),
        _("Title"),
        _("Class"),
        _("Status"),
        _("Band"),
        _("Rank on capability"),
        *[BacklogItem._meta.get_field(name).verbose_name for name in SCORE_PARTS],
        _("Priority score"),
        _("Override"),
        _("Override reason"),
        _("Incident severity"),
        _("Problem key"),
        _("Evidence link"),
        _("Expected metric"),
        _("Direction"),
        _("Expected movement"),
        _("Why it stands here"),
    ]

    def rows():
        for entry in ranked:
            item = entry.item
            yield [
                item.readable_id,
                item.capability.name,
                item.title,
                item.get_item_class_display(),
                item.get_status_display(),
                entry.band_label,
                entry.position,
                *[getattr(item, name) for name in SCORE_PARTS],
                item.priority_score,
                _("yes") if item.risk_override else "",
                item.override_reason,
                item.get_incident_severity_display(),
                item.problem_key,
                item.evidence_reference,
                item.expected_metric.metric_id,
                item.get_expected_direction_display(),
                item.expected_movement,
                entry.why,
            ]

    return csv_response(filename, header, rows())


def _bands(ranked) -> list[tuple[str, str, list]]:
    """[(band, label, entries)] for the top, next and later bands, in rank order."""
    by_band = {band: [] for band in (BacklogBand.TOP, BacklogBand.NEXT, BacklogBand.LATER)}
    for entry in ranked:
        if entry.band in by_band:
            by_band[entry.band].append(entry)
    return [(band, BacklogBand(band).label, entries) for band, entries in by_band.items()]


def _render_backlog(request, *, ranked, filterset, capability=None):
    template = "portfolio/backlog_list.html"
    context = {
        "capability": capability,
        "filterset": filterset,
        "ranked": ranked,
        "bands": _bands(ranked),
        "retirement": [entry for entry in ranked if entry.band == BacklogBand.RETIREMENT],
        "closed": [entry for entry in ranked if entry.band == BacklogBand.CLOSED],
        "portfolio_top": sorted(
            (entry for entry in ranked if entry.in_portfolio_top), key=lambda entry: entry.portfolio_position
        )
        if capability is None
        else [],
        "can_create": capability is not None and can_change(request.user, BACKLOG_ACTIVITY, capability),
        "score_parts": [BacklogItem._meta.get_field(name).verbose_name for name in SCORE_PARTS],
        "top_size": getattr(settings, "BACKLOG_TOP_BAND_SIZE", TOP_BAND_SIZE),
    }
    if request.htmx:
        template += "#rows"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_GET
def backlog_portfolio(request):
    """The ranked backlog across every capability the person sees, with the portfolio top list."""
    filterset = BacklogItemFilterSet(
        request.GET, queryset=BacklogItem.objects.visible_to(request.user), request=request
    )
    ranked = filterset.ranked()
    if request.GET.get("format") == "csv":
        return _backlog_csv(ranked, "backlog.csv")
    return _render_backlog(request, ranked=ranked, filterset=filterset)


@require_GET
def backlog_capability(request, slug):
    """One capability's ranked backlog: bands, score parts, reasons, its retirement candidates."""
    capability = get_capability_for_user(request.user, slug)
    filterset = BacklogItemFilterSet(
        request.GET, queryset=BacklogItem.objects.for_capability(capability), request=request
    )
    ranked = filterset.ranked()
    if request.GET.get("format") == "csv":
        return _backlog_csv(ranked, f"backlog-{capability.slug}.csv")
    return _render_backlog(request, ranked=ranked, filterset=filterset, capability=capability)


@require_GET
def backlog_platform(request):
    """Problems raised on several capabilities, grouped: the platform-reuse candidates (16.3)."""
    # Rank the whole visible backlog (bands and reasons are those of the backlog pages), then group.
    ranked = BacklogItem.objects.visible_to(request.user).open().ranked()
    groups: dict[str, dict] = {}
    for entry in ranked:
        key = entry.item.problem_key
        if not key:
            continue
        group = groups.setdefault(key, {"key": key, "capabilities": entry.shared_capabilities, "entries": []})
        group["entries"].append(entry)
    for group in groups.values():
        group["capabilities"] = max(
            group["capabilities"], len({e.item.capability_id for e in group["entries"]})
        )
        group["seen"] = sorted({entry.item.capability.name for entry in group["entries"]})
        group["hidden"] = group["capabilities"] - len(group["seen"])
        group["total_score"] = sum(entry.score for entry in group["entries"])
    ordered = sorted(
        groups.values(), key=lambda group: (-group["capabilities"], -group["total_score"], group["key"])
    )
    return render(
        request,
        "portfolio/backlog_platform.html",
        {
            "shared": [group for group in ordered if group["capabilities"] >= 2],
            "single": [group for group in ordered if group["capabilities"] < 2],
        },
    )


@require_GET
def backlog_retirement(request):
    """The quarterly retirement list: retirement candidates of every capability the person sees."""
    entries = BacklogItem.objects.visible_to(request.user).retirement_candidates().ranked()
    today = timezone.localdate()
    return render(
        request,
        "portfolio/backlog_retirement.html",
        {
            "entries": entries,
            "quarter": _("Q%(number)s %(year)s") % {"number": (today.month - 1) // 3 + 1, "year": today.year},
        },
    )


@require_GET
def backlog_detail(request, readable_id):
    item = _item_for_user(request.user, readable_id)
    ranked = BacklogItem.objects.for_capability(item.capability).ranked()
    entry = next((entry for entry in ranked if entry.item.pk == item.pk), None)
    moves = [(status, BacklogItem.move_label(status)) for status in item.allowed_moves(request.user)]
    return render(
        request,
        "portfolio/backlog_detail.html",
        {
            "item": item,
            "entry": entry,
            "evidence": item.evidence if item.has_evidence_link else None,
            "moves": moves,
            "move_form": BacklogMoveForm(),
            "can_edit": can_change(request.user, BACKLOG_ACTIVITY, item.capability),
            "history": history_entries(item),
        },
    )


def _form_errors_from(form, error: DomainError) -> None:
    form.add_error(form.field_for_error(error.field), error.message)


@require_http_methods(["GET", "POST"])
def backlog_create(request, slug):
    capability = get_capability_to_change(request.user, slug, BACKLOG_ACTIVITY)
    form = BacklogItemForm(request.POST or None, capability=capability)
    if request.method == "POST" and form.is_valid():
        try:
            item = backlog_item_create(capability=capability, by=request.user, **form.service_kwargs())
        except DomainError as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Backlog item %(id)s raised.") % {"id": item.readable_id})
            return redirect(item)
    return render(
        request, "portfolio/backlog_form.html", {"form": form, "capability": capability, "item": None}
    )


@require_http_methods(["GET", "POST"])
def backlog_edit(request, readable_id):
    item = _item_for_user(request.user, readable_id)
    require_change(request.user, BACKLOG_ACTIVITY, item.capability)
    form = BacklogItemForm(request.POST or None, capability=item.capability, instance=item)
    if request.method == "POST" and form.is_valid():
        fields = form.service_kwargs()
        evidence = fields.pop("evidence")
        try:
            backlog_item_update(item=item, by=request.user, fields=fields, evidence=evidence)
        except DomainError as error:
            _form_errors_from(form, error)
        else:
            messages.success(request, _("Backlog item %(id)s saved.") % {"id": item.readable_id})
            return redirect(item)
    return render(
        request, "portfolio/backlog_form.html", {"form": form, "capability": item.capability, "item": item}
    )


@require_POST
def backlog_move(request, readable_id):
    """A status move; the model method decides, this view reports."""
    item = _item_for_user(request.user, readable_id)
    require_change(request.user, BACKLOG_ACTIVITY, item.capability)
    form = BacklogMoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a known status."))
        return redirect(item)
    try:
        item.move(to=form.cleaned_data["status"], by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(item)
    messages.success(
        request, BACKLOG_MOVE_DONE % {"id": item.readable_id, "status": item.get_status_display()}
    )
    return redirect(item)
