from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from portfolio.access import get_capability_for_user, get_capability_to_change
from portfolio.filtersets import CapabilityFilterSet
from portfolio.forms import CapabilityForm
from portfolio.models import Capability
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
