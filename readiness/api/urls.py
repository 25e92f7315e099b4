from rest_framework.routers import SimpleRouter

from readiness.api.views import ReadinessViewSet

router = SimpleRouter()
router.register("readiness", ReadinessViewSet, basename="readiness")
urlpatterns = router.urls
