"""Changes readiness makes: only the hand ticks of the onboarding checklist."""

from django.db import transaction
from django.utils.translation import gettext

from productops.errors import DomainError
from productops.permissions import require_change
from productops.roles import Activity
from readiness.models import OnboardingTick
from readiness.onboarding import ITEMS_BY_KEY, MANUAL_ITEMS


@transaction.atomic
def onboarding_tick(*, capability, item: str, by, note: str, ticked: bool = True) -> OnboardingTick:
    """Tick (or untick) an onboarding item the data cannot show. Only the charter's A/R (the
    capability's AI PM, playbook 17) may; the note says what shows it done (or why it is undone).
    Items the data shows tick themselves and refuse a hand tick."""
    require_change(by, Activity.CHARTER, capability)
    if item not in ITEMS_BY_KEY:
        raise DomainError(gettext("No such onboarding item."), field="item")
    if item not in MANUAL_ITEMS:
        raise DomainError(
            gettext("This item ticks itself when the data shows it done; it cannot be ticked by hand."),
            field="item",
        )
    note = (note or "").strip()
    if not note:
        raise DomainError(gettext("Write a note: what shows this item done, or why it is not."), field="note")
    tick = OnboardingTick.objects.select_for_update().filter(capability=capability, item=item).first()
    if tick is None:
        tick = OnboardingTick(capability=capability, item=item)
    tick.ticked = ticked
    tick.note = note
    tick.ticked_by = by
    tick._history_user = by
    tick._change_reason = (gettext("Ticked: %(note)s") if ticked else gettext("Unticked: %(note)s")) % {
        "note": note
    }
    tick.save()
    return tick
