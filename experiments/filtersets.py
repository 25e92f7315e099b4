import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.filtersets import CapabilitySlugFilter
from actions.forms import style_widgets
from experiments.choices import ExperimentDecision, ExperimentState
from experiments.models import Experiment
from portfolio.models import Capability


def _visible_capabilities(request):
    if request is None:
        return Capability.objects.none()
    return Capability.objects.visible_to(request.user).only("pk", "slug", "name")


class ExperimentFilterSet(django_filters.FilterSet):
    """The filters of the experiment registry page and of ``/api/v1/experiments/``."""

    q = django_filters.CharFilter(label=_("Search"), method="search")
    capability = CapabilitySlugFilter(
        label=_("Capability"),
        field_name="capability__slug",
        to_field_name="slug",
        queryset=_visible_capabilities,
    )
    state = django_filters.MultipleChoiceFilter(label=_("State"), choices=ExperimentState.choices)
    decision = django_filters.MultipleChoiceFilter(label=_("Decision"), choices=ExperimentDecision.choices)
    sort = django_filters.OrderingFilter(
        label=_("Sort"),
        empty_label=_("Start, newest first"),
        fields=(
            ("start_date", "start"),
            ("planned_end_date", "planned_end"),
            ("id", "id"),
            ("state", "state"),
            ("capability__name", "capability"),
        ),
        field_labels={
            "start": _("Start"),
            "planned_end": _("Planned end"),
            "id": _("Id"),
            "state": _("State"),
            "capability": _("Capability"),
        },
    )

    class Meta:
        model = Experiment
        fields = ["q", "capability", "state", "decision"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.form.fields)
        for name in ("capability", "state", "decision"):
            self.form.fields[name].widget.attrs["size"] = 3

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(readable_id__iexact=value)
            | Q(title__icontains=value)
            | Q(hypothesis__icontains=value)
            | Q(treatment__icontains=value)
            | Q(primary_metric__metric_id__icontains=value)
        )
