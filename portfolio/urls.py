from django.urls import path

from portfolio import views

app_name = "portfolio"

urlpatterns = [
    path("", views.capability_list, name="capability-list"),
    path("new/", views.capability_create, name="capability-create"),
    path("switch/", views.capability_switch, name="capability-switch"),
    # The backlog across the portfolio; before "<slug>/" so that "backlog" is never read as a slug.
    path("backlog/", views.backlog_portfolio, name="backlog"),
    path("backlog/platform/", views.backlog_platform, name="backlog-platform"),
    path("backlog/retirement/", views.backlog_retirement, name="backlog-retirement"),
    path("backlog/<str:readable_id>/", views.backlog_detail, name="backlog-detail"),
    path("backlog/<str:readable_id>/edit/", views.backlog_edit, name="backlog-edit"),
    path("backlog/<str:readable_id>/move/", views.backlog_move, name="backlog-move"),
    path("<slug:slug>/", views.capability_detail, name="capability-detail"),
    path("<slug:slug>/edit/", views.capability_edit, name="capability-edit"),
    path("<slug:slug>/backlog/", views.backlog_capability, name="capability-backlog"),
    path("<slug:slug>/backlog/new/", views.backlog_create, name="backlog-create"),
]
