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
    path("<int:pk>/", views.forum_detail, name="forum-detail"),
    path("<int:pk>/edit/", views.forum_edit, name="forum-edit"),
    path("sessions/<int:pk>/", views.session_detail, name="session-detail"),
    path("sessions/<int:pk>/decision/", views.session_decision, name="session-decision"),
    *MOVE_PATHS,
]
