import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from decisions.choices import DecisionState, DecisionType
from decisions.models import Decision
from portfolio.models import Capability


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user)


def _decision_owners(request):
    if request is None:
        return get_user_model().objects.none()
    visible = Decision.objects.visible_to(request.user)
    return (
        get_user_model()
        .objects.filter(pk__in=visible.values("owner_id"))
        .order_by("first_name", "last_name", "username")
    )


@extend_schema_field(OpenApiTypes.STR)
class CapabilitySlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Capabilities by slug (repeat the parameter for several)."""


@extend_schema_field(OpenApiTypes.STR)
class OwnerUsernameFilter(django_filters.ModelChoiceFilter):
    """The decision's owner by username."""


class DecisionFilterSet(django_filters.FilterSet):
    """The filters of the decision log page and of ``/api/v1/decisions/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        queryset=_visible_capabilities,
        to_field_name="slug",
    )
    type = django_filters.MultipleChoiceFilter(label=_("Type"), choices=DecisionType.choices)
    owner = OwnerUsernameFilter(
        label=_("Owner"), field_name="owner__username", queryset=_decision_owners, to_field_name="username"
    )
    decided_from = django_filters.DateFilter(
        label=_("Decided from"), field_name="decided_on", lookup_expr="gte"
    )
    decided_to = django_filters.DateFilter(label=_("Decided to"), field_name="decided_on", lookup_expr="lte")
    has_evidence = django_filters.BooleanFilter(
        label=_("Has evidence"),
        method="filter_has_evidence",
        widget=forms.Select(
            choices=[("", _("Any")), ("true", _("With evidence")), ("false", _("No evidence"))]
        ),
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), choices=DecisionState.choices, method="filter_state", empty_label=_("Any")
    )
    due_for_review = django_filters.BooleanFilter(
        label=_("Due for review"),
        method="filter_due",
        widget=forms.Select(choices=[("", _("Any")), ("true", _("Due for review"))]),
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(
            ("decided_on", "decided_on"),
            ("readable_id", "id"),
            ("type", "type"),
            ("capability__name", "capability"),
            ("review_date", "review_date"),
            ("evidence_total", "evidence"),
        ),
        field_labels={
            "decided_on": _("Date"),
            "readable_id": _("Id"),
            "type": _("Type"),
            "capability__name": _("Capability"),
            "review_date": _("Review date"),
            "evidence_total": _("Evidence"),
        },
    )

    class Meta:
        model = Decision
        fields = [
            "q",
            "capability",
            "type",
            "owner",
            "decided_from",
            "decided_to",
            "has_evidence",
            "state",
            "due_for_review",
        ]

    @property
    def form(self):
        form = super().form
        for field in form.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)
        return form

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(readable_id__icontains=value)
            | Q(decision__icontains=value)
            | Q(options_considered__icontains=value)
            | Q(review_trigger__icontains=value)
        )

    def filter_has_evidence(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.with_evidence() if value else queryset.without_evidence()

    def filter_state(self, queryset, name, value):
        if value == DecisionState.CURRENT:
            return queryset.current()
        if value == DecisionState.SUPERSEDED:
            return queryset.superseded()
        return queryset

    def filter_due(self, queryset, name, value):
        return queryset.due_for_review() if value else queryset
