from django.db import models

from productops.permissions import visible_capability_ids


class CapabilityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Capabilities the person holds a role on (all of them for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(pk__in=visible)

    def active(self):
        return self.exclude(lifecycle_status="retired")
