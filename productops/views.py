from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, connection
from django.http import JsonResponse
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


@login_not_required
@require_GET
def healthz(request):
    """Liveness for the load balancer and compose: the database answers a query."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"database": "down"}, status=503)
    return JsonResponse({"database": "ok"})
