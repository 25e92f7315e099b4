from django_filters.rest_framework import DjangoFilterBackend
from django_filters.utils import translate_validation
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action as detail_action
from rest_framework.response import Response

from portfolio.api.serializers import (
    BacklogItemCreateSerializer,
    BacklogItemSerializer,
    BacklogMoveInputSerializer,
    CapabilitySerializer,
)
from portfolio.filtersets import BacklogItemFilterSet, CapabilityFilterSet
from portfolio.models import BACKLOG_ACTIVITY, BacklogItem, Capability
from portfolio.services import backlog_item_create, backlog_item_update
from productops.api import CapabilityScopedViewSet
from productops.permissions import require_change
from productops.roles import Activity


class CapabilityViewSet(CapabilityScopedViewSet):
    """Capabilities and their charters. Creating one needs an organisation-wide charter role."""

    queryset = Capability.objects.all()
    serializer_class = CapabilitySerializer
    filterset_class = CapabilityFilterSet
    activity = Activity.CHARTER
    lookup_field = "slug"
    # A capability is retired through its lifecycle status, never deleted: its records are the audit trail.
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["name", "risk_tier", "lifecycle_status", "updated_at"]
    search_fields = ["name", "workflow"]

    def capability_of(self, obj):
        return obj

    def perform_create(self, serializer):
        require_change(self.request.user, self.activity)
        serializer.save()


class BacklogItemViewSet(CapabilityScopedViewSet):
    """The governed backlog (playbook 16). The list answers in rank order, each item with its band,
    its rank on its capability and the reasons it stands there; the filters are the pages'
    (capability, item_class, status, band — the band after ranking). Items are raised and edited
    through the same services as the pages, never deleted, and change status through ``/move/``."""

    queryset = BacklogItem.objects.select_related("capability", "expected_metric", "evidence_content_type")
    serializer_class = BacklogItemSerializer
    filterset_class = BacklogItemFilterSet
    activity = BACKLOG_ACTIVITY
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    # The list is in rank order: no ordering or search parameters, only the shared filters.
    filter_backends = [DjangoFilterBackend]

    def get_serializer_class(self):
        return BacklogItemCreateSerializer if self.action == "create" else BacklogItemSerializer

    def _with_ranking(self, item: BacklogItem) -> BacklogItem:
        """The item re-read, with where its capability's ranking puts it."""
        ranked = BacklogItem.objects.for_capability(item.capability_id).ranked()
        for entry in ranked:
            if entry.item.pk == item.pk:
                entry.item.ranking = entry
                return entry.item
        return item

    def list(self, request, *args, **kwargs):
        filterset = BacklogItemFilterSet(request.query_params, queryset=self.get_queryset(), request=request)
        if not filterset.is_valid():
            raise translate_validation(filterset.errors)
        ranked = filterset.ranked()
        page = self.paginate_queryset(ranked)
        entries = ranked if page is None else page
        for entry in entries:
            entry.item.ranking = entry
        data = self.get_serializer([entry.item for entry in entries], many=True).data
        return Response(data) if page is None else self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        item = self._with_ranking(self.get_object())
        return Response(self.get_serializer(item).data)

    def perform_create(self, serializer):
        serializer.instance = self._with_ranking(
            backlog_item_create(by=self.request.user, **dict(serializer.validated_data))
        )

    def perform_update(self, serializer):
        fields = dict(serializer.validated_data)
        evidence = {"evidence": fields.pop("evidence")} if "evidence" in fields else {}
        backlog_item_update(item=serializer.instance, by=self.request.user, fields=fields, **evidence)
        serializer.instance = self._with_ranking(serializer.instance)

    @extend_schema(request=BacklogMoveInputSerializer, responses=BacklogItemSerializer)
    @detail_action(detail=True, methods=["post"])
    def move(self, request, readable_id=None):
        """Move the item to another status (proposed, ready, in progress, done, dropped)."""
        item = self.get_object()
        inputs = BacklogMoveInputSerializer(data=request.data)
        inputs.is_valid(raise_exception=True)
        item.move(to=inputs.validated_data["status"], by=request.user, reason=inputs.validated_data["reason"])
        return Response(
            BacklogItemSerializer(self._with_ranking(item), context=self.get_serializer_context()).data
        )
