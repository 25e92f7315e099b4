"""Loading an experiment for a request: 404 when the person holds no role on its capability, so
another capability's experiments are not even confirmed to exist."""

from django.shortcuts import get_object_or_404

from experiments.models import Experiment


def get_experiment_for_user(user, readable_id: str) -> Experiment:
    return get_object_or_404(
        Experiment.objects.visible_to(user)
        .select_related(
            "capability",
            "owner",
            "primary_metric",
            "tested_assumption",
            "decision_record",
            "assumption_review",
            "decided_by",
        )
        .prefetch_related("guardrails"),
        readable_id=readable_id,
    )
