from django.urls import path
from rest_framework.routers import SimpleRouter

from contracts.api.ingest import ObservationIngestView
from contracts.api.views import ContractViewSet, SignalViewSet

router = SimpleRouter()
router.register("contracts", ContractViewSet, basename="contract")
router.register("signals", SignalViewSet, basename="signal")

urlpatterns = router.urls + [
    # Bulk telemetry ingest: a JSON list of up to 10,000 observations, an idempotent upsert.
    path("observations/", ObservationIngestView.as_view(), name="observations-ingest"),
]
