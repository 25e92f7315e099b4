import sys

from django.contrib.auth.decorators import login_not_required
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views import defaults
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
    """Liveness for the load balancer and compose: the database answers a query (503 when not).
    Also reports the job service: ``broker`` "ok", "down" or "in-process", and ``queued_jobs``,
    the jobs waiting in the outbox for it. A broker that is down does not make the site unhealthy:
    pages and the API keep working and the jobs wait (productops.jobs)."""
    from productops.jobs import broker_state
    from productops.models import QueuedJob

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        waiting = QueuedJob.objects.count()
    except DatabaseError:
        return JsonResponse({"database": "down"}, status=503)
    return JsonResponse({"database": "ok", "broker": broker_state(), "queued_jobs": waiting})


def page_not_found(request, exception):
    """``handler404``: under /api/ the answer is JSON like every other API error (an id that
    cannot be an id, such as ``/api/v1/contracts/a.b/``, never reaches a view); people get the page."""
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


# Seconds a client is asked to wait before trying again while the database is away.
RETRY_AFTER_SECONDS = 5


def server_error(request):
    """``handler500``: an error that escaped every view and middleware.

    A database that cannot be reached (a restart, a failover, a dropped connection) is not a
    bug of ours: the request answers 503 saying so, as JSON for the API and as a page for
    people, with Retry-After. Its transaction was rolled back, so nothing of it was saved.
    Anything else is the plain 500 page.
    """
    error = sys.exc_info()[1]
    if not isinstance(error, (OperationalError, InterfaceError)):
        return defaults.server_error(request)
    return database_unavailable(request)


def database_unavailable(request) -> HttpResponse:
    """The 503 answer while the database is away; it needs no database itself (no session, no
    navigation, no static manifest)."""
    message = _(
        "The database cannot be reached right now (it may be restarting). Nothing from this "
        "request was saved; try again in a few seconds."
    )
    if request.path_info.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
        response = JsonResponse({"detail": message, "code": "database_unavailable"}, status=503)
    else:
        page = loader.get_template("503.html").render({"message": message})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
