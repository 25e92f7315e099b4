from django.urls import path

from portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.capability_list, name="capability-list"),
    path("new/", views.capability_create, name="capability-create"),
    path("switch/", views.capability_switch, name="capability-switch"),
    path("<slug:slug>/", views.capability_detail, name="capability-detail"),
    path("<slug:slug>/edit/", views.capability_edit, name="capability-edit"),
]
