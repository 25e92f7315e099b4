from django.urls import path

from forums import views
from forums.choices import MOVES

app_name = "forums"

# One POST URL per move of the session's state machine: /forums/sessions/12/mark-pack-sent/ …
MOVE_PATHS = [
    path(
        f"sessions/<int:pk>/{move.replace('_', '-')}/",
        views.session_move,
        {"move": move},
        name=f"session-{move.replace('_', '-')}",
    )
    for move in MOVES
]

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("new/", views.forum_create, name="forum-create"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
    # The monthly value review (playbook 8.3, 8.4): memos and their decision matrix.
    path("memos/", views.memo_list, name="memo-list"),
    path("memos/generate/", views.memo_generate, name="memo-generate"),
    path("memos/<int:pk>/", views.memo_detail, name="memo-detail"),
    path("memos/<int:pk>/edit/", views.memo_edit, name="memo-edit"),
    path("memos/<int:pk>/regenerate/", views.memo_regenerate, name="memo-regenerate"),
    path("memos/<int:pk>/send/", views.memo_send, name="memo-send"),
    path("memos/<int:pk>/decide/", views.memo_decide, name="memo-decide"),
    path("memos/<int:pk>/memo.md", views.memo_export, name="memo-export"),
    path("sessions/<int:pk>/memos/", views.session_memos, name="session-memos"),
    path("<int:pk>/", views.forum_detail, name="forum-detail"),
    path("<int:pk>/edit/", views.forum_edit, name="forum-edit"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/decision/", views.session_decision, name="session-decision"),
    # The review pack (forums.views.packs): the page, the PDF as e-mailed, build and send now.
    path("sessions/<int:pk>/pack/", views.session_pack, name="session-pack"),
    path("sessions/<int:pk>/pack.pdf", views.session_pack_pdf, name="session-pack-pdf"),
    path("sessions/<int:pk>/pack/build/", views.session_pack_build, name="session-pack-build"),
    path("sessions/<int:pk>/pack/send/", views.session_pack_send, name="session-pack-send"),
    *MOVE_PATHS,
    # In the meeting (forums.views.sessions): each form's plain POST, answered with htmx regions.
    path("sessions/<int:pk>/decisions/", views.session_record_decision, name="session-record-decision"),
    path("sessions/<int:pk>/actions/", views.session_action_create, name="session-action-create"),
    path(
        "sessions/<int:pk>/actions/<str:readable_id>/<str:move>/",
        views.session_action_move,
        name="session-action-move",
    ),
    path(
        "sessions/<int:pk>/releases/<str:readable_id>/approve/",
        views.session_release_approve,
        name="session-release-approve",
    ),
    path("sessions/<int:pk>/attendance/", views.session_attendance, name="session-attendance"),
    path("sessions/<int:pk>/notes/", views.session_note, name="session-note"),
    # The quarterly portfolio review (playbook 9)
    path("portfolio-reviews/", views.portfolio_review_list, name="portfolio-review-list"),
    path("portfolio-reviews/open/", views.portfolio_review_open, name="portfolio-review-open"),
    path("portfolio-reviews/<str:quarter>/", views.portfolio_review_detail, name="portfolio-review-detail"),
    path(
        "portfolio-reviews/<str:quarter>/close/", views.portfolio_review_close, name="portfolio-review-close"
    ),
    path("scorecard-rows/<int:pk>/rate/", views.scorecard_row_rate, name="scorecard-row-rate"),
    path("scorecard-rows/<int:pk>/decide/", views.scorecard_row_decide, name="scorecard-row-decide"),
    path(
        "sessions/<int:pk>/portfolio-review/", views.session_portfolio_review, name="session-portfolio-review"
    ),
]
