"""Work on the assumption ledger that spans records or has side effects: creating and editing
assumptions, and the two ways the ledger expires them by itself (expiry date, release)."""

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from assumptions.choices import AssumptionStatus, AssumptionType, Confidence, ObjectType
from assumptions.models import Assumption, validate_contract_ids, validate_object_types
from productops.errors import DomainError
from productops.notifications import notify
from productops.permissions import can_view, require_change
from productops.roles import Activity

# What an edit may change. Status is not here: it moves only through Assumption.review.
EDITABLE_FIELDS = frozenset(
    {
        "statement",
        "type",
        "owner",
        "evidence",
        "confidence",
        "expires_on",
        "decision_impact",
        "tested_by_contracts",
        "depends_on_object_types",
    }
)


def _unique(values) -> list[str]:
    """Strip, drop blanks and repeats, keep the order people typed."""
    seen: dict[str, None] = {}
    for value in values or ():
        text = str(value).strip()
        if text:
            seen.setdefault(text, None)
    return list(seen)


def _checked(field: str, validator, values) -> list[str]:
    cleaned = _unique(values)
    try:
        validator(cleaned)
    except ValidationError as error:
        raise DomainError(" ".join(error.messages), field=field) from error
    return cleaned


def _check_fields(*, capability, statement, type, owner, confidence) -> None:
    if not (statement or "").strip():
        raise DomainError(_("State the assumption."), field="statement")
    if type not in AssumptionType.values:
        raise DomainError(_("Choose one of the seven assumption types."), field="type")
    if confidence not in Confidence.values:
        raise DomainError(_("Choose low, medium or high."), field="confidence")
    if owner is None:
        raise DomainError(_("Every assumption has an owner."), field="owner")
    if not owner.is_active or not can_view(owner, capability):
        raise DomainError(
            _("%(person)s holds no role on %(capability)s, so cannot own its assumptions.")
            % {"person": owner, "capability": capability},
            field="owner",
        )


def _check_future(expires_on: date | None) -> None:
    if expires_on is None:
        raise DomainError(
            _("Give an expiry date: the day the belief must be reviewed by."), field="expires_on"
        )
    if expires_on <= timezone.localdate():
        raise DomainError(_("The expiry date must be in the future."), field="expires_on")


@transaction.atomic
def assumption_create(
    *,
    capability,
    by,
    statement: str,
    type: str,
    owner,
    evidence: str = "",
    confidence: str,
    expires_on: date,
    decision_impact: str = "",
    tested_by_contracts=(),
    depends_on_object_types=(),
) -> Assumption:
    """Add an assumption to a capability's ledger, in status "needs evidence".

    Raises PermissionDenied when ``by`` may not change the ledger there, DomainError naming the
    field for a missing statement, an owner who cannot see the capability, an expiry date not
    in the future, or a malformed contract id or object type.
    """
    require_change(by, Activity.ASSUMPTION_LEDGER, capability)
    _check_fields(capability=capability, statement=statement, type=type, owner=owner, confidence=confidence)
    _check_future(expires_on)
    assumption = Assumption(
        capability=capability,
        statement=statement.strip(),
        type=type,
        owner=owner,
        evidence=(evidence or "").strip(),
        confidence=confidence,
        expires_on=expires_on,
        decision_impact=(decision_impact or "").strip(),
        tested_by_contracts=_checked("tested_by_contracts", validate_contract_ids, tested_by_contracts),
        depends_on_object_types=_checked(
            "depends_on_object_types", validate_object_types, depends_on_object_types
        ),
    )
    assumption._history_user = by
    assumption._change_reason = _("Added to the assumption ledger")
    assumption.save()
    return assumption


@transaction.atomic
def assumption_update(*, assumption: Assumption, by, **changes) -> Assumption:
    """Edit what an assumption says (never its status: that moves only through a review).

    A new expiry date must be in the future. Raises DomainError naming the field.
    """
    require_change(by, Activity.ASSUMPTION_LEDGER, assumption.capability)
    for name in changes:
        if name == "status":
            raise DomainError(
                _("The status changes only through a review, with new evidence."), field="status"
            )
        if name not in EDITABLE_FIELDS:
            raise DomainError(_("This field cannot be edited."), field=name)
    if "tested_by_contracts" in changes:
        changes["tested_by_contracts"] = _checked(
            "tested_by_contracts", validate_contract_ids, changes["tested_by_contracts"]
        )
    if "depends_on_object_types" in changes:
        changes["depends_on_object_types"] = _checked(
            "depends_on_object_types", validate_object_types, changes["depends_on_object_types"]
        )
    for name in ["statement", "evidence", "decision_impact"]:
        if name in changes:
            changes[name] = (changes[name] or "").strip()
    merged = {name: changes.get(name, getattr(assumption, name)) for name in EDITABLE_FIELDS}
    _check_fields(
        capability=assumption.capability,
        statement=merged["statement"],
        type=merged["type"],
        owner=merged["owner"],
        confidence=merged["confidence"],
    )
    if "expires_on" in changes and changes["expires_on"] != assumption.expires_on:
        _check_future(changes["expires_on"])
    changed = [name for name, value in changes.items() if getattr(assumption, name) != value]
    if not changed:
        return assumption
    for name in changed:
        setattr(assumption, name, changes[name])
    assumption._history_user = by
    assumption.save()
    return assumption


def _tell_owner(assumption: Assumption, why: str) -> None:
    notify(
        recipients=[assumption.owner],
        subject=_("%(id)s expired: %(statement)s")
        % {"id": assumption.readable_id, "statement": assumption.statement[:120]},
        body=_(
            "The assumption %(id)s on %(capability)s turned expired.\n\n%(why)s\n\n"
            "Re-confirm it with new evidence and a new expiry date, weaken or invalidate it."
        )
        % {"id": assumption.readable_id, "capability": assumption.capability, "why": why},
        url=assumption.get_absolute_url(),
    )


def assumptions_expire_due(*, today: date | None = None) -> list[Assumption]:
    """Turn every live assumption past its expiry date to expired, one review row each saying
    why, and tell each owner. Run daily; a second run finds nothing and sends nothing.

    One query finds the due ones; each is then expired in its own transaction (row locked and
    re-checked, so a review someone records meanwhile wins), its notification committed with it.
    """
    today = today or timezone.localdate()
    expired = []
    for pk in list(Assumption.objects.due_to_expire(today).values_list("pk", flat=True)):
        with transaction.atomic():
            assumption = (
                Assumption.objects.select_for_update(of=("self",))
                .select_related("capability", "owner")
                .get(pk=pk)
            )
            if not (assumption.is_live and assumption.expires_on < today):
                continue
            why = _("Expired on %(date)s: past its expiry date without review.") % {
                "date": assumption.expires_on.isoformat()
            }
            assumption.review(by=None, new_status=AssumptionStatus.EXPIRED, new_evidence=why)
            _tell_owner(assumption, why)
            expired.append(assumption)
    return expired


@transaction.atomic
def assumptions_expire_for_release(
    *, capability, object_type: str, reason: str, source=None
) -> list[Assumption]:
    """A release changed the ``object_type`` (model, prompt, policy, workflow, ...) of a
    capability: every live assumption that rests on it turns expired, with a review row giving
    ``reason`` (and ``source``, the release), and each owner is told.

    Called by the releases app when a release deploys or rolls back.
    """
    if object_type not in ObjectType.values:
        raise DomainError(_("Not an object type a release changes."), field="object_type")
    # The capability's live assumptions are few; the JSON list is matched here rather than
    # with ``__contains``, which SQLite (laptops, the demo) does not support on JSON fields.
    candidates = (
        Assumption.objects.for_capability(capability)
        .live()
        .select_for_update(of=("self",))
        .select_related("capability", "owner")
    )
    expired = []
    for assumption in candidates:
        if object_type not in assumption.depends_on_object_types:
            continue
        why = _("Expired by a release: the %(object_type)s it depends on changed. %(reason)s") % {
            "object_type": ObjectType(object_type).label.lower(),
            "reason": reason,
        }
        assumption.review(
            by=None, new_status=AssumptionStatus.EXPIRED, new_evidence=why.strip(), source=source
        )
        _tell_owner(assumption, why)
        expired.append(assumption)
    return expired


def review_source_from_reference(*, user, reference: str):
    """The record a review happened in, from the readable id a person typed (``DEC-0007``,
    a forum session's id once forums exist); None for a blank reference.

    Raises DomainError on the ``source`` field when no record the person can see has that id.
    """
    from productops import references

    reference = (reference or "").strip()
    if not reference:
        return None
    record = references.resolve(reference)
    capability = getattr(record, "capability", None) if record is not None else None
    if record is None or (capability is not None and not can_view(user, capability)):
        raise DomainError(
            _("No decision or forum session with the id %(id)s.") % {"id": reference}, field="source"
        )
    return record
