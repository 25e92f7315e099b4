"""Pages of the forums app, one module per area: the operating calendar, forums and sessions
(calendar), and the areas built on sessions."""

from forums.views.calendar import (  # noqa: F401
    calendar,
    forum_create,
    forum_detail,
    forum_edit,
    ical_feed,
    session_decision,
    session_detail,
    session_move,
)
