from django.urls import path
from rest_framework.routers import SimpleRouter

from forums.api.memos import ValueMemoViewSet
from forums.api.packs import SessionPackBuildView, SessionPackSendView, SessionPackView
from forums.api.portfolio_review import PortfolioReviewViewSet, ScorecardRowViewSet
from forums.api.views import ForumViewSet, SessionViewSet

router = SimpleRouter()
router.register("forums", ForumViewSet, basename="forum")
router.register("forum-sessions", SessionViewSet, basename="forum-session")
router.register("value-memos", ValueMemoViewSet, basename="value-memo")
router.register("portfolio-reviews", PortfolioReviewViewSet, basename="portfolio-review")
router.register("scorecard-rows", ScorecardRowViewSet, basename="scorecard-row")
urlpatterns = router.urls + [
    # A session's review pack (forums.api.packs): read it, build it, send it now.
    path("forum-sessions/<int:pk>/pack/", SessionPackView.as_view(), name="forum-session-pack"),
    path(
        "forum-sessions/<int:pk>/pack/build/", SessionPackBuildView.as_view(), name="forum-session-pack-build"
    ),
    path("forum-sessions/<int:pk>/pack/send/", SessionPackSendView.as_view(), name="forum-session-pack-send"),
]
