from django.urls import path

from hygiene import views

app_name = "hygiene"

urlpatterns = [
    path("", views.hygiene_index, name="index"),
    path("findings/<int:pk>/waive/", views.finding_waive, name="finding-waive"),
    path("<slug:slug>/", views.hygiene_capability, name="capability"),
    path("<slug:slug>/run/", views.hygiene_run_now, name="run"),
]
