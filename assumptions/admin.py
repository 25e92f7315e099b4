from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from assumptions.models import Assumption, AssumptionReview


class AssumptionReviewInline(admin.TabularInline):
    """The review rows, read-only: they are the record of what was decided on which evidence."""

    model = AssumptionReview
    extra = 0
    can_delete = False
    fields = [
        "reviewed_at",
        "previous_status",
        "new_status",
        "new_evidence",
        "roadmap_impact",
        "next_review",
        "reviewed_by",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Assumption)
class AssumptionAdmin(SimpleHistoryAdmin):
    """Status is read-only here too: it moves only through a review (page, API or job)."""

    list_display = ["readable_id", "capability", "type", "status", "owner", "expires_on", "next_review_on"]
    list_filter = ["status", "type", "confidence", "capability"]
    search_fields = ["readable_id", "statement", "evidence"]
    readonly_fields = ["readable_id", "status", "next_review_on", "created_at", "updated_at"]
    list_select_related = ["capability", "owner"]
    inlines = [AssumptionReviewInline]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AssumptionReview)
class AssumptionReviewAdmin(admin.ModelAdmin):
    list_display = ["assumption", "previous_status", "new_status", "reviewed_by", "reviewed_at"]
    list_filter = ["new_status"]
    list_select_related = ["assumption", "reviewed_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
