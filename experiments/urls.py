from django.urls import path

from experiments import views
from experiments.choices import MOVE_PATHS

app_name = "experiments"

# One POST URL per move of the state machine: /experiments/EXP-001/start/, .../readout/ and so on.
MOVE_URLS = [
    path(
        f"<str:readable_id>/{slug}/",
        views.experiment_move,
        {"move": move},
        name=f"experiment-{slug}",
    )
    for move, slug in MOVE_PATHS.items()
]

urlpatterns = [
    path("", views.experiment_list, name="experiment-list"),
    path("new/", views.experiment_create_view, name="experiment-create"),
    path("<str:readable_id>/", views.experiment_detail, name="experiment-detail"),
    path("<str:readable_id>/edit/", views.experiment_edit, name="experiment-edit"),
    *MOVE_URLS,
]
