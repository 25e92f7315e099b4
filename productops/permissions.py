"""Who may see and change what: the one place every page, API view, job and command asks.

A person's roles are loaded once per request and kept on the user object, so a list page
asks the database once however many rows it checks.
"""

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from productops.roles import Activity, Role, roles_that_change

_CACHE_ATTR = "_productops_role_map"


def role_map(user) -> dict[int | None, frozenset[str]]:
    """{capability id or None (organisation-wide): roles held}, cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return {}
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        from productops.reads import fetch

        mapping: dict[int | None, set[str]] = {}
        # Every page asks this once: read by hand (productops.reads), not compiled by the ORM.
        for capability_id, role in fetch(
            "SELECT capability_id, role FROM productops_roleassignment WHERE user_id = %s", [user.pk]
        ):
            mapping.setdefault(capability_id, set()).add(role)
        cached = {key: frozenset(value) for key, value in mapping.items()}
        setattr(user, _CACHE_ATTR, cached)
    return cached


def forget_roles(user) -> None:
    """Drop the cached roles (after a role assignment changed within the same request)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def _capability_id(capability) -> int | None:
    if capability is None:
        return None
    return capability if isinstance(capability, int) else capability.pk


def roles_of(user, capability=None) -> frozenset[str]:
    """Roles a person holds on a capability: their organisation-wide roles plus its own."""
    mapping = role_map(user)
    held = set(mapping.get(None, frozenset()))
    capability_id = _capability_id(capability)
    if capability_id is not None:
        held |= mapping.get(capability_id, frozenset())
    return frozenset(held)


def sees_every_capability(user) -> bool:
    return bool(getattr(user, "is_superuser", False) or role_map(user).get(None))


def visible_capability_ids(user) -> set[int] | None:
    """Ids of the capabilities a person may read, or None when they may read all of them."""
    if sees_every_capability(user):
        return None
    return {key for key in role_map(user) if key is not None}


def can_view(user, capability) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    visible = visible_capability_ids(user)
    return visible is None or _capability_id(capability) in visible


def can_change(user, activity: Activity | str, capability=None) -> bool:
    """True when one of the person's roles on the capability is A or R for the activity.

    With no capability, only organisation-wide roles count (e.g. creating a capability).
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    held = roles_of(user, capability) if capability is not None else role_map(user).get(None, frozenset())
    held = held - {Role.VIEWER}
    return bool(held & roles_that_change(str(activity)))


def require_view(user, capability) -> None:
    if not can_view(user, capability):
        raise PermissionDenied(_("You hold no role on this capability."))


def require_change(user, activity: Activity | str, capability=None) -> None:
    """Raise PermissionDenied naming the activity when the person may not change its records."""
    if not can_change(user, activity, capability):
        raise PermissionDenied(
            _("Your roles do not allow you to change the %(activity)s here.")
            % {"activity": Activity(str(activity)).label.lower()}
        )


def is_org_admin(user) -> bool:
    """Organisation administration (the install's settings, e.g. webhooks): a superuser, or a
    person whose organisation-wide role is accountable or responsible for the Product Ops
    charter (playbook 17's first row: the AI PM who runs Product Ops across the organisation)."""
    return can_change(user, Activity.CHARTER, None)
