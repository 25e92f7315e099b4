"""What hygiene does when a lower app announces something."""

from hygiene.choices import Trigger
from productops.jobs import enqueue_on_commit


def run_after_minutes(sender, session, **kwargs) -> None:
    """A forum session's minutes were published: check its capabilities again once the
    publication commits (a forum without scope covers the whole organisation)."""
    from hygiene.tasks import run_hygiene_for
    from portfolio.choices import LifecycleStatus
    from portfolio.models import Capability

    scope = list(session.forum.scope.values_list("pk", flat=True))
    capabilities = Capability.objects.exclude(lifecycle_status=LifecycleStatus.RETIRED)
    if scope:
        capabilities = capabilities.filter(pk__in=scope)
    for capability_id in capabilities.values_list("pk", flat=True):
        enqueue_on_commit(run_hygiene_for, capability_id, Trigger.FORUM)
