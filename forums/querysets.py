"""Reads of forums and sessions: what a person may see, what is coming up."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from productops.permissions import role_map, visible_capability_ids


class ForumQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Forums with a capability the person may read in their scope. A forum without a
        scope covers the whole organisation: anyone holding a role sees it."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        if visible is None:
            return self
        if not role_map(user):
            return self.none()
        return self.filter(Q(scope__isnull=True) | Q(scope__in=visible)).distinct()

    def covering(self, capability_ids):
        """Forums whose scope covers any of these capabilities: scoped to one of them, or to
        none (the whole organisation)."""
        return self.filter(covers(capability_ids))


def covers(capability_ids, forum: str = "") -> Q:
    """The condition that a forum (reached through ``forum``, e.g. ``"forum__"`` from a session)
    covers any of these capabilities: scoped to one of them, or to none (the whole organisation)."""
    return Q(**{f"{forum}scope__in": capability_ids}) | Q(**{f"{forum}scope__isnull": True})


class SessionQuerySet(models.QuerySet):
    def visible_to(self, user):
        from forums.models import Forum

        return self.filter(forum__in=Forum.objects.visible_to(user).values("pk"))

    def covering(self, capability_ids):
        """Sessions of forums covering any of these capabilities (``covers``)."""
        return self.filter(covers(capability_ids, forum="forum__"))

    def upcoming(self, now=None):
        return self.filter(scheduled_at__gte=now or timezone.now())
