from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from hygiene.api.serializers import FindingSerializer, WaiverCreateSerializer, WaiverSerializer
from hygiene.filtersets import FindingFilterSet
from hygiene.models import Finding
from hygiene.services import waiver_grant
from productops.api import AtomicWritesMixin, CapabilityActivityPermission
from productops.permissions import can_view


class FindingPermission(CapabilityActivityPermission):
    """Reads need a role on the finding's capability (404 otherwise, through the queryset).
    Waiving is checked by ``waiver_grant``: the accountable role of the check's RACI row."""

    def has_object_permission(self, request, view, obj):
        return can_view(request.user, view.capability_of(obj))


class FindingViewSet(AtomicWritesMixin, viewsets.ReadOnlyModelViewSet):
    """Hygiene findings, newest run first: read-only, plus ``waive`` (POST) on one finding.
    ``?latest=true`` gives what is open now (each capability's latest run)."""

    queryset = Finding.objects.select_related("run__capability", "waiver")
    serializer_class = FindingSerializer
    filterset_class = FindingFilterSet
    permission_classes = [FindingPermission]
    ordering_fields = ["run__started_at", "severity", "check_id", "id"]
    ordering = ["-run__started_at", "id"]
    search_fields = ["text", "key"]

    def capability_of(self, obj):
        return obj.run.capability

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    @extend_schema(request=WaiverCreateSerializer, responses={201: WaiverSerializer})
    @action(detail=True, methods=["post"])
    def waive(self, request, pk=None):
        """Waive this finding until ``expires_on`` for ``reason``; logs a risk-acceptance decision."""
        finding = self.get_object()
        serializer = WaiverCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        waiver = waiver_grant(finding=finding, by=request.user, **serializer.validated_data)
        return Response(WaiverSerializer(waiver).data, status=status.HTTP_201_CREATED)
