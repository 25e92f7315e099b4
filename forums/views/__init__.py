"""Pages of the forums app, one module per area: the operating calendar, forums and sessions
(calendar), and the areas built on sessions."""

from forums.views.calendar import (  # noqa: F401
    calendar,
    forum_create,
    forum_detail,
    forum_edit,
    ical_feed,
)
from forums.views.memos import (  # noqa: F401
    memo_decide,
    memo_detail,
    memo_edit,
    memo_export,
    memo_generate,
    memo_list,
    memo_regenerate,
    memo_send,
    session_memos,
)
from forums.views.packs import (  # noqa: F401
    session_pack,
    session_pack_build,
    session_pack_pdf,
    session_pack_send,
)
from forums.views.portfolio_review import (  # noqa: F401
    portfolio_review_close,
    portfolio_review_detail,
    portfolio_review_list,
    portfolio_review_open,
    scorecard_row_decide,
    scorecard_row_rate,
    session_portfolio_review,
)
from forums.views.sessions import (  # noqa: F401
    session_action_create,
    session_action_move,
    session_attendance,
    session_decision,
    session_detail,
    session_move,
    session_note,
    session_record_decision,
    session_release_approve,
)
