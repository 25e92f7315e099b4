from django.urls import path, register_converter

from contracts import urls_ingest, views


class MetricIdConverter:
    """``cc_agent_assist.repeat_contact_7d``: a capability part and a metric part."""

    regex = r"[a-z0-9_]+\.[a-z0-9_]+"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(MetricIdConverter, "metric_id")

app_name = "contracts"

urlpatterns = [
    path("", views.contract_list, name="contract-list"),
    path("new/", views.contract_create, name="contract-create"),
    path("signals/", views.signal_list, name="signal-list"),
    path("signals/<int:pk>/", views.signal_detail, name="signal-detail"),
    path("signals/<int:pk>/lift-hold/", views.signal_lift_hold, name="signal-lift-hold"),
    # The observation CSV import pages (contracts:observation-import, ...), owned by ingest.
    *urls_ingest.urlpatterns,
    path("<metric_id:metric_id>/", views.contract_detail, name="contract-detail"),
    path("<metric_id:metric_id>/edit/", views.contract_edit, name="contract-edit"),
    path("<metric_id:metric_id>/activate/", views.contract_activate, name="contract-activate"),
    path("<metric_id:metric_id>/retire/", views.contract_retire, name="contract-retire"),
]
