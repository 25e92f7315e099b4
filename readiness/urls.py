from django.urls import path

from readiness import views

app_name = "readiness"

urlpatterns = [
    path("", views.portfolio_readiness, name="index"),
    path("<slug:slug>/", views.capability_readiness, name="capability"),
    path("<slug:slug>/onboarding/", views.onboarding, name="onboarding"),
    path("<slug:slug>/onboarding/<str:item>/tick/", views.onboarding_tick, name="onboarding-tick"),
]
