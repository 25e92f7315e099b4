"""Loading assumptions for a request: 404 when the person may not see the capability, 403 when
they may not change its ledger. Every assumption view goes through these."""

from django.shortcuts import get_object_or_404

from assumptions.models import Assumption
from portfolio.models import Capability
from productops.permissions import can_change, require_change
from productops.roles import Activity


def get_assumption_for_user(user, readable_id: str) -> Assumption:
    return get_object_or_404(
        Assumption.objects.visible_to(user).select_related("capability", "owner"), readable_id=readable_id
    )


def get_assumption_to_change(user, readable_id: str) -> Assumption:
    assumption = get_assumption_for_user(user, readable_id)
    require_change(user, Activity.ASSUMPTION_LEDGER, assumption.capability)
    return assumption


def capabilities_to_change(user):
    """Capabilities whose assumption ledger the person may add to (one query)."""
    ids = [
        capability.pk
        for capability in Capability.objects.visible_to(user)
        if can_change(user, Activity.ASSUMPTION_LEDGER, capability)
    ]
    return Capability.objects.filter(pk__in=ids)
