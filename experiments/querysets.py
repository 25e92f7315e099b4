from django.db import models

from experiments.choices import ExperimentState
from productops.permissions import visible_capability_ids


class ExperimentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Experiments of the capabilities the person holds a role on (all for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def in_state(self, *states):
        return self.filter(state__in=states)

    def running(self):
        return self.filter(state=ExperimentState.RUNNING)

    def awaiting_decision(self):
        """In readout: the experiment review has figures to decide on."""
        return self.filter(state=ExperimentState.READOUT)

    def decided(self):
        return self.filter(state=ExperimentState.DECIDED)

    def testing(self, assumption):
        return self.filter(tested_assumption=assumption)

    def with_list_related(self):
        """What a list row shows, fetched in the same query."""
        return self.select_related("capability", "owner", "primary_metric", "tested_assumption")
