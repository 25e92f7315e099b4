from django.shortcuts import render
from django.views.decorators.http import require_GET

from portfolio.models import Capability
from productops.permissions import role_map
from productops.roles import Role


@require_GET
def home(request):
    """The person's start page: the capabilities they work on and the roles they hold there."""
    mapping = role_map(request.user)
    capabilities = Capability.objects.visible_to(request.user)
    rows = [
        (
            capability,
            sorted(
                Role(role).label
                for role in mapping.get(None, frozenset()) | mapping.get(capability.pk, frozenset())
            ),
        )
        for capability in capabilities
    ]
    return render(request, "home.html", {"rows": rows})
