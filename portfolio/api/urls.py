from rest_framework.routers import SimpleRouter

from portfolio.api.views import BacklogItemViewSet, CapabilityViewSet

router = SimpleRouter()
router.register("capabilities", CapabilityViewSet, basename="capability")
router.register("backlog-items", BacklogItemViewSet, basename="backlog-item")
urlpatterns = router.urls
