import django_filters
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assumptions.choices import AssumptionStatus, AssumptionType
from assumptions.forms import style_widgets
from assumptions.models import Assumption
from portfolio.models import Capability


def _user(request):
    return getattr(request, "user", None)


def _capabilities(request):
    return Capability.objects.visible_to(_user(request))


def _owners(request):
    """People who own an assumption the person can see (not the whole staff list)."""
    visible = Assumption.objects.visible_to(_user(request))
    return (
        get_user_model()
        .objects.filter(pk__in=visible.values("owner_id"))
        .order_by("first_name", "last_name", "username")
    )


class AssumptionFilterSet(django_filters.FilterSet):
    """The filters of the assumption ledger page and of ``/api/v1/assumptions/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    capability = django_filters.ModelChoiceFilter(
        label=_("Capability"), queryset=_capabilities, to_field_name="slug"
    )
    type = django_filters.MultipleChoiceFilter(label=_("Type"), choices=AssumptionType.choices)
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=AssumptionStatus.choices)
    owner = django_filters.ModelChoiceFilter(label=_("Owner"), queryset=_owners, to_field_name="username")
    expiring_within = django_filters.NumberFilter(
        label=_("Expiring within (days)"), method="filter_expiring_within", min_value=0
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=[
            ("id", "id"),
            ("expires_on", "expires_on"),
            ("status", "status"),
            ("type", "type"),
            ("capability__name", "capability"),
            ("next_review_on", "next_review"),
            ("updated_at", "updated"),
        ],
        field_labels={
            "id": _("Id"),
            "expires_on": _("Expiry"),
            "status": _("Status"),
            "type": _("Type"),
            "capability__name": _("Capability"),
            "next_review_on": _("Next review"),
            "updated_at": _("Last updated"),
        },
    )

    class Meta:
        model = Assumption
        fields = ["q", "capability", "type", "status", "owner", "expiring_within"]

    @property
    def form(self):
        if not hasattr(self, "_form"):
            form = super().form
            style_widgets(form, size="sm")
            form.fields["type"].widget.attrs["size"] = 3
            form.fields["status"].widget.attrs["size"] = 3
        return self._form

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(statement__icontains=value)
            | Q(readable_id__icontains=value)
            | Q(evidence__icontains=value)
            | Q(decision_impact__icontains=value)
        )

    def filter_expiring_within(self, queryset, name, value):
        return queryset.expiring_within(int(value))
