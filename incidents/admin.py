from django.contrib import admin

from incidents.models import Incident, LearningItem, RootCause


class RootCauseInline(admin.TabularInline):
    model = RootCause
    extra = 0


class LearningItemInline(admin.TabularInline):
    model = LearningItem
    extra = 0
    exclude = ["record_content_type", "record_object_id"]


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ["readable_id", "title", "capability", "severity", "state", "is_recurrence"]
    list_filter = ["severity", "state", "source"]
    inlines = [RootCauseInline, LearningItemInline]
