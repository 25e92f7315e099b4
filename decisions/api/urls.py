from rest_framework.routers import SimpleRouter

from decisions.api.views import DecisionViewSet

router = SimpleRouter()
router.register("decisions", DecisionViewSet, basename="decision")
urlpatterns = router.urls
