"""Work on metric contracts, observations and signals: the functions the pages, the API, the
jobs and the demo call. Keyword-only, atomic; ``by=None`` means the system."""

import datetime
import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.urls import NoReverseMatch
from django.utils import timezone
from django.utils.translation import gettext

from contracts.choices import CONTRACT_TRANSITIONS, LEVEL_RANK, ContractStatus, Direction, Grain, SignalLevel
from contracts.models import Evaluation, MetricContract, Signal, StopHold
from contracts.periods import describe_period, shift_period
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import RoleAssignment
from productops.notifications import notify
from productops.permissions import can_change, can_view, require_change, roles_of
from productops.roles import Activity, Role
from productops.transitions import check_transition
from webhooks.choices import EventType
from webhooks.events import absolute_url, emit

# =============================================================================================
# Contract lifecycle: create, edit (a definition change is a logged decision), activate,
# retire, review reminders. Used by the contract pages, the API and the admin.
# =============================================================================================

# Set once, at creation: the id is how telemetry pipelines address the contract.
CONTRACT_FIXED_FIELDS = {"metric_id", "capability"}
_NOT_EDITED = {"id", "status", "created_at", "updated_at", *CONTRACT_FIXED_FIELDS}
_UNSET = object()


def contract_editable_fields() -> set[str]:
    """Fields a person may change after creation (the state moves through activate/retire)."""
    names = {field.name for field in MetricContract._meta.concrete_fields if field.editable}
    return (names - _NOT_EDITED) | {"guardrails"}


def _normalise(fields: dict) -> dict:
    """Text as one spelling: a browser's CRLF and the API's LF must not read as a definition change."""
    clean = {}
    for name, value in fields.items():
        field = MetricContract._meta.get_field(name)
        if isinstance(value, str) and isinstance(field, models.CharField | models.TextField):
            value = value.replace("\r\n", "\n").strip()
        clean[name] = value
    return clean


def _json_safe(value):
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Choices):
        return value.value
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _people_errors(contract: MetricContract) -> dict:
    """Owners and the risk reviewer must hold a role on the contract's capability."""
    errors = {}
    for name in ("business_owner", "analytics_owner", "risk_reviewer"):
        person = getattr(contract, name)
        if person is not None and not (person.is_active and can_view(person, contract.capability_id)):
            errors[name] = gettext("%(person)s holds no role on %(capability)s.") % {
                "person": person,
                "capability": contract.capability,
            }
    return errors


def _guardrail_errors(contract: MetricContract, guardrails) -> dict:
    """Guardrails are other contracts of the same capability (playbook 10.1 "Guardrails")."""
    wrong = [
        guardrail.metric_id
        for guardrail in guardrails
        if guardrail.capability_id != contract.capability_id or guardrail.pk == contract.pk
    ]
    if not wrong:
        return {}
    return {
        "guardrails": gettext("Guardrails must be other contracts of the same capability: %(ids)s.")
        % {"ids": ", ".join(wrong)}
    }


def _validate(contract: MetricContract, guardrails=None) -> None:
    """The model's own rules (thresholds coherent with the direction, declared cuts, field
    formats) plus people and guardrails, all at once, each error under its field's name."""
    errors: dict[str, list] = {}
    try:
        contract.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    for name, message in {
        **_people_errors(contract),
        **(_guardrail_errors(contract, guardrails) if guardrails is not None else {}),
    }.items():
        errors.setdefault(name, []).append(message)
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def contract_create(*, by, **fields) -> MetricContract:
    """Draft a metric contract (playbook 10.1). It starts as a draft: thresholds and owners can
    be settled before ``contract_activate`` puts it in front of the evaluation job.

    Raises ValidationError (a dict naming the fields) when a rule says no, PermissionDenied when
    ``by`` may not change the capability's metric contracts.
    """
    capability = fields.get("capability")
    if capability is None:
        raise ValidationError({"capability": [gettext("Choose the capability the metric belongs to.")]})
    if by is not None:
        require_change(by, Activity.METRIC_CONTRACT, capability)
    guardrails = list(fields.pop("guardrails", None) or [])
    unknown = set(fields) - contract_editable_fields() - CONTRACT_FIXED_FIELDS
    if unknown:
        raise DomainError(
            gettext("These fields are not set here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    contract = MetricContract(**_normalise(fields))
    _validate(contract, guardrails)
    contract._history_user = by
    contract._change_reason = gettext("Contract drafted")
    contract.save()
    contract.guardrails.set(guardrails)
    return contract


def _record_definition_change(contract: MetricContract, *, by, changed, before, after):
    """Log the change of an active contract's definition as a decision (playbook 14.1
    "metric definition change"), in the caller's transaction."""
    from decisions.choices import DecisionType
    from decisions.services import decision_record
    from productops.permissions import can_change

    # Analytics is R on metric contracts but only C on the decision log: the change is theirs to
    # make, so the system records the decision (owned by them) rather than refusing the edit.
    recorder = by if by is not None and can_change(by, Activity.DECISION_LOG, contract.capability) else None
    owner = by or contract.business_owner or contract.analytics_owner
    labels = [str(MetricContract._meta.get_field(name).verbose_name) for name in changed]
    today = timezone.localdate()
    try:
        return decision_record(
            capability=contract.capability,
            by=recorder,
            type=DecisionType.METRIC_DEFINITION_CHANGE,
            decision=gettext("Metric definition change of %(name)s (%(metric_id)s): %(fields)s.")
            % {"name": contract.name, "metric_id": contract.metric_id, "fields": ", ".join(labels)},
            owner=owner,
            evidence=[contract],
            review_trigger=gettext("The contract's next review"),
            review_date=contract.next_review
            if contract.next_review and contract.next_review >= today
            else None,
            details={
                "contract": contract.metric_id,
                "changed_fields": list(changed),
                "before": {name: before[name] for name in changed},
                "after": {name: after[name] for name in changed},
                "changed_by": by.get_username() if by is not None else None,
            },
        )
    except DomainError as error:
        if error.field == "owner":
            raise DomainError(error.message, field="business_owner") from error
        raise


@transaction.atomic
def contract_update(*, contract: MetricContract, by, fields: dict) -> MetricContract:
    """Change a contract. ``fields`` maps names of ``contract_editable_fields()`` to new values
    (``guardrails``: the full list of guardrail contracts).

    Changing any of ``MetricContract.DEFINITION_FIELDS`` (numerator, denominator, population,
    thresholds, direction) of an active contract records a "metric definition change" decision
    with the before and after values, in the same transaction; the history row names it.
    Returns the saved contract (the instance passed in is refreshed too).
    """
    changes = dict(fields)
    unknown = set(changes) - contract_editable_fields()
    if unknown:
        raise DomainError(
            gettext("These fields are not edited here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    row = MetricContract.objects.select_for_update().select_related("capability").get(pk=contract.pk)
    if by is not None:
        require_change(by, Activity.METRIC_CONTRACT, row.capability)
    if row.status == ContractStatus.RETIRED:
        # Its history is what past decisions and reviews read: a new contract replaces it.
        raise TransitionNotAllowed(gettext("A retired contract is not edited; draft a new one."))
    guardrails = changes.pop("guardrails", _UNSET)
    guardrails = _UNSET if guardrails is _UNSET else list(guardrails or [])
    before = {name: _json_safe(value) for name, value in row.definition_snapshot().items()}
    for name, value in _normalise(changes).items():
        setattr(row, name, value)
    _validate(row, None if guardrails is _UNSET else guardrails)
    after = {name: _json_safe(value) for name, value in row.definition_snapshot().items()}
    changed = [name for name in MetricContract.DEFINITION_FIELDS if before[name] != after[name]]
    reason = gettext("Contract edited")
    if row.status == ContractStatus.ACTIVE and changed:
        decision = _record_definition_change(row, by=by, changed=changed, before=before, after=after)
        reason = gettext("Definition changed, decision %(decision)s: %(fields)s") % {
            "decision": decision.readable_id,
            "fields": ", ".join(changed),
        }
    row._history_user = by
    row._change_reason = reason
    row.save()
    if guardrails is not _UNSET:
        row.guardrails.set(guardrails)
    contract.refresh_from_db()
    return row


@transaction.atomic
def contract_activate(*, contract: MetricContract, by) -> MetricContract:
    """Put a draft contract in force: from now on it is evaluated, raises signals and actions.

    An active contract needs its owners (business and analytics), an action rule at warning and
    at breach (what to do and what evidence closes it) and a review date; every gap is named.
    """
    row = MetricContract.objects.select_for_update().select_related("capability").get(pk=contract.pk)
    if by is not None:
        require_change(by, Activity.METRIC_CONTRACT, row.capability)
    check_transition(CONTRACT_TRANSITIONS, row.status, ContractStatus.ACTIVE, choices=ContractStatus)
    errors: dict[str, list] = {}
    try:
        row.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    required = {
        "business_owner": gettext("An active contract needs a business owner."),
        "analytics_owner": gettext("An active contract needs an analytics owner."),
        "warning_action": gettext("Say which action a warning triggers."),
        "warning_closure_criterion": gettext("Say what evidence closes the action raised at warning."),
        "breach_action": gettext("Say which action a breach triggers."),
        "breach_closure_criterion": gettext("Say what evidence closes the action raised at breach."),
        "next_review": gettext("Set the date of the contract's next review."),
    }
    for name, message in required.items():
        field = MetricContract._meta.get_field(name)
        value = getattr(row, field.attname)
        if value is None or (isinstance(value, str) and not value.strip()):
            errors.setdefault(name, []).append(message)
    if errors:
        raise ValidationError(errors)
    row.status = ContractStatus.ACTIVE
    row._history_user = by
    row._change_reason = gettext("Activated")
    row.save()
    contract.refresh_from_db()
    return row


@transaction.atomic
def contract_retire(*, contract: MetricContract, by, reason: str) -> MetricContract:
    """Take a contract out of force (it stays, with its history, observations and decisions)."""
    reason = (reason or "").strip()
    row = MetricContract.objects.select_for_update().select_related("capability").get(pk=contract.pk)
    if by is not None:
        require_change(by, Activity.METRIC_CONTRACT, row.capability)
    check_transition(CONTRACT_TRANSITIONS, row.status, ContractStatus.RETIRED, choices=ContractStatus)
    if not reason:
        raise DomainError(gettext("Say why the contract is retired."), field="reason")
    row.status = ContractStatus.RETIRED
    row._history_user = by
    row._change_reason = gettext("Retired: %(reason)s") % {"reason": reason}
    row.save()
    contract.refresh_from_db()
    return row


def contracts_review_reminders(today: datetime.date | None = None) -> list[str]:
    """Tell the business and analytics owners of each active contract whose review is due.

    Once per review date: the contract's ``review_reminder_sent_for`` is claimed with a
    conditional UPDATE before the notification is written, so two runs (or two workers) send
    one reminder. Returns the metric ids reminded.
    """
    from productops.notifications import notify

    today = today or timezone.localdate()
    due = (
        MetricContract.objects.review_due(today)
        .filter(
            Q(review_reminder_sent_for__isnull=True) | ~Q(review_reminder_sent_for=models.F("next_review"))
        )
        .select_related("business_owner", "analytics_owner")
    )
    reminded = []
    for contract in due:
        with transaction.atomic():
            claimed = (
                MetricContract.objects.filter(pk=contract.pk, next_review=contract.next_review)
                .filter(
                    Q(review_reminder_sent_for__isnull=True)
                    | ~Q(review_reminder_sent_for=contract.next_review)
                )
                .update(review_reminder_sent_for=contract.next_review)
            )
            if not claimed:
                continue
            notify(
                recipients=[contract.business_owner, contract.analytics_owner],
                subject=gettext("Review due: %(metric_id)s") % {"metric_id": contract.metric_id},
                body=gettext(
                    "The metric contract %(name)s (%(metric_id)s) was due for review on %(date)s. "
                    "Check its definition, thresholds, action rules and evidence level, then set the next review."
                )
                % {
                    "name": contract.name,
                    "metric_id": contract.metric_id,
                    "date": contract.next_review.isoformat(),
                },
                url=contract.get_absolute_url(),
            )
        reminded.append(contract.metric_id)
    return reminded


# =============================================================================================
# End of the contract lifecycle block. Evaluation, signals and stop holds follow below.
# =============================================================================================


# =============================================================================================
# Signals: what the evaluation job does with the levels it computed (contracts.evaluation
# calls these inside its per-contract transaction). Opening a signal raises one action from the
# contract's action rule; worsening escalates it; a stop fires a hold on the capability's
# releases; back under warning long enough resolves the signal and attaches the data check to
# the action as closure evidence. Every side effect happens on a change of the signal's state,
# which happens once, so re-running the job writes and sends nothing new.
# =============================================================================================

logger = logging.getLogger(__name__)


@dataclass
class SignalChanges:
    opened: int = 0
    worsened: int = 0
    resolved: int = 0
    holds: int = 0


@dataclass(frozen=True)
class DataCheck:
    """The closure-from-data check of an action raised by a signal: the contract's cut back under
    warning for ``needed`` consecutive periods. ``periods`` are (period start, value, level)."""

    passed: bool
    needed: int
    periods: list = field(default_factory=list)
    grain: str = Grain.WEEK

    @property
    def summary(self) -> str:
        values = ", ".join(
            f"{describe_period(period, self.grain)} {_fmt(value)}"
            + ("" if level == SignalLevel.OK else f" ({SignalLevel(level).label.lower()})")
            for period, value, level in self.periods
        )
        if self.passed:
            return gettext("Data check passed: %(n)s periods below warning (values %(values)s).") % {
                "n": self.needed,
                "values": values,
            }
        return gettext(
            "Data check failing: needs %(n)s periods in a row below warning; latest: %(values)s."
        ) % {
            "n": self.needed,
            "values": values or gettext("no evaluated period yet"),
        }


def _fmt(value) -> str:
    return "–" if value is None else f"{value:.4g}"


def _past_warning(level: str) -> bool:
    return LEVEL_RANK[level] >= LEVEL_RANK[SignalLevel.WARNING]


def _url(record) -> str:
    try:
        return record.get_absolute_url()
    except NoReverseMatch:  # the page does not exist (yet): the notification goes without a link
        return ""


def signal_text(contract: MetricContract, *, cut: str, value, level: str, period: datetime.date) -> str:
    """What was seen, as the action's "source signal":
    ``cc_agent_assist.repeat_contact_7d [intent=billing] at 0.172 ≥ breach 0.16 in week of 2026-06-08``."""
    relation = "≥" if contract.direction == Direction.LOWER_IS_BETTER else "≤"
    where = f" [{cut}]" if cut else ""
    return gettext("%(metric)s%(where)s at %(value)s %(rel)s %(level)s %(threshold)s in %(period)s") % {
        "metric": contract.metric_id,
        "where": where,
        "value": _fmt(value),
        "rel": relation,
        "level": SignalLevel(level).label.lower(),
        "threshold": _fmt(contract.threshold_for(level)),
        "period": describe_period(period, contract.grain),
    }


def _rule(level: str) -> str:
    """Which action rule of the contract a level calls: warning, or breach (also for stop)."""
    return "warning" if level == SignalLevel.WARNING else "breach"


def action_owner_for(contract: MetricContract, role: str):
    """Who owns an action the contract's rule raises: the holder of the rule's owner role on the
    capability, else across the organisation, else the business owner, else the capability's
    AI PM — the first who may work on actions there. None when nobody may."""
    capability = contract.capability
    holders = (
        RoleAssignment.objects.filter(role=role)
        .filter(Q(capability=capability) | Q(capability__isnull=True))
        .select_related("user")
        .order_by(models.F("capability_id").asc(nulls_last=True), "id")
    )
    pms = (
        RoleAssignment.objects.filter(role=Role.AI_PM)
        .filter(Q(capability=capability) | Q(capability__isnull=True))
        .select_related("user")
        .order_by(models.F("capability_id").asc(nulls_last=True), "id")
    )
    candidates = [row.user for row in holders] + [contract.business_owner] + [row.user for row in pms]
    for person in candidates:
        if (
            person is not None
            and person.is_active
            and can_change(person, Activity.ACTION_CLOSURE, capability)
        ):
            return person
    return None


def _action_open(contract: MetricContract, signal: Signal, text: str):
    """Raise the one action of a new signal, from the contract's rule for its level."""
    from actions.choices import SourceKind
    from actions.services import action_create

    rule = _rule(signal.level)
    owner = action_owner_for(contract, getattr(contract, f"{rule}_action_owner_role"))
    if owner is None:
        logger.warning("Signal %s: nobody on %s may own its action", signal.pk, contract.capability)
        return None
    what = (getattr(contract, f"{rule}_action") or "").strip() or gettext(
        "Investigate %(metric)s at %(level)s"
    ) % {"metric": contract.metric_id, "level": signal.get_level_display().lower()}
    criterion = (getattr(contract, f"{rule}_closure_criterion") or "").strip() or gettext(
        "Back under warning for %(n)s periods"
    ) % {"n": contract.closure_periods}
    try:
        return action_create(
            capability=contract.capability,
            by=None,
            action=what[:300],
            owner=owner,
            # Counted from the day the signal is raised, like an action a person raises: a
            # backfilled period must not give an action that is overdue at birth.
            due_date=timezone.localdate()
            + datetime.timedelta(days=getattr(contract, f"{rule}_action_due_days")),
            closure_criterion=criterion,
            source=signal,
            source_kind=SourceKind.SIGNAL,
            source_signal=text,
        )
    except DomainError as error:
        logger.warning("Signal %s: its action was refused: %s", signal.pk, error.message)
        return None


def _stop_hold(contract: MetricContract, signal: Signal, text: str, changes: SignalChanges) -> None:
    """The stop rule fired: hold the capability's pending releases (one hold per signal) and
    tell the risk reviewer and the Risk / Compliance partners of the capability."""
    if StopHold.objects.filter(signal=signal).exists():
        return
    reason = gettext("Stop rule fired: %(what)s.") % {"what": text}
    if contract.stop_rule.strip():
        reason = f"{reason} {contract.stop_rule.strip()}"
    hold = StopHold(capability=contract.capability, signal=signal, reason=reason)
    hold._history_user = None
    hold._change_reason = gettext("Stop rule fired")
    hold.save()
    changes.holds += 1
    partners = (
        RoleAssignment.objects.filter(role=Role.RISK_COMPLIANCE)
        .filter(Q(capability=contract.capability) | Q(capability__isnull=True))
        .select_related("user")
    )
    notify(
        recipients=[contract.risk_reviewer, *(row.user for row in partners)],
        subject=gettext("Stop rule fired: %(metric)s") % {"metric": contract.metric_id},
        body=gettext(
            "%(reason)s\n\nThe pending releases of %(capability)s are held until Risk / Compliance "
            "lifts the hold with a comment."
        )
        % {"reason": reason, "capability": contract.capability},
        url=_url(signal.action) if signal.action_id else _url(contract),
    )


def _sibling_action(contract: MetricContract, signal: Signal):
    """The open action another cut's open signal on this contract already raised, when that
    signal is at least as severe: one problem seen through several cuts (billing pulls the whole
    population, the north team and the new prompt version past warning together) is one action
    for the forum, not one per slice. A cut that is worse than every open sibling gets its own."""
    from actions.choices import ActionStatus

    siblings = (
        Signal.objects.filter(contract=contract, resolved_period__isnull=True, action__isnull=False)
        .exclude(pk=signal.pk)
        .exclude(action__status=ActionStatus.CLOSED)
        .select_related("action")
    )
    covering = [s for s in siblings if LEVEL_RANK[s.worst_level] >= LEVEL_RANK[signal.level]]
    if not covering:
        return None
    # Prefer the whole population's signal, then the most severe.
    covering.sort(key=lambda s: (s.cut != "", -LEVEL_RANK[s.worst_level], s.pk))
    return covering[0].action


def _signal_open(contract: MetricContract, row: Evaluation, changes: SignalChanges) -> Signal:
    text = signal_text(contract, cut=row.cut, value=row.value, level=row.level, period=row.period_start)
    signal = Signal(
        contract=contract,
        cut=row.cut,
        level=row.level,
        worst_level=row.level,
        opened_period=row.period_start,
        last_period=row.period_start,
        observed_value=row.value,
        threshold_crossed=contract.threshold_for(row.level),
    )
    signal._history_user = None
    signal._change_reason = gettext("Signal opened: %(what)s") % {"what": text}
    signal.save()
    changes.opened += 1
    action = _sibling_action(contract, signal) or _action_open(contract, signal, text)
    if action is not None:
        # A plain update: linking the action is part of opening, not a change worth a history row.
        Signal.objects.filter(pk=signal.pk).update(action=action)
        signal.action = action
    if row.level == SignalLevel.STOP:
        _stop_hold(contract, signal, text, changes)
    emit(
        event_type=EventType.SIGNAL_OPENED,
        key=f"signal.opened:{signal.pk}",
        data=lambda: signal_webhook_data(contract, signal, text),
    )
    return signal


def signal_webhook_data(contract: MetricContract, signal: Signal, text: str) -> dict:
    """What the "signal opened" webhook says: the contract, the cut, the level and the value
    against its threshold, the action it opened or joined, and the links to follow."""
    capability = contract.capability
    return {
        "signal": {
            "id": signal.pk,
            "cut": signal.cut,
            "level": signal.level,
            "observed_value": signal.observed_value,
            "threshold_crossed": signal.threshold_crossed,
            "opened_period": signal.opened_period.isoformat(),
            "summary": text,
            "url": absolute_url(signal.get_absolute_url()),
        },
        "contract": {"metric_id": contract.metric_id, "name": contract.name},
        "capability": {"slug": capability.slug, "name": capability.name},
        "action": (
            {"id": signal.action.readable_id, "url": absolute_url(signal.action.get_absolute_url())}
            if signal.action is not None
            else None
        ),
    }


def _signal_continue(
    contract: MetricContract, signal: Signal, row: Evaluation, changes: SignalChanges
) -> None:
    """Another period past warning: the same signal follows it; a worse level than ever before
    escalates its action (due sooner, owner told) and, at stop, holds the releases."""
    text = signal_text(contract, cut=row.cut, value=row.value, level=row.level, period=row.period_start)
    worsened = LEVEL_RANK[row.level] > LEVEL_RANK[signal.worst_level]
    signal.level = row.level
    signal.last_period = row.period_start
    signal.observed_value = row.value
    signal.threshold_crossed = contract.threshold_for(row.level)
    if not worsened:
        # Saved once the cut's periods are walked (_signal_flush): a backfill of twenty weeks
        # past threshold is one history row, not twenty.
        signal._unsaved_reason = gettext("Still past threshold: %(what)s") % {"what": text}
        return
    signal.worst_level = row.level
    signal._history_user = None
    signal._change_reason = gettext("Worsened to %(level)s: %(what)s") % {
        "level": signal.get_level_display().lower(),
        "what": text,
    }
    signal._unsaved_reason = None
    signal.save()
    changes.worsened += 1
    action = signal.action
    if action is not None and action.is_open:
        due = timezone.localdate() + datetime.timedelta(days=contract.breach_action_due_days)
        moved = action.bring_due_date_forward(
            by=None,
            due_date=due,
            reason=gettext("signal worsened to %(level)s (%(what)s)")
            % {"level": signal.get_level_display().lower(), "what": text},
        )
        body = gettext("The signal that raised “%(action)s” worsened: %(what)s.") % {
            "action": action.action,
            "what": text,
        }
        if moved:
            body += "\n\n" + gettext("The action is now due %(due)s.") % {"due": action.due_date.isoformat()}
        if contract.breach_action.strip():
            body += "\n\n" + gettext("At breach the contract's rule says: %(rule)s") % {
                "rule": contract.breach_action.strip()
            }
        notify(
            recipients=[action.owner],
            subject=gettext("%(id)s: signal worsened to %(level)s")
            % {"id": action.readable_id, "level": signal.get_level_display().lower()},
            body=body,
            url=_url(action),
        )
    if row.level == SignalLevel.STOP:
        _stop_hold(contract, signal, text, changes)


def _signal_flush(signal: Signal | None) -> None:
    """Save the periods past threshold that _signal_continue kept in memory."""
    reason = getattr(signal, "_unsaved_reason", None)
    if signal is None or not reason:
        return
    signal._history_user = None
    signal._change_reason = reason
    signal._unsaved_reason = None
    signal.save()


def _below_warning_run(contract, by_period: dict, period: datetime.date, after: datetime.date) -> list:
    """The periods in a row, ending at ``period`` and after ``after``, whose value is below
    warning (raw level ok; an insufficient period breaks the run: it proves nothing)."""
    run = []
    while period > after:
        row = by_period.get(period)
        if row is None or row.raw_level != SignalLevel.OK:
            break
        run.append(row)
        period = shift_period(period, contract.grain, -1)
    return run[::-1]


def _data_check_of(contract: MetricContract, rows: list) -> DataCheck:
    needed = max(contract.closure_periods, 1)
    tail = rows[-needed:]
    passed = len(tail) == needed and all(row.raw_level == SignalLevel.OK for row in tail)
    for earlier, later in zip(tail, tail[1:], strict=False):
        passed = passed and shift_period(earlier.period_start, contract.grain, 1) == later.period_start
    return DataCheck(
        passed=passed,
        needed=needed,
        periods=[(row.period_start, row.value, row.raw_level) for row in tail],
        grain=contract.grain,
    )


def _attach_data_evidence(signal: Signal, check: DataCheck) -> None:
    """Closure from data: the passed check becomes closure evidence of the signal's action. An
    action still being worked moves to awaiting verification (a reviewer still verifies); one
    already awaiting verification gets the check beside the owner's evidence; a blocked or
    closed one is left alone (its page shows the check)."""
    from actions.choices import ActionStatus
    from actions.models import Action, ClosureEvidence

    action = Action.objects.filter(pk=signal.action_id).first()
    if action is None:
        return
    if action.status in (ActionStatus.OPEN, ActionStatus.IN_PROGRESS, ActionStatus.REOPENED):
        action.submit_evidence(by=None, text=check.summary)
    elif action.status == ActionStatus.AWAITING_VERIFICATION:
        ClosureEvidence.objects.create(action=action, text=check.summary, submitted_by=None)


def _signal_resolve(contract: MetricContract, signal: Signal, run: list, changes: SignalChanges) -> None:
    period = run[-1].period_start
    check = _data_check_of(contract, run)
    signal._unsaved_reason = None  # this save carries the last period past threshold too
    signal.resolved_period = period
    signal._history_user = None
    signal._change_reason = gettext("Resolved: back under warning for %(n)s periods (%(period)s)") % {
        "n": len(run),
        "period": describe_period(period, contract.grain),
    }
    signal.save()
    changes.resolved += 1
    # An action shared by several cuts' signals is proven by data only when the last of them resolves.
    shared_open = (
        Signal.objects.filter(action_id=signal.action_id, resolved_period__isnull=True)
        .exclude(pk=signal.pk)
        .exists()
        if signal.action_id
        else False
    )
    if signal.action_id and not shared_open:
        _attach_data_evidence(signal, check)


def signals_record(*, contract: MetricContract, evaluations: dict) -> SignalChanges:
    """Walk each cut's evaluations in period order and keep its signals in step with them.

    ``evaluations`` maps cut -> Evaluation rows in period order (the periods just recomputed and
    the ones before them that closure looks back on). A period already accounted for — up to
    the open signal's last period past threshold, or up to the last resolved signal's
    resolution — is not replayed, which is what makes a re-run a no-op. "Insufficient data"
    periods neither open nor resolve a signal.
    """
    changes = SignalChanges()
    first = min((rows[0].period_start for rows in evaluations.values() if rows), default=None)
    if first is None:
        return changes
    # One read: the open signals, and the resolved ones whose resolution falls in the window
    # (an earlier resolution accounts for no period of the window).
    open_signals, resolved_up_to = {}, {}
    for signal in Signal.objects.filter(contract=contract).filter(
        Q(resolved_period__isnull=True) | Q(resolved_period__gte=first)
    ):
        if signal.resolved_period is None:
            open_signals[signal.cut] = signal
        else:
            resolved_up_to[signal.cut] = max(signal.resolved_period, resolved_up_to.get(signal.cut, first))
    # The whole population first: its signal's action is the one other cuts' signals join.
    for cut, rows in sorted(evaluations.items(), key=lambda item: item[0] != ""):
        signal = open_signals.get(cut)
        accounted = signal.last_period if signal is not None else resolved_up_to.get(cut)
        by_period = {row.period_start: row for row in rows}
        for row in rows:
            if accounted is not None and row.period_start <= accounted:
                continue
            if signal is None:
                if _past_warning(row.level):
                    signal = _signal_open(contract, row, changes)
                    accounted = row.period_start
            elif _past_warning(row.level):
                _signal_continue(contract, signal, row, changes)
                accounted = row.period_start
            elif row.raw_level == SignalLevel.OK:
                run = _below_warning_run(contract, by_period, row.period_start, after=signal.last_period)
                if len(run) >= max(contract.closure_periods, 1):
                    _signal_resolve(contract, signal, run, changes)
                    signal = None
                    accounted = row.period_start
        _signal_flush(signal)
    return changes


def closure_data_check(action) -> DataCheck | None:
    """The data check of an action raised by a signal, for its page: passed (the periods back
    under warning that resolved the signal), or failing with the latest periods' values and
    levels. None when no signal raised the action."""
    # Several cuts' signals may share the action: the check reads the one still open, if any,
    # else the whole population's.
    signal = (
        Signal.objects.filter(action_id=getattr(action, "pk", action))
        .select_related("contract")
        .order_by(models.F("resolved_period").desc(nulls_first=True), "cut")
        .first()
    )
    if signal is None:
        return None
    contract = signal.contract
    rows = Evaluation.objects.filter(
        contract=contract, grain=contract.grain, cut=signal.cut, period_start__gte=signal.opened_period
    )
    if signal.resolved_period is not None:
        rows = rows.filter(period_start__lte=signal.resolved_period)
    rows = list(rows.order_by("-period_start")[: max(contract.closure_periods, 1)])[::-1]
    return _data_check_of(contract, rows)


# --- reopen triggers ----------------------------------------------------------------------------


def _first_run(contract, rows: list, holds, length: int) -> list:
    """The first ``length`` rows of adjacent periods for which ``holds(row)`` is true, or []."""
    run = []
    for row in rows:
        if not holds(row):
            run = []
            continue
        adjacent = run and shift_period(run[-1].period_start, contract.grain, 1) == row.period_start
        run = [*run, row] if adjacent else [row]
        if len(run) >= length:
            return run
    return []


def reopen_triggers_evaluate(*, contract: MetricContract) -> int:
    """Reopen closed actions whose trigger watches this contract and now holds: the
    whole-population value at or above (or at or below) the trigger's level for its number of
    consecutive periods, counting only periods that start on or after the day the action was
    closed (and have enough sample). Safe to run twice: a reopened action is no longer closed.
    Returns how many actions were reopened."""
    from actions.choices import ActionStatus, Comparison, TriggerKind
    from actions.models import ReopenTrigger
    from actions.services import action_reopen_from_trigger

    triggers = ReopenTrigger.objects.filter(
        kind=TriggerKind.CONTRACT_LEVEL,
        contract_metric_id=contract.metric_id,
        action__status=ActionStatus.CLOSED,
        action__closed_at__isnull=False,
    ).select_related("action")
    reopened = 0
    for trigger in triggers:
        closed_on = timezone.localdate(trigger.action.closed_at)
        rows = list(
            Evaluation.objects.filter(
                contract=contract,
                grain=contract.grain,
                cut="",
                period_start__gte=closed_on,
                value__isnull=False,
            )
            .exclude(raw_level=SignalLevel.INSUFFICIENT_DATA)
            .order_by("period_start")
        )
        level = float(trigger.level)
        if trigger.comparison == Comparison.AT_OR_ABOVE:
            run = _first_run(contract, rows, lambda row, level=level: row.value >= level, trigger.periods)
        else:
            run = _first_run(contract, rows, lambda row, level=level: row.value <= level, trigger.periods)
        if not run:
            continue
        reason = gettext(
            "%(metric)s %(comparison)s %(level)s for %(n)s periods after closure: %(values)s"
        ) % {
            "metric": contract.metric_id,
            "comparison": trigger.get_comparison_display(),
            "level": _fmt(level),
            "n": trigger.periods,
            "values": ", ".join(
                f"{describe_period(row.period_start, contract.grain)} {_fmt(row.value)}" for row in run
            ),
        }
        signal = Signal.objects.open().filter(contract=contract, cut="").first()
        if signal is not None:
            reason += " — " + gettext("signal: %(signal)s") % {
                "signal": signal_text(
                    contract,
                    cut="",
                    value=signal.observed_value,
                    level=signal.level,
                    period=signal.last_period,
                )
            }
        if action_reopen_from_trigger(trigger.action_id, reason):
            reopened += 1
    return reopened


# --- guardrails ---------------------------------------------------------------------------------

BASELINE_PERIODS = 4


def _improvement_not_net(contract: MetricContract) -> tuple[bool, str]:
    """Does the contract improve over its baseline while a guardrail is at warning or worse?

    Baseline: the mean whole-population value of its first four evaluated periods (with
    enough sample). It improves when its latest such value is better, by its direction, and at
    least one more period exists beyond the baseline."""
    guardrails = list(contract.guardrails.only("pk", "metric_id", "grain"))
    if not guardrails:
        return False, ""
    rows = list(
        Evaluation.objects.filter(contract=contract, grain=contract.grain, cut="", value__isnull=False)
        .exclude(raw_level=SignalLevel.INSUFFICIENT_DATA)
        .order_by("period_start")
        .values_list("period_start", "value")
    )
    if len(rows) <= BASELINE_PERIODS:
        return False, ""
    baseline = sum(value for _period, value in rows[:BASELINE_PERIODS]) / BASELINE_PERIODS
    latest_period, latest = rows[-1]
    lower_is_better = contract.direction == Direction.LOWER_IS_BETTER
    if not (latest < baseline if lower_is_better else latest > baseline):
        return False, ""
    breached = []
    for guardrail in guardrails:
        last = (
            Evaluation.objects.filter(contract=guardrail, grain=guardrail.grain, cut="")
            .order_by("-period_start")
            .first()
        )
        if last is not None and _past_warning(last.level):
            breached.append(
                gettext("%(metric)s at %(level)s (%(value)s in %(period)s)")
                % {
                    "metric": guardrail.metric_id,
                    "level": last.get_level_display().lower(),
                    "value": _fmt(last.value),
                    "period": describe_period(last.period_start, guardrail.grain),
                }
            )
    if not breached:
        return False, ""
    return True, gettext(
        "%(metric)s improved to %(latest)s in %(period)s against a baseline of %(baseline)s (mean of its "
        "first %(n)s periods) while its guardrail %(guardrails)s."
    ) % {
        "metric": contract.metric_id,
        "latest": _fmt(latest),
        "period": describe_period(latest_period, contract.grain),
        "baseline": _fmt(baseline),
        "n": BASELINE_PERIODS,
        "guardrails": "; ".join(breached),
    }


def guardrail_flags_update(*, contract: MetricContract) -> None:
    """Set or clear "improvement not net" on the contract and on every contract it guards (its
    level may have changed theirs). Written only when it changes, as a plain update: the flag is
    the job's finding, not an edit of the contract's definition."""
    edges = list(
        MetricContract.guardrails.through.objects.filter(
            Q(from_metriccontract_id=contract.pk) | Q(to_metriccontract_id=contract.pk)
        ).values_list("from_metriccontract_id", "to_metriccontract_id")
    )
    guarded_ids = {guarded for guarded, guardrail in edges if guardrail == contract.pk}
    targets = [contract]
    if guarded_ids:
        targets += MetricContract.objects.filter(pk__in=guarded_ids, status=ContractStatus.ACTIVE).only(
            "pk", "metric_id", "grain", "direction", "improvement_not_net", "improvement_not_net_reason"
        )
    for target in targets:
        has_guardrails = target.pk != contract.pk or any(guarded == contract.pk for guarded, _ in edges)
        flagged, reason = _improvement_not_net(target) if has_guardrails else (False, "")
        if (flagged, reason) == (target.improvement_not_net, target.improvement_not_net_reason):
            continue
        MetricContract.objects.filter(pk=target.pk).update(
            improvement_not_net=flagged, improvement_not_net_reason=reason
        )
        target.improvement_not_net, target.improvement_not_net_reason = flagged, reason


# --- stop holds ---------------------------------------------------------------------------------


def capability_held(capability) -> bool:
    """Are the capability's pending releases held by a stop rule that nobody lifted yet?"""
    return StopHold.objects.filter(capability=capability, lifted_at__isnull=True).exists()


def may_lift_stop_hold(user, capability) -> bool:
    """Only Risk / Compliance (on the capability or across the organisation) lifts a stop hold."""
    return user is not None and Role.RISK_COMPLIANCE in roles_of(user, capability)


@transaction.atomic
def stop_hold_lift(*, hold: StopHold, by, comment: str) -> StopHold:
    """Risk / Compliance lifts a stop hold (on the capability, or across the organisation), with
    a comment saying why releases may go ahead; recorded with who and when."""
    row = (
        StopHold.objects.select_for_update().select_related("capability", "signal__contract").get(pk=hold.pk)
    )
    if not may_lift_stop_hold(by, row.capability_id):
        raise PermissionDenied(
            gettext("Only Risk / Compliance on %(capability)s lifts a stop hold.")
            % {"capability": row.capability}
        )
    if row.lifted_at is not None:
        raise TransitionNotAllowed(
            gettext("This stop hold was lifted on %(when)s.") % {"when": timezone.localdate(row.lifted_at)}
        )
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(gettext("Say why the stop hold can be lifted."), field="comment")
    row.lifted_at = timezone.now()
    row.lifted_by = by
    row.lift_comment = comment
    row._history_user = by
    row._change_reason = gettext("Lifted: %(comment)s") % {"comment": comment}
    row.save()
    pms = RoleAssignment.objects.filter(role=Role.AI_PM, capability=row.capability).select_related("user")
    notify(
        recipients=[assignment.user for assignment in pms],
        subject=gettext("Stop hold lifted: %(capability)s") % {"capability": row.capability},
        body=gettext("%(person)s lifted the stop hold (%(reason)s):\n\n%(comment)s")
        % {"person": by, "reason": row.reason, "comment": comment},
        url=_url(row.signal.contract),
    )
    for name in ("lifted_at", "lifted_by_id", "lift_comment"):
        setattr(hold, name, getattr(row, name))
    return row
