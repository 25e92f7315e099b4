from rest_framework.routers import SimpleRouter

from assumptions.api.views import AssumptionViewSet

router = SimpleRouter()
router.register("assumptions", AssumptionViewSet, basename="assumption")
urlpatterns = router.urls
