import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from decisions.filtersets import CapabilitySlugFilter
from hygiene.checks import CHECKS
from hygiene.choices import Severity
from hygiene.models import Finding
from portfolio.models import Capability


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user)


class FindingFilterSet(django_filters.FilterSet):
    """The filters of ``/api/v1/hygiene-findings/``."""

    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="run__capability__slug",
        queryset=_visible_capabilities,
        to_field_name="slug",
    )
    check = django_filters.MultipleChoiceFilter(
        label=_("Check"),
        field_name="check_id",
        choices=lambda: [(key, spec.title) for key, spec in CHECKS.items()],
    )
    severity = django_filters.MultipleChoiceFilter(label=_("Severity"), choices=Severity.choices)
    run = django_filters.NumberFilter(label=_("Run"), field_name="run_id")
    latest = django_filters.BooleanFilter(
        label=_("Latest run only"),
        method="filter_latest",
        help_text=_("true: only the findings of each capability's latest run (what is open now)."),
        widget=forms.Select(
            choices=[("", _("Any")), ("true", _("Latest run")), ("false", _("Earlier runs"))]
        ),
    )
    run_from = django_filters.DateFilter(
        label=_("Run on or after"), field_name="run__as_of", lookup_expr="gte"
    )

    class Meta:
        model = Finding
        fields = []

    def filter_latest(self, queryset, name, value):
        if value is None:
            return queryset
        latest = Finding.objects.of_latest_runs().values("pk")
        return queryset.filter(pk__in=latest) if value else queryset.exclude(pk__in=latest)
