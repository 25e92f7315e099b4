"""The webhooks API (``/api/v1/webhooks/``), organisation admins only: endpoints (create, read,
edit, disable with ``active: false``), a test ping, a new secret, and the delivery log with
retry. Every change goes through ``webhooks.services``, as the settings page does."""

import django_filters
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from productops.api import AtomicWritesMixin
from productops.permissions import is_org_admin
from webhooks import services
from webhooks.api import serializers as s
from webhooks.choices import DeliveryStatus, EventType
from webhooks.models import Delivery, Endpoint


class IsOrgAdmin(permissions.IsAuthenticated):
    message = _("Only an organisation admin manages webhooks.")

    def has_permission(self, request, view):
        return super().has_permission(request, view) and is_org_admin(request.user)


class EndpointViewSet(AtomicWritesMixin, viewsets.ModelViewSet):
    """Webhook endpoints of the organisation. The secret is returned once, by create and by
    ``rotate-secret``; there is no delete (disable with ``active: false``; the log stays)."""

    queryset = Endpoint.objects.select_related("created_by").order_by("name", "pk")
    serializer_class = s.EndpointSerializer
    permission_classes = [IsOrgAdmin]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    filterset_fields = ["active"]

    @extend_schema(responses={201: s.EndpointWithSecretSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint = services.endpoint_create(by=request.user, **serializer.validated_data)
        return Response(s.EndpointWithSecretSerializer(endpoint).data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = services.endpoint_update(
            endpoint=serializer.instance, by=self.request.user, fields=dict(serializer.validated_data)
        )

    @extend_schema(request=None, responses={200: s.EndpointWithSecretSerializer})
    @action(detail=True, methods=["post"], url_path="rotate-secret", url_name="rotate-secret")
    def rotate_secret(self, request, pk=None):
        endpoint = services.endpoint_rotate_secret(endpoint=self.get_object(), by=request.user)
        return Response(s.EndpointWithSecretSerializer(endpoint).data)

    @extend_schema(request=None, responses={202: s.DeliverySerializer})
    @action(detail=True, methods=["post"])
    def ping(self, request, pk=None):
        delivery = services.endpoint_ping(endpoint=self.get_object(), by=request.user)
        delivery.refresh_from_db()
        return Response(s.DeliverySerializer(delivery).data, status=status.HTTP_202_ACCEPTED)


class DeliveryFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DeliveryStatus.choices)
    event = django_filters.ChoiceFilter(field_name="event__type", choices=EventType.choices)

    class Meta:
        model = Delivery
        fields = ["endpoint", "status", "event"]


class DeliveryViewSet(AtomicWritesMixin, viewsets.ReadOnlyModelViewSet):
    """The delivery log, newest first: status, attempts, last response code and excerpt."""

    queryset = Delivery.objects.select_related("event").order_by("-created_at", "-pk")
    serializer_class = s.DeliverySerializer
    permission_classes = [IsOrgAdmin]
    filterset_class = DeliveryFilterSet

    @extend_schema(request=None, responses={202: s.DeliverySerializer})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        delivery = services.delivery_retry(delivery=self.get_object(), by=request.user)
        fresh = self.get_queryset().get(pk=delivery.pk)
        return Response(s.DeliverySerializer(fresh).data, status=status.HTTP_202_ACCEPTED)
