from rest_framework.routers import SimpleRouter

from hygiene.api.views import FindingViewSet

router = SimpleRouter()
router.register("hygiene-findings", FindingViewSet, basename="hygiene-finding")
urlpatterns = router.urls
