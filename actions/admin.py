from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from actions.models import Action, ClosureEvidence, Reopening, ReopenTrigger


class ClosureEvidenceInline(admin.TabularInline):
    model = ClosureEvidence
    extra = 0
    can_delete = False
    fields = [
        "submitted_at",
        "submitted_by",
        "text",
        "link",
        "file",
        "verdict",
        "reviewed_by",
        "review_comment",
    ]
    readonly_fields = fields


class ReopeningInline(admin.TabularInline):
    model = Reopening
    extra = 0
    can_delete = False
    fields = ["reopened_at", "reopened_by", "reason", "by_trigger"]
    readonly_fields = fields


class ReopenTriggerInline(admin.StackedInline):
    model = ReopenTrigger
    extra = 0


@admin.register(Action)
class ActionAdmin(SimpleHistoryAdmin):
    list_display = ["readable_id", "action", "capability", "owner", "due_date", "status"]
    list_filter = ["status", "source_kind", "capability"]
    search_fields = ["readable_id", "action", "source_signal"]
    list_select_related = ["capability", "owner"]
    raw_id_fields = ["owner", "reviewer", "escalated_to"]
    # The state changes only through the model's moves (evidence, verification), never by hand.
    readonly_fields = ["readable_id", "status", "closed_at", "times_reopened", "blocked_reason"]
    inlines = [ReopenTriggerInline, ClosureEvidenceInline, ReopeningInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReopenTrigger)
class ReopenTriggerAdmin(SimpleHistoryAdmin):
    list_display = ["action", "kind", "contract_metric_id", "recheck_on", "fired_at"]
    list_filter = ["kind"]
    raw_id_fields = ["action"]
