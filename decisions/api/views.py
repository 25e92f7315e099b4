from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from decisions.api.serializers import (
    DecisionCreateSerializer,
    DecisionSerializer,
    DecisionSupersedeSerializer,
)
from decisions.filtersets import DecisionFilterSet
from decisions.models import Decision
from decisions.services import decision_record, decision_supersede
from productops.api import CapabilityScopedViewSet
from productops.roles import Activity


class DecisionViewSet(CapabilityScopedViewSet):
    """The decision log. Append-only: list, read, record (POST) and supersede; no PUT, PATCH or
    DELETE (405). Every write goes through ``decisions.services``."""

    queryset = Decision.objects.all()
    serializer_class = DecisionSerializer
    filterset_class = DecisionFilterSet
    activity = Activity.DECISION_LOG
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "head", "options"]
    ordering_fields = ["decided_on", "readable_id", "type", "review_date", "evidence_total"]
    search_fields = ["readable_id", "decision", "options_considered", "review_trigger"]

    def get_queryset(self):
        return super().get_queryset().for_list()

    def _respond(self, decision, status_code):
        decision = self.get_queryset().get(pk=decision.pk)
        return Response(self.get_serializer(decision).data, status=status_code)

    @extend_schema(request=DecisionCreateSerializer, responses={201: DecisionSerializer})
    def create(self, request, *args, **kwargs):
        serializer = DecisionCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        decision = decision_record(by=request.user, **serializer.validated_data)
        return self._respond(decision, status.HTTP_201_CREATED)

    @extend_schema(request=DecisionSupersedeSerializer, responses={201: DecisionSerializer})
    @action(detail=True, methods=["post"])
    def supersede(self, request, readable_id=None):
        """Record a new decision that supersedes this one (same capability)."""
        old = self.get_object()
        serializer = DecisionSupersedeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        decision = decision_supersede(old=old, by=request.user, **serializer.validated_data)
        return self._respond(decision, status.HTTP_201_CREATED)
