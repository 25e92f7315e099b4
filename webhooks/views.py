"""The webhooks settings pages (organisation admins only): endpoints, their secret (shown once),
test pings, and the delivery log with a retry button."""

import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from productops.errors import DomainError
from productops.permissions import is_org_admin
from webhooks import services
from webhooks.choices import DeliveryStatus, EventType
from webhooks.delivery import MAX_ATTEMPTS, TIMEOUT_SECONDS
from webhooks.forms import EndpointForm
from webhooks.models import Delivery, Endpoint

PAGE_SIZE = 50


def _require_admin(request) -> None:
    if not is_org_admin(request.user):
        raise PermissionDenied(_("Only an organisation admin manages webhooks."))


def _deliveries(request, endpoint=None):
    """The delivery log, newest first, filtered by status and event type from the query string."""
    rows = Delivery.objects.select_related("event", "endpoint").defer("event__payload", "attempt_log")
    if endpoint is not None:
        rows = rows.filter(endpoint=endpoint)
    status = request.GET.get("status", "")
    if status in DeliveryStatus.values:
        rows = rows.filter(status=status)
    event = request.GET.get("event", "")
    if event in EventType.values:
        rows = rows.filter(event__type=event)
    page = Paginator(rows.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "deliveries": page,
        "status_filter": status,
        "event_filter": event,
        "statuses": DeliveryStatus.choices,
        "event_types": EventType.choices,
    }


def _context(**extra) -> dict:
    return {"max_attempts": MAX_ATTEMPTS, "timeout_seconds": TIMEOUT_SECONDS, **extra}


@require_GET
def webhook_settings(request):
    _require_admin(request)
    endpoints = list(Endpoint.objects.order_by("name", "pk"))
    return render(request, "webhooks/settings.html", _context(endpoints=endpoints, **_deliveries(request)))


def _form_errors(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def _show_secret(request, endpoint: Endpoint, *, created: bool):
    """The one page that shows the secret: rendered as the POST's answer, never stored in a URL."""
    response = render(request, "webhooks/secret.html", {"endpoint": endpoint, "created": created})
    response["Cache-Control"] = "no-store"
    return response


@require_http_methods(["GET", "POST"])
def endpoint_create(request):
    _require_admin(request)
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.endpoint_create(by=request.user, **form.service_fields())
        except DomainError as error:
            _form_errors(form, error)
        else:
            return _show_secret(request, endpoint, created=True)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@require_GET
def endpoint_detail(request, pk):
    _require_admin(request)
    endpoint = get_object_or_404(Endpoint, pk=pk)
    return render(
        request,
        "webhooks/endpoint_detail.html",
        _context(endpoint=endpoint, **_deliveries(request, endpoint)),
    )


@require_http_methods(["GET", "POST"])
def endpoint_edit(request, pk):
    _require_admin(request)
    endpoint = get_object_or_404(Endpoint, pk=pk)
    initial = {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": endpoint.events,
        "active": endpoint.active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, by=request.user, fields=form.service_fields())
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Endpoint “%(name)s” saved.") % {"name": endpoint.name})
            return redirect(endpoint)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


@require_POST
def endpoint_toggle(request, pk):
    """Disable an active endpoint, or enable a disabled one."""
    _require_admin(request)
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.endpoint_update(endpoint=endpoint, by=request.user, fields={"active": not endpoint.active})
    if endpoint.active:
        messages.success(request, _("Endpoint “%(name)s” is enabled.") % {"name": endpoint.name})
    else:
        messages.success(
            request, _("Endpoint “%(name)s” is disabled: it receives nothing.") % {"name": endpoint.name}
        )
    return redirect(endpoint)


@require_POST
def endpoint_rotate_secret(request, pk):
    _require_admin(request)
    endpoint = get_object_or_404(Endpoint, pk=pk)
    services.endpoint_rotate_secret(endpoint=endpoint, by=request.user)
    return _show_secret(request, endpoint, created=False)


@require_POST
def endpoint_ping(request, pk):
    _require_admin(request)
    endpoint = get_object_or_404(Endpoint, pk=pk)
    try:
        services.endpoint_ping(endpoint=endpoint, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request,
            _("Test ping queued for “%(name)s”: its result shows in the delivery log.")
            % {"name": endpoint.name},
        )
    return redirect(endpoint)


@require_GET
def delivery_detail(request, pk):
    _require_admin(request)
    delivery = get_object_or_404(Delivery.objects.select_related("event", "endpoint"), pk=pk)
    body = json.dumps(delivery.event.payload, ensure_ascii=False, indent=2, sort_keys=True)
    return render(request, "webhooks/delivery_detail.html", _context(delivery=delivery, body=body))


@require_POST
def delivery_retry(request, pk):
    _require_admin(request)
    delivery = get_object_or_404(Delivery, pk=pk)
    try:
        services.delivery_retry(delivery=delivery, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Delivery %(id)s queued again.") % {"id": delivery.pk})
    return redirect("webhooks:delivery-detail", pk=delivery.pk)
