from rest_framework.routers import SimpleRouter

from forums.api.views import ForumViewSet, SessionViewSet

router = SimpleRouter()
router.register("forums", ForumViewSet, basename="forum")
router.register("forum-sessions", SessionViewSet, basename="forum-session")
urlpatterns = router.urls
