from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from assumptions.api.serializers import (
    AssumptionCreateSerializer,
    AssumptionDetailSerializer,
    AssumptionReviewInputSerializer,
    AssumptionSerializer,
)
from assumptions.filtersets import AssumptionFilterSet
from assumptions.models import Assumption, AssumptionReview
from assumptions.services import assumption_create, assumption_update, review_source_from_reference
from productops.api import CapabilityScopedViewSet
from productops.roles import Activity


class AssumptionViewSet(CapabilityScopedViewSet):
    """The assumption ledger. Created through ``assumption_create``; edited without the status;
    the status moves only by ``POST .../review/``; never deleted (it is the audit trail)."""

    queryset = Assumption.objects.select_related("capability", "owner")
    serializer_class = AssumptionSerializer
    filterset_class = AssumptionFilterSet
    activity = Activity.ASSUMPTION_LEDGER
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["readable_id", "expires_on", "status", "type", "next_review_on", "updated_at"]
    search_fields = ["statement", "readable_id", "evidence"]

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in {"retrieve", "review"}:
            reviews = AssumptionReview.objects.select_related("reviewed_by").prefetch_related("source")
            queryset = queryset.prefetch_related(Prefetch("reviews", queryset=reviews))
        return queryset

    def get_serializer_class(self):
        if self.action == "retrieve":
            return AssumptionDetailSerializer
        return AssumptionSerializer

    def _detail(self, assumption, status_code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=assumption.pk)
        return Response(
            AssumptionDetailSerializer(fresh, context=self.get_serializer_context()).data, status=status_code
        )

    @extend_schema(request=AssumptionCreateSerializer, responses={201: AssumptionDetailSerializer})
    def create(self, request, *args, **kwargs):
        serializer = AssumptionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        assumption = assumption_create(by=request.user, **serializer.validated_data)
        return self._detail(assumption, status.HTTP_201_CREATED)

    def perform_update(self, serializer):
        serializer.instance = assumption_update(
            assumption=serializer.instance, by=self.request.user, **serializer.validated_data
        )

    @extend_schema(request=AssumptionReviewInputSerializer, responses={200: AssumptionDetailSerializer})
    @action(detail=True, methods=["post"])
    def review(self, request, readable_id=None):
        """Record one assumption review (playbook 21.4); 409 when the status cannot move that way."""
        assumption = self.get_object()
        serializer = AssumptionReviewInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data["source"] = review_source_from_reference(user=request.user, reference=data["source"])
        assumption.review(by=request.user, **data)
        return self._detail(assumption)
