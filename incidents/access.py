"""Loading an incident for a request: 404 when the person holds no role on its capability."""

from django.shortcuts import get_object_or_404

from incidents.models import Incident


def get_incident_for_user(user, readable_id: str) -> Incident:
    return get_object_or_404(
        Incident.objects.visible_to(user).select_related("capability", "rollback_release", "recurrence_of"),
        readable_id=readable_id,
    )
