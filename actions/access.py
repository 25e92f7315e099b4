"""Loading an action for a request: 404 when the person holds no role on its capability, so
another capability's actions are not even confirmed to exist."""

from django.shortcuts import get_object_or_404

from actions.models import Action


def get_action_for_user(user, readable_id: str) -> Action:
    return get_object_or_404(
        Action.objects.visible_to(user).select_related(
            "capability", "owner", "reviewer", "escalated_to", "reopen_trigger"
        ),
        readable_id=readable_id,
    )
