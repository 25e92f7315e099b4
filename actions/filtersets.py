import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from actions.choices import ActionStatus, QuickView, SourceKind
from actions.forms import style_widgets
from actions.models import Action
from portfolio.models import Capability
from productops.models import User


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user).only("pk", "slug", "name")


def _owners(request):
    """People who own an action the requester can see, and the requester (for "my actions")."""
    if request is None:
        return User.objects.none()
    visible = Action.objects.visible_to(request.user)
    return (
        User.objects.filter(Q(pk=request.user.pk) | Q(pk__in=visible.values("owner_id")))
        .only("pk", "username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


def _yes_no():
    return forms.Select(choices=[("", _("Any")), ("true", _("Yes")), ("false", _("No"))])


@extend_schema_field(OpenApiTypes.STR)
class CapabilitySlugFilter(django_filters.ModelMultipleChoiceFilter):
    """Capabilities by slug (repeat the parameter for several)."""


class ActionFilterSet(django_filters.FilterSet):
    """The filters of the action register page and of ``/api/v1/actions/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    view = django_filters.ChoiceFilter(label=_("View"), choices=QuickView.choices, method="quick_view")
    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    status = django_filters.MultipleChoiceFilter(label=_("Status"), choices=ActionStatus.choices)
    owner = django_filters.ModelChoiceFilter(
        label=_("Owner"),
        field_name="owner",
        to_field_name="username",
        queryset=_owners,
        empty_label=_("Anyone"),
    )
    source_kind = django_filters.MultipleChoiceFilter(label=_("Source"), choices=SourceKind.choices)
    overdue = django_filters.BooleanFilter(label=_("Overdue"), method="filter_overdue", widget=_yes_no())
    due_this_week = django_filters.BooleanFilter(
        label=_("Due this week"), method="filter_due_this_week", widget=_yes_no()
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        empty_label=_("Due date"),
        fields=(
            ("due_date", "due_date"),
            ("id", "id"),
            ("status", "status"),
            ("updated_at", "updated"),
            ("capability__name", "capability"),
            ("owner__first_name", "owner"),
        ),
        field_labels={
            "due_date": _("Due date"),
            "id": _("Id"),
            "status": _("Status"),
            "updated": _("Last change"),
            "capability": _("Capability"),
            "owner": _("Owner"),
        },
    )

    class Meta:
        model = Action
        fields = ["q", "view", "capability", "status", "owner", "source_kind", "overdue", "due_this_week"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form.fields)
        self.form.fields["capability"].widget.attrs["size"] = 3
        self.form.fields["status"].widget.attrs["size"] = 3
        self.form.fields["source_kind"].widget.attrs["size"] = 3

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(readable_id__iexact=value)
            | Q(action__icontains=value)
            | Q(source_signal__icontains=value)
            | Q(closure_criterion__icontains=value)
        )

    def quick_view(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        views = {
            QuickView.OVERDUE: lambda qs: qs.overdue(),
            QuickView.DUE_THIS_WEEK: lambda qs: qs.due_this_week(),
            QuickView.BLOCKED: lambda qs: qs.blocked(),
            QuickView.REOPENED: lambda qs: qs.reopened(),
            QuickView.AWAITING_VERIFICATION: lambda qs: qs.awaiting_verification(),
            QuickView.OPEN: lambda qs: qs.open(),
            QuickView.MINE: lambda qs: qs.open().for_owner(user),
            QuickView.TO_VERIFY: lambda qs: qs.to_verify_by(user),
        }
        return views[value](queryset) if value in views else queryset

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.overdue() if value else queryset.exclude(pk__in=Action.objects.overdue().values("pk"))

    def filter_due_this_week(self, queryset, name, value):
        if value is None:
            return queryset
        return (
            queryset.due_this_week()
            if value
            else queryset.exclude(pk__in=Action.objects.due_this_week().values("pk"))
        )
