import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from portfolio.choices import BacklogBand, BacklogClass, BacklogStatus, LifecycleStatus, RiskTier
from portfolio.models import BacklogItem, Capability


class CapabilityFilterSet(django_filters.FilterSet):
    """The filters of the capability list page and of ``/api/v1/capabilities/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    risk_tier = django_filters.MultipleChoiceFilter(label=_("Risk tier"), choices=RiskTier.choices)
    lifecycle_status = django_filters.MultipleChoiceFilter(
        label=_("Lifecycle status"), choices=LifecycleStatus.choices
    )

    class Meta:
        model = Capability
        fields = ["q", "risk_tier", "lifecycle_status"]

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(name__icontains=value) | Q(workflow__icontains=value) | Q(target_users__icontains=value)
        )


@extend_schema_field(OpenApiTypes.STR)
class CapabilitySlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Capabilities by slug (repeat the parameter for several)."""


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user).only("pk", "slug", "name")


class BacklogItemFilterSet(django_filters.FilterSet):
    """The filters of the ranked backlog pages and of ``/api/v1/backlog-items/``.

    Capability, class and status filter the database query. The band is not stored: it is where
    the ranking puts an item among *all* its capability's items, so ``band`` is applied to the
    ranked list (``filter_ranked``) — filtering by class or status never changes an item's band.
    """

    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    item_class = django_filters.MultipleChoiceFilter(label=_("Class"), choices=BacklogClass.choices)
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=BacklogStatus.choices)
    band = django_filters.MultipleChoiceFilter(label=_("Band"), choices=BacklogBand.choices, method="by_band")

    class Meta:
        model = BacklogItem
        fields = ["capability", "item_class", "status", "band"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in self.form.fields:
            self.form.fields[name].widget.attrs.update({"class": "form-select", "size": 3})

    def by_band(self, queryset, name, value):
        return queryset  # applied after ranking, see filter_ranked

    def scope(self):
        """The items the ranking must see: the visible items, narrowed by capability only."""
        queryset = self.queryset
        capabilities = self.form.cleaned_data.get("capability") if self.is_valid() else None
        if capabilities:
            queryset = queryset.filter(capability__in=capabilities)
        return queryset

    def filter_ranked(self, ranked: list) -> list:
        """The ranked entries these filters select, in rank order (one query for the ids)."""
        keep = set(self.qs.values_list("pk", flat=True))
        bands = set(self.form.cleaned_data.get("band") or []) if self.is_valid() else set()
        return [entry for entry in ranked if entry.item.pk in keep and (not bands or entry.band in bands)]

    def ranked(self) -> list:
        """Rank the scope, then keep what the filters select."""
        return self.filter_ranked(self.scope().ranked())
