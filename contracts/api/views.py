from django.db.models import F
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from contracts import services
from contracts.api.serializers import (
    ContractCreateSerializer,
    ContractSerializer,
    LiftHoldInputSerializer,
    RetireInputSerializer,
    SignalSerializer,
)
from contracts.filtersets import ContractFilterSet, SignalFilterSet
from contracts.models import MetricContract, Signal
from productops.api import AtomicWritesMixin, CapabilityActivityPermission, CapabilityScopedViewSet
from productops.permissions import can_view
from productops.roles import Activity

METRIC_ID_REGEX = r"[a-z0-9_]+\.[a-z0-9_]+"


class ContractViewSet(CapabilityScopedViewSet):
    """Metric contracts (playbook 10). Created and changed through the same services as the
    pages (thresholds coherent with the direction; a definition change of an active contract is
    a logged decision), never deleted, and moved only by ``/activate/`` and ``/retire/``."""

    queryset = MetricContract.objects.select_related(
        "capability", "business_owner", "analytics_owner", "risk_reviewer"
    ).prefetch_related("guardrails")
    serializer_class = ContractSerializer
    filterset_class = ContractFilterSet
    activity = Activity.METRIC_CONTRACT
    lookup_field = "metric_id"
    lookup_value_regex = METRIC_ID_REGEX
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["metric_id", "category", "status", "next_review", "updated_at"]
    search_fields = ["metric_id", "name", "business_question"]

    def get_serializer_class(self):
        return ContractCreateSerializer if self.action == "create" else ContractSerializer

    def perform_create(self, serializer):
        serializer.instance = services.contract_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        services.contract_update(
            contract=serializer.instance, by=self.request.user, fields=dict(serializer.validated_data)
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def _answer(self, contract):
        fresh = self.get_queryset().get(pk=contract.pk)
        return Response(ContractSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, metric_id=None):
        contract = self.get_object()
        services.contract_activate(contract=contract, by=request.user)
        return self._answer(contract)

    @extend_schema(request=RetireInputSerializer, responses=ContractSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, metric_id=None):
        contract = self.get_object()
        inputs = RetireInputSerializer(data=request.data)
        inputs.is_valid(raise_exception=True)
        services.contract_retire(contract=contract, by=request.user, reason=inputs.validated_data["reason"])
        return self._answer(contract)


class CapabilityReadPermission(permissions.IsAuthenticated):
    """A role on the signal's capability; the service called decides who may act."""

    def has_object_permission(self, request, view, obj):
        return can_view(request.user, view.capability_of(obj))


class SignalViewSet(AtomicWritesMixin, viewsets.ReadOnlyModelViewSet):
    """Threshold signals, open first. Raised and resolved only by the evaluation job."""

    queryset = Signal.objects.select_related("contract__capability", "action").prefetch_related(
        "stop_holds__lifted_by"
    )
    serializer_class = SignalSerializer
    filterset_class = SignalFilterSet
    permission_classes = [CapabilityActivityPermission]
    activity = Activity.METRIC_CONTRACT
    ordering_fields = ["opened_period", "last_period", "level"]
    search_fields = ["contract__metric_id", "cut"]

    def capability_of(self, obj):
        return obj.contract.capability

    def get_queryset(self):
        # Open signals first, newest first (as on the page), unless ?ordering= says otherwise.
        return (
            super()
            .get_queryset()
            .visible_to(self.request.user)
            .order_by(F("resolved_period").asc(nulls_first=True), "-opened_period", "-id")
        )

    @extend_schema(request=LiftHoldInputSerializer, responses=SignalSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="lift-hold",
        url_name="lift-hold",
        permission_classes=[CapabilityReadPermission],
    )
    def lift_hold(self, request, pk=None):
        """Lift the signal's stop hold (the evaluation service decides who may)."""
        signal = self.get_object()
        hold = signal.stop_holds.filter(lifted_at__isnull=True).first()
        if hold is None:
            return Response(
                {"non_field_errors": [_("This signal holds no releases.")]}, status=status.HTTP_409_CONFLICT
            )
        inputs = LiftHoldInputSerializer(data=request.data)
        inputs.is_valid(raise_exception=True)
        services.stop_hold_lift(hold=hold, by=request.user, comment=inputs.validated_data["comment"])
        fresh = self.get_queryset().get(pk=signal.pk)
        return Response(SignalSerializer(fresh, context=self.get_serializer_context()).data)
