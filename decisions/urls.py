from django.urls import path

from decisions import views

app_name = "decisions"

# No edit or delete page: the decision log is append-only (a decision is superseded instead).
urlpatterns = [
    path("", views.decision_list, name="decision-list"),
    path("new/", views.decision_create, name="decision-create"),
    path("<str:readable_id>/", views.decision_detail, name="decision-detail"),
    path("<str:readable_id>/supersede/", views.decision_supersede_view, name="decision-supersede"),
]
