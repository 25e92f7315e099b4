from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.decorators import action as detail_action
from rest_framework.response import Response

from productops.api import CapabilityActivityPermission, CapabilityScopedViewSet
from productops.permissions import can_view
from productops.roles import Activity
from releases.api.serializers import (
    ImpactReviewInputSerializer,
    ReleaseAttestInputSerializer,
    ReleaseCommentInputSerializer,
    ReleaseCreateSerializer,
    ReleaseDeployInputSerializer,
    ReleaseReasonInputSerializer,
    ReleaseSerializer,
)
from releases.choices import DEFAULT_IMPACT_PERIODS
from releases.filtersets import ReleaseFilterSet
from releases.models import Release
from releases.services import impact_figures, release_create, release_update

# The POST endpoints whose person checks live in the model method: an approver (Risk /
# Compliance, the AI PM) may give a verdict without keeping the calendar, an analyst may
# attest evidence. Refusals come back as 403 from the method, naming the reason.
MOVE_ACTIONS = {
    "submit",
    "approve",
    "approve_for_canary",
    "hold",
    "request_changes",
    "reject",
    "deploy",
    "rollback",
    "impact_review",
    "attest",
}


class ReleasePermission(CapabilityActivityPermission):
    """Reads need a role on the release's capability; edits need A or R on the release
    calendar; each move is checked by its model method."""

    def has_object_permission(self, request, view, obj):
        if getattr(view, "action", None) in MOVE_ACTIONS:
            return can_view(request.user, view.capability_of(obj))
        return super().has_object_permission(request, view, obj)


class ReleaseViewSet(CapabilityScopedViewSet):
    """The release calendar. Releases are created and edited through the same services as the
    page (the evidence checklist follows the object type), never deleted, and change state only
    through the move endpoints (``/submit/``, ``/approve/``, ``/deploy/`` …)."""

    queryset = Release.objects.select_related("capability", "owner").prefetch_related(
        "evidence_items__attested_by",
        "approvals__approver",
        "approvals__decision",
        "impact_reviews__reviewer",
        "impact_reviews__decision_record",
        "decisions",
    )
    serializer_class = ReleaseSerializer
    filterset_class = ReleaseFilterSet
    activity = Activity.RELEASE_CALENDAR
    permission_classes = [ReleasePermission]
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["planned_date", "deployed_date", "post_release_review_date", "state", "readable_id"]
    search_fields = ["readable_id", "change", "version_to"]

    def get_serializer_class(self):
        return ReleaseCreateSerializer if self.action == "create" else ReleaseSerializer

    def _fresh(self, pk):
        return self.get_queryset().get(pk=pk)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        capability = data.pop("capability")
        serializer.instance = self._fresh(
            release_create(by=self.request.user, capability=capability, **data).pk
        )

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        release_update(release=serializer.instance, by=self.request.user, fields=data)
        serializer.instance = self._fresh(serializer.instance.pk)

    def _move(self, request, move, input_serializer=None):
        release = self.get_object()
        inputs = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            inputs = serializer.validated_data
        getattr(release, move)(by=request.user, **inputs)
        return Response(
            ReleaseSerializer(self._fresh(release.pk), context=self.get_serializer_context()).data
        )

    @extend_schema(request=None, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def submit(self, request, readable_id=None):
        return self._move(request, "submit")

    @extend_schema(request=ReleaseCommentInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def approve(self, request, readable_id=None):
        return self._move(request, "approve", ReleaseCommentInputSerializer)

    @extend_schema(request=ReleaseCommentInputSerializer, responses=ReleaseSerializer)
    @detail_action(
        detail=True, methods=["post"], url_path="approve-for-canary", url_name="approve-for-canary"
    )
    def approve_for_canary(self, request, readable_id=None):
        return self._move(request, "approve_for_canary", ReleaseCommentInputSerializer)

    @extend_schema(request=ReleaseCommentInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def hold(self, request, readable_id=None):
        return self._move(request, "hold", ReleaseCommentInputSerializer)

    @extend_schema(request=ReleaseCommentInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"], url_path="request-changes", url_name="request-changes")
    def request_changes(self, request, readable_id=None):
        return self._move(request, "request_changes", ReleaseCommentInputSerializer)

    @extend_schema(request=ReleaseCommentInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def reject(self, request, readable_id=None):
        return self._move(request, "reject", ReleaseCommentInputSerializer)

    @extend_schema(request=ReleaseDeployInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def deploy(self, request, readable_id=None):
        return self._move(request, "deploy", ReleaseDeployInputSerializer)

    @extend_schema(request=ReleaseReasonInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def rollback(self, request, readable_id=None):
        return self._move(request, "rollback", ReleaseReasonInputSerializer)

    @extend_schema(request=ImpactReviewInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"], url_path="impact-review", url_name="impact-review")
    def impact_review(self, request, readable_id=None):
        return self._move(request, "record_impact_review", ImpactReviewInputSerializer)

    @extend_schema(request=ReleaseAttestInputSerializer, responses=ReleaseSerializer)
    @detail_action(detail=True, methods=["post"])
    def attest(self, request, readable_id=None):
        """Attest one evidence item (``item``: its key) with a ``link`` or a ``file``, and a ``note``."""
        return self._move(request, "attest", ReleaseAttestInputSerializer)

    @extend_schema(
        parameters=[OpenApiParameter("periods", int, description="Periods before and after (default 4)")],
        responses={200: dict},
    )
    @detail_action(detail=True, methods=["get"], url_path="impact", url_name="impact")
    def impact(self, request, readable_id=None):
        """The observed effect as the impact review computes it, before anyone records a review."""
        release = self.get_object()
        try:
            periods = int(request.query_params.get("periods", DEFAULT_IMPACT_PERIODS))
        except ValueError:
            periods = DEFAULT_IMPACT_PERIODS
        return Response(impact_figures(release, periods=periods))
