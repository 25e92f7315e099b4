"""Raising, editing and trigger-reopening actions: the functions the pages, the API, the jobs and
the other registers (contracts, incidents, forums) call. ``by=None`` means the system."""

from datetime import date, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from actions.choices import ActionStatus, SourceKind
from actions.models import Action, ReopenTrigger
from productops.errors import DomainError
from productops.notifications import notify
from productops.permissions import can_change, require_change
from productops.roles import Activity
from webhooks.choices import EventType
from webhooks.events import absolute_url, emit, listening

TRIGGER_FIELDS = ["kind", "contract_metric_id", "comparison", "level", "periods", "recheck_on"]
# The form and API name the trigger's kind ``trigger_kind`` ("kind" alone says nothing).
_TRIGGER_ERROR_FIELD = {"kind": "trigger_kind"}
EDITABLE_FIELDS = [
    "action",
    "source_kind",
    "source_signal",
    "owner",
    "reviewer",
    "due_date",
    "closure_criterion",
]
_UNSET = object()


def _check_people(capability, owner, reviewer) -> None:
    """Owner and reviewer must be able to act on the capability's actions, and be two people."""
    if owner is None:
        raise DomainError(
            gettext("An action needs an owner: the person who will close it with evidence."), field="owner"
        )
    if not can_change(owner, Activity.ACTION_CLOSURE, capability):
        raise DomainError(
            gettext("%(person)s holds no role on %(capability)s that lets them work on actions.")
            % {"person": owner, "capability": capability},
            field="owner",
        )
    if reviewer is None:
        return
    if reviewer.pk == owner.pk:
        raise DomainError(gettext("The reviewer must be someone other than the owner."), field="reviewer")
    if not can_change(reviewer, Activity.ACTION_CLOSURE, capability):
        raise DomainError(
            gettext("%(person)s holds no role on %(capability)s that lets them verify actions.")
            % {"person": reviewer, "capability": capability},
            field="reviewer",
        )


def _trigger_data(trigger) -> dict | None:
    """A trigger given as a dict (form, API, job) or an unsaved ReopenTrigger; None when absent."""
    if trigger is None:
        return None
    if isinstance(trigger, ReopenTrigger):
        data = {name: getattr(trigger, name) for name in TRIGGER_FIELDS}
    else:
        unknown = set(trigger) - set(TRIGGER_FIELDS)
        if unknown:
            raise DomainError(
                gettext("Unknown reopen trigger part: %(names)s.") % {"names": ", ".join(sorted(unknown))},
                field="reopen_trigger",
            )
        if "kind" not in trigger:
            # A trigger is replaced whole: a partial one would silently lose its other parts.
            raise DomainError(
                gettext("Give the whole reopen trigger, starting with its kind."), field="trigger_kind"
            )
        data = {name: trigger.get(name) for name in TRIGGER_FIELDS}
    if not data["kind"]:
        return None
    for name in ("contract_metric_id", "comparison"):
        data[name] = (data[name] or "").strip()
    return data


def _save_trigger(action: Action, data: dict | None, by) -> ReopenTrigger | None:
    """Create, change or (data None) remove the action's reopen trigger, validated field by field."""
    existing = ReopenTrigger.objects.filter(action=action).first()
    if data is None:
        if existing is not None:
            existing._history_user = by
            existing.delete()
        return None
    trigger = existing or ReopenTrigger(action=action)
    changed = existing is None or any(getattr(existing, name) != data[name] for name in TRIGGER_FIELDS)
    for name, value in data.items():
        setattr(trigger, name, value)
    try:
        trigger.full_clean(exclude=["action"])
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise DomainError(messages[0], field=_TRIGGER_ERROR_FIELD.get(name, name)) from error
    if changed:
        # A changed trigger is a new promise: it may fire again.
        trigger.fired_at = None
        trigger._history_user = by
        trigger.save()
    return trigger


@transaction.atomic
def action_create(
    *,
    capability,
    by,
    action: str,
    owner,
    due_date: date | None,
    closure_criterion: str,
    reviewer=None,
    source=None,
    source_kind: str = SourceKind.OTHER,
    source_signal: str = "",
    forum=None,
    reopen_trigger=None,
) -> Action:
    """Raise an action. No action without an owner, a due date and a closure criterion (what
    evidence will prove it done): the playbook's "no action should be accepted without closure
    evidence". The owner is told."""
    if capability is None:
        raise DomainError(gettext("Choose the capability the action belongs to."), field="capability")
    if by is not None:
        require_change(by, Activity.ACTION_CLOSURE, capability)
    text = (action or "").strip()
    if not text:
        raise DomainError(gettext("Say what the action is."), field="action")
    if owner is None:
        raise DomainError(
            gettext("An action needs an owner: the person who will close it with evidence."), field="owner"
        )
    if due_date is None:
        raise DomainError(gettext("An action needs a due date."), field="due_date")
    criterion = (closure_criterion or "").strip()
    if not criterion:
        raise DomainError(
            gettext("An action needs a closure criterion: what evidence will prove it done."),
            field="closure_criterion",
        )
    if source_kind not in SourceKind.values:
        raise DomainError(gettext("Choose a known source."), field="source_kind")
    _check_people(capability, owner, reviewer)

    row = Action(
        capability=capability,
        action=text,
        owner=owner,
        reviewer=reviewer,
        due_date=due_date,
        closure_criterion=criterion,
        source_kind=source_kind,
        source_signal=(source_signal or "").strip(),
    )
    if source is not None:
        row.source = source
    if forum is not None:
        row.forum = forum
    row._history_user = by
    row._change_reason = gettext("Action raised")
    row.save()
    _save_trigger(row, _trigger_data(reopen_trigger), by)
    if by is None or by.pk != owner.pk:
        notify(
            recipients=[owner],
            subject=gettext("%(id)s: new action for you") % {"id": row.readable_id},
            body=gettext("%(action)s\n\nDue %(due)s. Closure criterion: %(criterion)s")
            % {"action": text, "due": due_date.isoformat(), "criterion": criterion},
            url=row.get_absolute_url(),
        )
    return row


@transaction.atomic
def action_update(*, action: Action, by, fields: dict, reopen_trigger=_UNSET) -> Action:
    """Change an action's details (not its state: that is what the moves are for).

    ``fields`` maps names of EDITABLE_FIELDS to new values (a dict, because one of them is
    called ``action``). The closure criterion cannot be emptied, nor changed once evidence is
    being verified or accepted: the evidence is judged against it. ``reopen_trigger=None``
    removes the trigger; leaving it out keeps it.
    """
    changes = dict(fields)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            gettext("These fields are not edited here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    row = Action.objects.select_for_update().select_related("capability").get(pk=action.pk)
    if by is not None:
        require_change(by, Activity.ACTION_CLOSURE, row.capability)
    if "action" in changes:
        changes["action"] = (changes["action"] or "").strip()
        if not changes["action"]:
            raise DomainError(gettext("Say what the action is."), field="action")
    if "due_date" in changes and changes["due_date"] is None:
        raise DomainError(gettext("An action needs a due date."), field="due_date")
    if "closure_criterion" in changes:
        criterion = (changes["closure_criterion"] or "").strip()
        if not criterion:
            raise DomainError(
                gettext(
                    "The closure criterion cannot be emptied: it says what evidence will prove the action done."
                ),
                field="closure_criterion",
            )
        if criterion != row.closure_criterion and row.status in (
            ActionStatus.AWAITING_VERIFICATION,
            ActionStatus.CLOSED,
        ):
            raise DomainError(
                gettext(
                    "The closure criterion cannot change while evidence is judged against it "
                    "(awaiting verification or closed)."
                ),
                field="closure_criterion",
            )
        changes["closure_criterion"] = criterion
    if "source_kind" in changes and changes["source_kind"] not in SourceKind.values:
        raise DomainError(gettext("Choose a known source."), field="source_kind")
    if "source_signal" in changes:
        changes["source_signal"] = (changes["source_signal"] or "").strip()
    previous_owner_id = row.owner_id
    for name, value in changes.items():
        setattr(row, name, value)
    _check_people(row.capability, row.owner, row.reviewer)
    row._history_user = by
    row._change_reason = gettext("Details edited")
    row.save()
    if reopen_trigger is not _UNSET:
        _save_trigger(row, _trigger_data(reopen_trigger), by)
    if row.owner_id != previous_owner_id and (by is None or by.pk != row.owner_id):
        notify(
            recipients=[row.owner],
            subject=gettext("%(id)s is now yours") % {"id": row.readable_id},
            body=gettext("%(action)s\n\nDue %(due)s. Closure criterion: %(criterion)s")
            % {"action": row.action, "due": row.due_date.isoformat(), "criterion": row.closure_criterion},
            url=row.get_absolute_url(),
        )
    action._sync_from(row)
    trigger_cache = Action._meta.get_field("reopen_trigger")
    if reopen_trigger is not _UNSET and trigger_cache.is_cached(action):
        trigger_cache.delete_cached_value(action)
    return action


@transaction.atomic
def action_reopen_from_trigger(action: Action | int, reason: str) -> bool:
    """Reopen a closed action because its reopen trigger fired (the re-check date came, or the
    contracts job saw the contract stay past its level). Safe to call twice: an action that is
    not closed any more is left alone and False is returned."""
    action_id = action if isinstance(action, int) else action.pk
    row = Action.objects.select_for_update().filter(pk=action_id).first()
    if row is None or row.status != ActionStatus.CLOSED:
        return False
    row.reopen(by=None, reason=reason, by_trigger=True)
    ReopenTrigger.objects.filter(action_id=row.pk).update(fired_at=timezone.now())
    if not isinstance(action, int):
        action._sync_from(row)
    return True


def reopen_due_rechecks(today: date | None = None) -> list[str]:
    """Reopen every closed action whose re-check date has come; the readable ids reopened."""
    reopened = []
    for pk, readable_id in Action.objects.due_for_recheck(today).values_list("pk", "readable_id"):
        if action_reopen_from_trigger(pk, gettext("Scheduled re-check")):
            reopened.append(readable_id)
    return reopened


# An action overdue for longer is old news: a webhook endpoint added today is not flooded with
# every action that ever slipped, and a job that missed a few days still catches up.
OVERDUE_ANNOUNCE_WINDOW_DAYS = 7


def overdue_webhook_data(action: Action, today: date) -> dict:
    """What the "action overdue" webhook says: the action, its owner, how late it is, its
    closure criterion and the link to it."""
    return {
        "action": {
            "id": action.readable_id,
            "action": action.action,
            "status": action.status,
            "due_date": action.due_date.isoformat(),
            "days_overdue": (today - action.due_date).days,
            "closure_criterion": action.closure_criterion,
            "source_kind": action.source_kind,
            "url": absolute_url(action.get_absolute_url()),
        },
        "capability": {"slug": action.capability.slug, "name": action.capability.name},
        "owner": action.owner.get_username() if action.owner_id else None,
    }


def overdue_actions_announce(today: date | None = None) -> list[str]:
    """The daily job's webhook part: announce each open action whose due date has passed (within
    the last OVERDUE_ANNOUNCE_WINDOW_DAYS) as "action overdue", once per action and due date (a
    moved due date that passes again is announced again). Safe to run twice: the idempotency key
    makes a second run send nothing. The readable ids announced to at least one endpoint."""
    today = today or timezone.localdate()
    if not listening(EventType.ACTION_OVERDUE):
        return []
    rows = (
        Action.objects.overdue(today)
        .filter(due_date__gte=today - timedelta(days=OVERDUE_ANNOUNCE_WINDOW_DAYS))
        .select_related("capability", "owner")
        .order_by("due_date", "pk")
    )
    announced = []
    for action in rows:
        with transaction.atomic():
            made = emit(
                event_type=EventType.ACTION_OVERDUE,
                key=f"action.overdue:{action.pk}:{action.due_date.isoformat()}",
                data=lambda action=action: overdue_webhook_data(action, today),
            )
        if made:
            announced.append(action.readable_id)
    return announced
