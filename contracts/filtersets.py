import django_filters
from django import forms
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from actions.forms import style_widgets
from contracts.choices import Category, ContractStatus, EvidenceLevel, Grain, SignalLevel
from contracts.models import MetricContract, Observation, Signal
from portfolio.models import Capability


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user).only("pk", "slug", "name")


def _yes_no():
    return forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])


@extend_schema_field(OpenApiTypes.STR)
class CapabilitySlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Capabilities by slug (repeat the parameter for several)."""


class ContractFilterSet(django_filters.FilterSet):
    """The filters of the contract list page and of ``/api/v1/contracts/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    category = django_filters.MultipleChoiceFilter(label=_("Category"), choices=Category.choices)
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=ContractStatus.choices)
    evidence_level = django_filters.MultipleChoiceFilter(
        label=_("Evidence level"), choices=EvidenceLevel.choices
    )
    review_due = django_filters.BooleanFilter(
        label=_("Review due"), method="filter_review_due", widget=_yes_no()
    )

    class Meta:
        model = MetricContract
        fields = ["q", "capability", "category", "status", "evidence_level", "review_due"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form.fields)
        for name in ("capability", "category", "status", "evidence_level"):
            self.form.fields[name].widget.attrs["size"] = 3

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(metric_id__icontains=value) | Q(name__icontains=value) | Q(business_question__icontains=value)
        )

    def filter_review_due(self, queryset, name, value):
        if value is None:
            return queryset
        due = MetricContract.objects.review_due(timezone.localdate()).values("pk")
        return queryset.filter(pk__in=due) if value else queryset.exclude(pk__in=due)


class SignalFilterSet(django_filters.FilterSet):
    """The filters of the signal list page and of ``/api/v1/signals/``."""

    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="contract__capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    contract = django_filters.CharFilter(label=_("Metric id"), field_name="contract__metric_id")
    level = django_filters.MultipleChoiceFilter(label=_("Level"), choices=SignalLevel.choices)
    open = django_filters.BooleanFilter(label=_("Open"), method="filter_open", widget=_yes_no())

    class Meta:
        model = Signal
        fields = ["capability", "contract", "level", "open"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form.fields)
        self.form.fields["capability"].widget.attrs["size"] = 3
        self.form.fields["level"].widget.attrs["size"] = 3

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(resolved_period__isnull=value)


class ObservationFilterSet(django_filters.FilterSet):
    """The filters of ``GET /api/v1/observations/``. A contract is required: the table is read
    only through (contract, period_start), never scanned whole (ARCHITECTURE, "Observations at
    scale")."""

    contract = django_filters.CharFilter(
        label=_("Metric id"), field_name="contract__metric_id", required=True
    )
    grain = django_filters.ChoiceFilter(label=_("Grain"), choices=Grain.choices)
    period_from = django_filters.DateFilter(
        label=_("Period from"), field_name="period_start", lookup_expr="gte"
    )
    period_to = django_filters.DateFilter(label=_("Period to"), field_name="period_start", lookup_expr="lte")
    source = django_filters.CharFilter(label=_("Source"))

    class Meta:
        model = Observation
        fields = ["contract", "grain", "period_from", "period_to", "source"]
