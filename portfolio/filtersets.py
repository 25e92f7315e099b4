import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from portfolio.choices import LifecycleStatus, RiskTier
from portfolio.models import Capability


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
