from rest_framework import viewsets
from rest_framework.response import Response

from portfolio.filtersets import CapabilityFilterSet
from portfolio.models import Capability
from productops.api import CapabilityActivityPermission
from productops.roles import Activity
from readiness.api.serializers import ReadinessSerializer
from readiness.questions import readiness_for


class ReadinessViewSet(viewsets.ReadOnlyModelViewSet):
    """Operating readiness per capability (playbook 25), read-only: the eight questions of the
    quality bar answered from the data, each with its evidence or its gap; ``state`` is
    ``operating`` only when all eight are answered. Capabilities the person holds no role on are
    absent (404), as everywhere."""

    queryset = Capability.objects.all()
    serializer_class = ReadinessSerializer
    permission_classes = [CapabilityActivityPermission]
    activity = Activity.CHARTER
    filterset_class = CapabilityFilterSet
    lookup_field = "slug"
    ordering_fields = ["name", "risk_tier", "lifecycle_status"]
    ordering = ["name"]
    search_fields = ["name", "workflow"]

    def capability_of(self, obj):
        return obj

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        capabilities = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        data = self.get_serializer(readiness_for(capabilities), many=True).data
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        capability = self.get_object()
        return Response(self.get_serializer(readiness_for([capability])[0]).data)
