import django_filters

from forums.choices import Cadence, SessionState
from forums.models import Forum, Session
from productops.filters import MomentFilter


class ForumFilterSet(django_filters.FilterSet):
    cadence = django_filters.MultipleChoiceFilter(choices=Cadence.choices)
    capability = django_filters.CharFilter(field_name="scope__slug")

    class Meta:
        model = Forum
        fields = ["cadence", "frequency", "owner"]


class SessionFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=SessionState.choices)
    after = MomentFilter(field_name="scheduled_at", lookup_expr="gte")
    before = MomentFilter(field_name="scheduled_at", lookup_expr="lt")

    class Meta:
        model = Session
        fields = ["forum", "state"]
