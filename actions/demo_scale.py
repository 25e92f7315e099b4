"""The scaled demo's actions (``seed_demo --scale``): each region's capabilities get the home
capability's actions, in every state, through the same builder and moves (``actions.demo``).

The home builder writes contract-level reopen triggers on the home capability's metric ids
(``actions.demo.METRICS``); in a region they must watch the region's own copy of the contract,
so they are pointed there after the build (a trigger nobody has fired yet: only its text moves).
"""

from actions import demo
from actions.models import ReopenTrigger


def seed(region) -> None:
    demo.seed(region)
    for slug, (metric_id, _level) in demo.METRICS.items():
        ReopenTrigger.objects.filter(
            action__capability=region.capabilities[slug], contract_metric_id=metric_id
        ).update(contract_metric_id=region.metric_id(metric_id))
