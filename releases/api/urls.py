from rest_framework.routers import SimpleRouter

from releases.api.views import ReleaseViewSet

router = SimpleRouter()
router.register("releases", ReleaseViewSet, basename="release")
urlpatterns = router.urls
