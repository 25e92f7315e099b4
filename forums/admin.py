from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from forums.models import Forum, Session, SessionAttendance


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
