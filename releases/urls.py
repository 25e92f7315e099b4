from django.urls import path

from releases import views
from releases.choices import MOVES

app_name = "releases"

# One POST URL per move of the state machine: /releases/REL-2026-001/approve/ and so on. The
# impact review is recorded on its own page (/releases/REL-2026-001/impact/).
MOVE_PATHS = [
    path(
        f"<str:readable_id>/{move.replace('_', '-')}/",
        views.release_move,
        {"move": move},
        name=f"release-{move.replace('_', '-')}",
    )
    for move in MOVES
    if move != "record_impact_review"
]

urlpatterns = [
    path("", views.release_list, name="release-list"),
    path("calendar/", views.release_calendar, name="release-calendar"),
    path("queue/", views.release_queue, name="release-queue"),
    path("new/", views.release_create_view, name="release-create"),
    path("ical/", views.calendar_token_page, name="calendar-token"),
    path("ical/regenerate/", views.calendar_token_regenerate, name="calendar-token-regenerate"),
    path("ical/<str:token>.ics", views.ical_feed, name="ical"),
    path("<str:readable_id>/", views.release_detail, name="release-detail"),
    path("<str:readable_id>/edit/", views.release_edit, name="release-edit"),
    path("<str:readable_id>/impact/", views.release_impact, name="release-impact"),
    path("<str:readable_id>/evidence/<slug:key>/attest/", views.release_attest, name="release-attest"),
    path("<str:readable_id>/evidence/<slug:key>/file/", views.evidence_file, name="evidence-file"),
    *MOVE_PATHS,
]
