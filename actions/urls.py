from django.urls import path

from actions import views
from actions.choices import MOVES

app_name = "actions"

# One POST URL per move of the state machine: /actions/ACT-0001/submit-evidence/ and so on.
MOVE_PATHS = [
    path(
        f"<str:readable_id>/{move.replace('_', '-')}/",
        views.action_move,
        {"move": move},
        name=f"action-{move.replace('_', '-')}",
    )
    for move in [*MOVES, "escalate"]
]

urlpatterns = [
    path("", views.action_list, name="action-list"),
    path("new/", views.action_create_view, name="action-create"),
    path("<str:readable_id>/", views.action_detail, name="action-detail"),
    path("<str:readable_id>/edit/", views.action_edit, name="action-edit"),
    path(
        "<str:readable_id>/evidence/<int:evidence_id>/file/",
        views.evidence_file,
        name="evidence-file",
    ),
    *MOVE_PATHS,
]
