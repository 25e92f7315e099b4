import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from actions.filtersets import CapabilitySlugFilter, _visible_capabilities
from actions.forms import style_widgets
from incidents.choices import IncidentSeverity, IncidentSource, IncidentState
from incidents.models import Incident


class IncidentFilterSet(django_filters.FilterSet):
    """The filters of the incident list page and of ``/api/v1/incidents/``."""

    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    severity = django_filters.MultipleChoiceFilter(label=_("Severity"), choices=IncidentSeverity.choices)
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=IncidentState.choices)
    source = django_filters.MultipleChoiceFilter(label=_("Source"), choices=IncidentSource.choices)
    recurrence = django_filters.BooleanFilter(
        label=_("Recurrence"),
        field_name="is_recurrence",
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )
    open = django_filters.BooleanFilter(
        label=_("Open only"),
        method="filter_open",
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))]),
    )

    class Meta:
        model = Incident
        fields = ["capability", "severity", "state", "source", "recurrence", "open"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form.fields)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.open() if value else queryset.filter(state="closed")
