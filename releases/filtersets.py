import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from actions.forms import style_widgets
from portfolio.choices import RiskTier
from portfolio.models import Capability
from releases.choices import ObjectType, ReleaseState
from releases.models import Release


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user).only("pk", "slug", "name")


@extend_schema_field(OpenApiTypes.STR)
class CapabilitySlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Capabilities by slug (repeat the parameter for several)."""


class ReleaseFilterSet(django_filters.FilterSet):
    """The filters of the release calendar (list and month) and of ``/api/v1/releases/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    object_type = django_filters.MultipleChoiceFilter(label=_("Object type"), choices=ObjectType.choices)
    risk_tier = django_filters.MultipleChoiceFilter(label=_("Risk tier"), choices=RiskTier.choices)
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=ReleaseState.choices)
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        empty_label=_("Planned date, latest first"),
        fields=(
            ("planned_date", "planned"),
            ("deployed_date", "deployed"),
            ("post_release_review_date", "review"),
            ("capability__name", "capability"),
            ("state", "state"),
        ),
        field_labels={
            "planned": _("Planned date"),
            "deployed": _("Deployed date"),
            "review": _("Review date"),
            "capability": _("Capability"),
            "state": _("State"),
        },
    )

    class Meta:
        model = Release
        fields = ["q", "capability", "object_type", "risk_tier", "state"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form.fields)
        for name in ("capability", "object_type", "risk_tier", "state"):
            self.form.fields[name].widget.attrs["size"] = 3

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(readable_id__iexact=value)
            | Q(change__icontains=value)
            | Q(version_to__icontains=value)
            | Q(version_from__icontains=value)
            | Q(affected_population__icontains=value)
        )
