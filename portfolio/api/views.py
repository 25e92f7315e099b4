from portfolio.api.serializers import CapabilitySerializer
from portfolio.filtersets import CapabilityFilterSet
from portfolio.models import Capability
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
