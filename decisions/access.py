"""Loading a decision for a request: 404 when the person may not see its capability, 403 when
they may not record decisions there."""

from django.shortcuts import get_object_or_404

from decisions.models import Decision
from productops.permissions import require_change
from productops.roles import Activity


def get_decision_for_user(user, readable_id: str) -> Decision:
    queryset = Decision.objects.visible_to(user).select_related(
        "capability", "owner", "recorded_by", "supersedes", "superseded_by", "forum_session_type"
    )
    return get_object_or_404(queryset, readable_id=readable_id.upper())


def get_decision_to_supersede(user, readable_id: str) -> Decision:
    decision = get_decision_for_user(user, readable_id)
    require_change(user, Activity.DECISION_LOG, decision.capability)
    return decision
