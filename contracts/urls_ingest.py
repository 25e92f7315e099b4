"""Observation CSV import pages. Included by ``contracts/urls.py`` (namespace ``contracts``):
``contracts:observation-import`` at /contracts/import/ and ``contracts:observation-import-status``."""

from django.urls import path

from contracts import views_ingest

urlpatterns = [
    path("import/", views_ingest.observation_import, name="observation-import"),
    path("import/<int:pk>/", views_ingest.observation_import_status, name="observation-import-status"),
]
