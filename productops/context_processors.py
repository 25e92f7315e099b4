"""What every page's frame needs: navigation, the capability switcher, the person's roles."""

from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from productops.links import reverse
from productops.permissions import is_org_admin, visible_capability_ids
from productops.reads import fetch, placeholders

# (label, url name, path prefix that marks the item active). Later assets add their rows.
NAVIGATION = [
    (_("Capabilities"), "portfolio:capability-list", "/capabilities/"),
    (_("Backlog"), "portfolio:backlog", "/capabilities/backlog/"),
    (_("Contracts"), "contracts:contract-list", "/contracts/"),
    (_("Signals"), "contracts:signal-list", "/contracts/signals/"),
    (_("Actions"), "actions:action-list", "/actions/"),
    (_("Decisions"), "decisions:decision-list", "/decisions/"),
    (_("Assumptions"), "assumptions:assumption-list", "/assumptions/"),
    (_("Releases"), "releases:release-list", "/releases/"),
    (_("Experiments"), "experiments:experiment-list", "/experiments/"),
    (_("Incidents"), "incidents:incident-list", "/incidents/"),
    (_("Forums"), "forums:calendar", "/forums/"),
    (_("Boards"), "boards:index", "/boards/"),
    (_("Hygiene"), "hygiene:index", "/hygiene/"),
    (_("Readiness"), "readiness:index", "/readiness/"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if not (user and user.is_authenticated):
        return {}
    path = request.path
    # The longest matching prefix wins, so /contracts/signals/ marks Signals, not Contracts too.
    matching = [prefix for _label, _name, prefix in NAVIGATION if path.startswith(prefix)]
    active = max(matching, key=len, default=None)
    return {
        "nav_items": [
            {"label": label, "url": reverse(url_name, kwargs={}), "active": prefix == active}
            for label, url_name, prefix in NAVIGATION
        ],
        "switcher_capabilities": _switcher_capabilities(user),
        "current_capability": _current_capability(request),
        # Organisation settings (webhooks) in the user menu; the roles are already loaded.
        "is_org_admin": is_org_admin(user),
        # The header's own open and overdue actions: one query, and only on pages that show them.
        "my_actions": SimpleLazyObject(lambda: _my_action_counts(user)),
    }


def _switcher_capabilities(user) -> list[tuple[str, str]]:
    """(slug, name) of each capability the person may read, by name: the switcher's options.
    Every page shows them, so they are read by hand (productops.reads), not through the ORM."""
    visible = visible_capability_ids(user)
    if visible is None:
        return fetch("SELECT slug, name FROM portfolio_capability ORDER BY name", [])
    visible = sorted(visible)
    return fetch(
        f"SELECT slug, name FROM portfolio_capability WHERE id IN ({placeholders(visible)}) ORDER BY name",
        visible,
    )


def _current_capability(request) -> str:
    """The capability the page is about: the one a board or list is cut to (``?capability=``;
    ``all`` is the whole portfolio), else the one last chosen in the switcher."""
    asked = request.GET.get("capability")
    if asked is not None:
        return "" if asked == "all" else asked
    return request.session.get("current_capability", "")


def _my_action_counts(user) -> dict:
    from actions.querysets import my_action_counts

    return my_action_counts(user)
