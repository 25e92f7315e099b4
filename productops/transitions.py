"""The shared shape of every state machine: a ``TRANSITIONS = {from: {to, ...}}`` table beside
the states (in the app's choices.py) and one model method per move that calls these helpers."""

from django.db import models
from django.utils.translation import gettext as _

from productops.errors import TransitionNotAllowed


def check_transition(transitions: dict, current: str, target: str, *, choices=None) -> None:
    """Raise TransitionNotAllowed naming both states when ``current -> target`` is not a move."""
    if target in transitions.get(current, ()):
        return
    label = dict(choices.choices) if choices is not None else {}
    raise TransitionNotAllowed(
        _("Cannot move from %(current)s to %(target)s.")
        % {"current": label.get(current, current), "target": label.get(target, target)}
    )


def lock(instance: models.Model) -> models.Model:
    """Re-read a row under a row lock (call inside transaction.atomic).

    Two people pressing "verify" at once both pass the state check on their stale copies;
    the lock makes the second one wait and see the first one's state, so exactly one wins.
    """
    return type(instance)._default_manager.select_for_update().get(pk=instance.pk)
