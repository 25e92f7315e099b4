from django.urls import path

from boards import views

app_name = "boards"

urlpatterns = [
    path("", views.index, name="index"),
    path("runtime/", views.runtime_board, name="runtime"),
    path("runtime/unremediated/", views.runtime_unremediated, name="runtime-unremediated"),
    path("weekly/", views.weekly_board, name="weekly"),
    path("weekly/fold/<str:key>/", views.weekly_fold, name="weekly-fold"),
    path("monthly/", views.monthly_board, name="monthly"),
    path("releases/", views.release_impact_board, name="release-impact"),
    path("portfolio/", views.portfolio_board, name="portfolio"),
    path("evidence/<str:metric_id>/", views.evidence_binder, name="evidence"),
    path("chart/<str:metric_id>/", views.trend_chart, name="chart"),
]
