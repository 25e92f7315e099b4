"""The decision log in the admin: read-only, even for superusers. A decision is recorded through
the pages, the API or a service, and replaced only by a decision that supersedes it."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from decisions.models import Decision, EvidenceLink


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class EvidenceLinkInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EvidenceLink
    fields = ["reference", "label", "url", "content_type", "object_id"]
    readonly_fields = fields
    extra = 0


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["readable_id", "decided_on", "capability", "type", "owner", "evidence", "superseded"]
    list_filter = ["type", "capability", "decided_on"]
    search_fields = ["readable_id", "decision", "options_considered"]
    date_hierarchy = "decided_on"
    inlines = [EvidenceLinkInline]
    readonly_fields = [
        "readable_id",
        "decided_on",
        "capability",
        "type",
        "decision",
        "options_considered",
        "owner",
        "review_trigger",
        "review_date",
        "details",
        "supersedes",
        "recorded_by",
        "forum_session_type",
        "forum_session_id",
        "created_at",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        return super().get_queryset(request).for_list()

    @admin.display(description=_("evidence"), ordering="evidence_total")
    def evidence(self, obj):
        return obj.evidence_count or _("no evidence")

    @admin.display(description=_("superseded by"))
    def superseded(self, obj):
        successor = obj.successor
        return successor.readable_id if successor else "—"
