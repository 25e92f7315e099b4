from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from portfolio.models import Capability


@admin.register(Capability)
class CapabilityAdmin(SimpleHistoryAdmin):
    list_display = ["name", "risk_tier", "lifecycle_status", "updated_at"]
    list_filter = ["risk_tier", "lifecycle_status"]
    search_fields = ["name", "workflow"]
    prepopulated_fields = {"slug": ["name"]}
