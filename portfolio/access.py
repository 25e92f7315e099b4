"""Loading a capability for a request: 404 when the person may not see it, 403 when they may
not change it. Every view of every app goes through these."""

from django.shortcuts import get_object_or_404

from portfolio.models import Capability
from productops.permissions import require_change


def get_capability_for_user(user, slug: str) -> Capability:
    return get_object_or_404(Capability.objects.visible_to(user), slug=slug)


def get_capability_to_change(user, slug: str, activity: str) -> Capability:
    capability = get_capability_for_user(user, slug)
    require_change(user, activity, capability)
    return capability
