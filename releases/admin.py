from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from releases.models import CalendarToken, EvidenceItem, ImpactReview, Release, ReleaseApproval


class EvidenceItemInline(admin.TabularInline):
    model = EvidenceItem
    extra = 0
    can_delete = False
    fields = ["key", "link", "file", "note", "attested_by", "attested_at"]
    readonly_fields = fields


class ReleaseApprovalInline(admin.TabularInline):
    model = ReleaseApproval
    extra = 0
    can_delete = False
    fields = ["decided_at", "approver", "verdict", "comment", "round", "as_risk", "decision"]
    readonly_fields = fields


class ImpactReviewInline(admin.StackedInline):
    model = ImpactReview
    extra = 0
    can_delete = False
    fields = [
        "reviewed_at",
        "reviewer",
        "decision",
        "expected_effect",
        "comment",
        "regressions",
        "decision_record",
    ]
    readonly_fields = fields


@admin.register(Release)
class ReleaseAdmin(SimpleHistoryAdmin):
    """Reference and audit view. State changes go through the model's moves (the page and the
    API), so the calendar's fields are read-only here."""

    list_display = [
        "readable_id",
        "change",
        "capability",
        "object_type",
        "risk_tier",
        "planned_date",
        "state",
    ]
    list_filter = ["state", "object_type", "risk_tier", "capability"]
    search_fields = ["readable_id", "change", "version_to"]
    inlines = [EvidenceItemInline, ReleaseApprovalInline, ImpactReviewInline]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Release._meta.fields] + ["decisions"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarToken)
class CalendarTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "created_at"]
    fields = ["user", "created_at"]
    readonly_fields = ["user", "created_at"]

    def has_add_permission(self, request):
        return False
