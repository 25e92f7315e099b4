"""Loading a release for a request: 404 when the person holds no role on its capability, so
another capability's releases are not even confirmed to exist; 403 when they may read but not
change."""

from django.shortcuts import get_object_or_404

from productops.permissions import require_change
from productops.roles import Activity
from releases.models import Release


def get_release_for_user(user, readable_id: str) -> Release:
    return get_object_or_404(
        Release.objects.visible_to(user).select_related("capability", "owner"),
        readable_id=readable_id,
    )


def get_release_to_change(user, readable_id: str) -> Release:
    release = get_release_for_user(user, readable_id)
    require_change(user, Activity.RELEASE_CALENDAR, release.capability)
    return release
