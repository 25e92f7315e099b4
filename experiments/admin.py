from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from experiments.models import Experiment


@admin.register(Experiment)
class ExperimentAdmin(SimpleHistoryAdmin):
    list_display = ["readable_id", "title", "capability", "owner", "start_date", "planned_end_date", "state"]
    list_filter = ["state", "decision", "capability"]
    search_fields = ["readable_id", "title", "hypothesis"]
    list_select_related = ["capability", "owner"]
    raw_id_fields = ["owner", "primary_metric", "tested_assumption"]
    filter_horizontal = ["guardrails"]
    # State, result and decision change only through the moves and the decision service.
    readonly_fields = [
        "readable_id",
        "state",
        "ended_on",
        "result",
        "decision",
        "decision_comment",
        "decision_record",
        "assumption_review",
        "decided_at",
        "decided_by",
        "readout_snapshot",
    ]

    def has_delete_permission(self, request, obj=None):
        return False
