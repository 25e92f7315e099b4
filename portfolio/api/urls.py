from rest_framework.routers import SimpleRouter

from portfolio.api.views import CapabilityViewSet

router = SimpleRouter()
router.register("capabilities", CapabilityViewSet, basename="capability")
urlpatterns = router.urls
