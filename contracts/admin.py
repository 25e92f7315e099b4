"""Metric contracts in the admin. A contract saved here goes through the same services as the
pages, so a definition change of an active contract is still a logged decision; evaluations and
observations are written by the jobs and only read here."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from contracts.forms import FORM_FIELDS, DimensionListField
from contracts.models import Evaluation, ImportJob, MetricContract, Observation, Signal, StopHold
from contracts.services import contract_create, contract_editable_fields, contract_update


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class MetricContractAdminForm(forms.ModelForm):
    cohort_dimensions = DimensionListField(
        label=_("Cohort dimensions"), required=False, help_text=_("Comma-separated, e.g. intent, team.")
    )
    required_cuts = DimensionListField(
        label=_("Required cohort cuts"), required=False, help_text=_("Comma-separated, e.g. intent.")
    )

    class Meta:
        model = MetricContract
        fields = [*FORM_FIELDS]


@admin.register(MetricContract)
class MetricContractAdmin(SimpleHistoryAdmin):
    form = MetricContractAdminForm
    list_display = [
        "metric_id",
        "name",
        "capability",
        "category",
        "watch",
        "status",
        "evidence_level",
        "next_review",
    ]
    list_filter = ["status", "category", "watch", "evidence_level", "capability"]
    search_fields = ["metric_id", "name", "business_question"]
    list_select_related = ["capability"]
    raw_id_fields = ["business_owner", "analytics_owner", "risk_reviewer"]
    filter_horizontal = ["guardrails"]
    # The state moves through activate/retire; the job sets the guardrail flag.
    readonly_fields = [
        "status",
        "improvement_not_net",
        "improvement_not_net_reason",
        "review_reminder_sent_for",
    ]

    def get_readonly_fields(self, request, obj=None):
        fixed = ["metric_id", "capability"] if obj is not None else []
        return [*self.readonly_fields, *fixed]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.cleaned_data if name in form.fields}
        if change:
            fields = {name: value for name, value in data.items() if name in contract_editable_fields()}
            contract_update(contract=obj, by=request.user, fields=fields)
        else:
            saved = contract_create(by=request.user, **data)
            obj.pk = saved.pk
            obj._state.adding = False

    def save_related(self, request, form, formsets, change):
        # Guardrails were set by the service; saving the form's m2m again would be a no-op at best.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Signal)
class SignalAdmin(SimpleHistoryAdmin):
    list_display = ["contract", "cut", "level", "worst_level", "opened_period", "resolved_period", "action"]
    list_filter = ["level", "worst_level"]
    search_fields = ["contract__metric_id", "cut"]
    list_select_related = ["contract", "action"]
    raw_id_fields = ["contract", "action"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(StopHold)
class StopHoldAdmin(SimpleHistoryAdmin):
    list_display = ["capability", "signal", "created_at", "lifted_at", "lifted_by"]
    list_filter = ["capability"]
    raw_id_fields = ["signal", "lifted_by"]
    list_select_related = ["capability", "signal__contract", "lifted_by"]

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Evaluation)
class EvaluationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contract", "period_start", "grain", "cut", "value", "sample_size", "level"]
    list_filter = ["level", "grain"]
    search_fields = ["contract__metric_id", "cut"]
    list_select_related = ["contract"]


@admin.register(Observation)
class ObservationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["contract", "period_start", "grain", "cohort_key", "version_key", "value", "sample_size"]
    list_filter = ["grain"]
    search_fields = ["contract__metric_id", "cohort_key", "version_key"]
    list_select_related = ["contract"]
    show_full_result_count = False  # counting 100M rows for the paginator is not worth a page load


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["original_name", "capability", "created_by", "created_at", "state", "written_rows"]
    list_filter = ["state"]
