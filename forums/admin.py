from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from forums.models import (
    Forum,
    PackDelivery,
    PortfolioReview,
    ReviewPack,
    ScorecardRow,
    Session,
    SessionAttendance,
    ValueMemo,
)


@admin.register(Forum)
class ForumAdmin(SimpleHistoryAdmin):
    list_display = ["name", "cadence", "frequency", "owner"]
    list_filter = ["cadence", "frequency"]
    search_fields = ["name"]
    filter_horizontal = ["attendees", "scope"]


class AttendanceInline(admin.TabularInline):
    model = SessionAttendance
    extra = 0


@admin.register(Session)
class SessionAdmin(SimpleHistoryAdmin):
    list_display = ["forum", "scheduled_at", "state"]
    list_filter = ["state", "forum__cadence"]
    date_hierarchy = "scheduled_at"
    inlines = [AttendanceInline]


class DeliveryInline(admin.TabularInline):
    model = PackDelivery
    extra = 0
    fields = ["recipient", "email", "status", "attempts", "sent_at", "last_error"]
    readonly_fields = fields


@admin.register(ReviewPack)
class ReviewPackAdmin(admin.ModelAdmin):
    # A pack is what was sent: read it here, never edit it.
    list_display = ["session", "built_at", "sent_at", "page_count"]
    readonly_fields = ["session", "built_at", "built_by", "sent_at", "page_count", "pdf_sha256"]
    exclude = ["snapshot", "charts", "pdf"]
    inlines = [DeliveryInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ValueMemo)
class ValueMemoAdmin(SimpleHistoryAdmin):
    # Memos are generated, edited and sent through forums.memos (which keeps a sent memo as
    # sent); the admin only reads them.
    list_display = ["capability", "month", "state", "recommendation", "sent_at"]
    list_filter = ["state", "month"]
    readonly_fields = ["capability", "session", "month", "recommendation", "state", "generated_at", "sent_at"]
    exclude = ["fields", "matrix"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ScorecardRowInline(admin.TabularInline):
    # Read here only: a rating and a decision go through forums.portfolio_review (the decision
    # is written to the decision log; a decided row changes only by superseding it there).
    model = ScorecardRow
    extra = 0
    fields = ["capability", "decision", "funding_change", "next_review", "decided_by", "decision_logged"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(PortfolioReview)
class PortfolioReviewAdmin(SimpleHistoryAdmin):
    list_display = ["quarter", "state", "decided_at"]
    readonly_fields = ["state", "decided_at"]
    inlines = [ScorecardRowInline]
