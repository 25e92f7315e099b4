"""The forums app's models: forums and sessions, review packs and their delivery, monthly value
memos, and the quarterly portfolio review."""

from forums.models.forums import Forum, Session, SessionAttendance, SessionOutcome
from forums.models.memos import ValueMemo
from forums.models.packs import PackDelivery, ReviewPack
from forums.models.portfolio_review import PortfolioReview, ScorecardRow

__all__ = [
    "Forum",
    "PackDelivery",
    "PortfolioReview",
    "ReviewPack",
    "ScorecardRow",
    "Session",
    "SessionAttendance",
    "SessionOutcome",
    "ValueMemo",
]
