"""Operating readiness and onboarding pages: thin views over readiness.questions and
readiness.onboarding."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from portfolio.access import get_capability_for_user
from portfolio.models import Capability
from productops.errors import DomainError
from productops.permissions import can_change
from productops.roles import Activity
from readiness.onboarding import ITEMS_BY_KEY, onboarding_checklist
from readiness.questions import capability_readiness as readiness_of_capability
from readiness.questions import readiness_for
from readiness.services import onboarding_tick as tick_item


@require_GET
def portfolio_readiness(request):
    """Every capability of the person's: operating or only running, and what is missing."""
    capabilities = Capability.objects.visible_to(request.user).order_by("name")
    readiness = readiness_for(capabilities)
    return render(
        request,
        "readiness/index.html",
        {"readiness": readiness, "operating": sum(1 for item in readiness if item.operating)},
    )


@require_GET
def capability_readiness(request, slug):
    """The eight questions of the quality bar for one capability, each with its evidence or gap."""
    capability = get_capability_for_user(request.user, slug)
    return render(
        request,
        "readiness/capability.html",
        {"capability": capability, "readiness": readiness_of_capability(capability)},
    )


@require_GET
def onboarding(request, slug):
    """The first-ten-days and 90-day checklist of a capability, ticked from the data."""
    capability = get_capability_for_user(request.user, slug)
    return render(
        request,
        "readiness/onboarding.html",
        {
            "capability": capability,
            "checklist": onboarding_checklist(capability),
            "can_tick": can_change(request.user, Activity.CHARTER, capability),
        },
    )


@require_POST
def onboarding_tick(request, slug, item):
    """The PM ticks (or unticks) an item the data cannot show, with a note."""
    capability = get_capability_for_user(request.user, slug)
    ticked = request.POST.get("ticked", "1") != "0"
    try:
        tick_item(
            capability=capability,
            item=item,
            by=request.user,
            note=request.POST.get("note", ""),
            ticked=ticked,
        )
    except DomainError as error:
        messages.error(request, str(error))
    else:
        row = ITEMS_BY_KEY[item]
        text = _("Ticked: %(output)s.") if ticked else _("Unticked: %(output)s.")
        messages.success(request, text % {"output": row.output})
    return redirect("readiness:onboarding", slug=capability.slug)
