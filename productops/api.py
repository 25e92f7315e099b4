"""API plumbing every asset's endpoints share: errors as JSON, capability-scoped permissions."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from rest_framework import exceptions, permissions, status, viewsets
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from productops.errors import DomainError
from productops.permissions import can_change, can_view, require_change


def exception_handler(exc, context):
    """DRF's handler, plus domain and model validation errors as JSON naming the field."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(detail, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, exceptions.ValidationError) and not isinstance(exc.detail, dict):
        # A refusal raised with reasons but no field still answers an object, as documented.
        exc = exceptions.ValidationError({"non_field_errors": exc.detail})
    return drf_exception_handler(exc, context)


class CapabilityActivityPermission(permissions.IsAuthenticated):
    """Reads need a role on the object's capability; writes need A or R for the view's activity.

    The view names its ``activity`` (a row of the RACI table) and says how an object reaches
    its capability (``capability_of``). Creation is checked in ``perform_create``, once the
    capability in the body is known.
    """

    def has_object_permission(self, request, view, obj):
        capability = view.capability_of(obj)
        if not can_view(request.user, capability):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        return can_change(request.user, view.activity, capability)


class AtomicWritesMixin:
    """A write and the answer that describes it are one transaction.

    The answer of a create, an update or a move reads the database again (the record as stored,
    the moves the person may make now). Were the write committed first, a database lost between
    the two (a restart, a failover) would answer 503 for a change that was saved, and a client
    that retries would make it twice. Inside one transaction the answer is 2xx only when the
    change is saved, and an error answer (4xx, 503) leaves nothing behind.
    """

    def dispatch(self, request, *args, **kwargs):
        if request.method in permissions.SAFE_METHODS:
            return super().dispatch(request, *args, **kwargs)
        with transaction.atomic():
            response = super().dispatch(request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
            return response


class CapabilityScopedViewSet(AtomicWritesMixin, viewsets.ModelViewSet):
    """A ModelViewSet over an asset that belongs to a capability.

    The queryset's ``visible_to(user)`` hides other capabilities' records (404, not 403), the
    permission class checks the RACI letter for writes, and creation checks the capability sent.
    """

    activity: str = ""
    permission_classes = [CapabilityActivityPermission]

    def capability_of(self, obj):
        return obj.capability

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        require_change(self.request.user, self.activity, serializer.validated_data.get("capability"))
        serializer.save()
