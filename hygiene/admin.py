from django.contrib import admin

from hygiene.models import Finding, Run, Waiver


@admin.register(Run)
class RunAdmin(admin.ModelAdmin):
    list_display = ["capability", "started_at", "trigger", "score", "high", "medium", "low", "waived"]
    list_filter = ["trigger", "capability"]
    readonly_fields = [field.name for field in Run._meta.fields]


@admin.register(Finding)
class FindingAdmin(admin.ModelAdmin):
    list_display = ["check_id", "severity", "run", "text"]
    list_filter = ["check_id", "severity"]
    readonly_fields = [field.name for field in Finding._meta.fields]


@admin.register(Waiver)
class WaiverAdmin(admin.ModelAdmin):
    list_display = ["capability", "check_id", "expires_on", "granted_by", "decision"]
    readonly_fields = [field.name for field in Waiver._meta.fields]
