from django.urls import path

from incidents import views

app_name = "incidents"

STEP_PATHS = [
    path(
        f"<str:readable_id>/{step.replace('_', '-')}/",
        views.incident_step,
        {"step": step},
        name=f"incident-{step.replace('_', '-')}",
    )
    for step in views.STEPS
]

urlpatterns = [
    path("", views.incident_list, name="incident-list"),
    path("new/", views.incident_create, name="incident-create"),
    path("<str:readable_id>/", views.incident_detail, name="incident-detail"),
    path("<str:readable_id>/markdown/", views.incident_markdown_view, name="incident-markdown"),
    *STEP_PATHS,
]
