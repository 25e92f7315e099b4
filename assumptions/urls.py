from django.urls import path

from assumptions import views

app_name = "assumptions"

urlpatterns = [
    path("", views.assumption_list, name="assumption-list"),
    path("new/", views.assumption_create, name="assumption-create"),
    path("<str:readable_id>/", views.assumption_detail, name="assumption-detail"),
    path("<str:readable_id>/edit/", views.assumption_edit, name="assumption-edit"),
    path("<str:readable_id>/review/", views.assumption_review, name="assumption-review"),
]
