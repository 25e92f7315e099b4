"""Recording decisions: the one path the pages, the API, jobs and the other registers take.

Later registers call these services rather than creating ``Decision`` rows themselves: the
metric contracts log "metric definition change" decisions (with ``details={"before": ...,
"after": ...}``), the release calendar logs release approvals and rollbacks, forums log what a
session decided (``forum_session=session``). Call with ``by=None`` when the system itself
records (a job): the RACI check is skipped, everything else still holds.
"""

import re
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from decisions.choices import DecisionType
from decisions.models import Decision, EvidenceLink
from productops import references
from productops.errors import DomainError
from productops.permissions import can_view, require_change
from productops.roles import Activity
from productops.transitions import lock

_SEPARATORS = re.compile(r"[\s,;]+")
_URL_PREFIXES = ("http://", "https://")


def evidence_split(text: str) -> list[str]:
    """The references a person typed: ``"ACT-0003, REL-2026-001"`` -> ``["ACT-0003", "REL-2026-001"]``.

    Commas, semicolons, spaces and new lines all separate (links are kept when they have none).
    """
    return [token for token in _SEPARATORS.split(text or "") if token]


def _capability_id_of(record) -> int | None:
    from portfolio.models import Capability

    if isinstance(record, Capability):
        return record.pk
    return getattr(record, "capability_id", None)


def _evidence_links(evidence: Iterable, *, by) -> list[EvidenceLink]:
    """Unsaved EvidenceLink rows for the given readable ids, URLs and records, in order, once each.

    A readable id that names no record, or a record of a capability ``by`` may not see, is
    refused with a DomainError on the ``evidence`` field naming the id (the same message for
    both, so an id typed at random reveals nothing about other capabilities).
    """
    links: list[EvidenceLink] = []
    seen: set = set()
    unknown: list[str] = []
    for item in evidence or ():
        if isinstance(item, str):
            token = item.strip()
            if not token:
                continue
            if token.lower().startswith(_URL_PREFIXES):
                try:
                    URLValidator(schemes=["http", "https"])(token)
                except ValidationError:
                    raise DomainError(
                        _("Evidence: %(url)s is not a valid link.") % {"url": token}, field="evidence"
                    ) from None
                if token not in seen:
                    seen.add(token)
                    links.append(EvidenceLink(url=token[:500], label=token[:255]))
                continue
            record = references.resolve(token)
            if record is None:
                unknown.append(token.upper())
                continue
        elif isinstance(item, models.Model):
            record = item
            token = getattr(record, "readable_id", "") or str(record.pk)
        else:
            raise TypeError(f"Evidence must be readable ids, links or records, not {item!r}")
        if record.pk is None:
            raise DomainError(_("Evidence must be a recorded item."), field="evidence")
        capability_id = _capability_id_of(record)
        if by is not None and capability_id is not None and not can_view(by, capability_id):
            unknown.append(token.upper())
            continue
        content_type = ContentType.objects.get_for_model(record)
        key = (content_type.pk, record.pk)
        if key in seen:
            continue
        seen.add(key)
        links.append(
            EvidenceLink(
                content_type=content_type,
                object_id=record.pk,
                reference=getattr(record, "readable_id", "") or "",
                label=str(record)[:255],
            )
        )
    if unknown:
        raise DomainError(
            _("Evidence: no record you can see has the id %(ids)s.") % {"ids": ", ".join(unknown)},
            field="evidence",
            code="unknown_reference",
        )
    return links


@transaction.atomic
def decision_record(
    *,
    capability,
    by,
    type: str,
    decision: str,
    options_considered: str = "",
    owner,
    evidence: Iterable = (),
    review_trigger: str = "",
    review_date=None,
    forum_session=None,
    supersedes: Decision | None = None,
    decided_on=None,
    details: dict | None = None,
) -> Decision:
    """Record a decision taken about ``capability`` and the evidence it rests on.

    - ``by``: the person recording it, who must hold A or R on the decision log for the
      capability (PermissionDenied otherwise); ``None`` means the system.
    - ``type``: a ``DecisionType`` value. ``decision``: what was decided (required).
    - ``owner``: the person accountable for carrying it out; must hold a role on the capability.
    - ``evidence``: readable ids (``"ACT-0003"``, ``"REL-2026-001"``), ``http(s)`` links or model
      instances. An unknown id raises DomainError(field="evidence") naming it. No evidence is
      allowed; the decision is then shown as "no evidence".
    - ``forum_session``: the session that took it (any model instance, or None).
    - ``supersedes``: an earlier decision of the same capability, not already superseded.
    - ``decided_on``: defaults to today; never in the future. ``review_date``: not before it.
    - ``details``: structured facts for the page, e.g. ``{"before": ..., "after": ...}``.

    Raises DomainError (naming the field) when a rule says no. Returns the saved decision.
    """
    if by is not None:
        require_change(by, Activity.DECISION_LOG, capability)
    if type not in DecisionType.values:
        raise DomainError(_("Choose a decision type."), field="type")
    decision = (decision or "").strip()
    if not decision:
        raise DomainError(_("Say what was decided."), field="decision")
    if owner is None:
        raise DomainError(_("A decision needs an owner."), field="owner")
    if not owner.is_active or not can_view(owner, capability):
        raise DomainError(
            _("%(person)s holds no role on %(capability)s and cannot own its decisions.")
            % {"person": owner, "capability": capability},
            field="owner",
        )
    today = timezone.localdate()
    decided_on = decided_on or today
    if decided_on > today:
        raise DomainError(_("A decision cannot be dated in the future."), field="decided_on")
    if review_date is not None and review_date < decided_on:
        raise DomainError(_("The review date cannot be before the decision date."), field="review_date")
    if supersedes is not None:
        # Row lock: two people superseding the same decision at once; the second sees the first.
        supersedes = lock(supersedes)
        if supersedes.capability_id != capability.pk:
            raise DomainError(
                _("%(decision)s belongs to another capability and cannot be superseded from here.")
                % {"decision": supersedes.readable_id},
                field="supersedes",
            )
        if decided_on < supersedes.decided_on:
            raise DomainError(
                _("A decision cannot be dated before the decision it supersedes (%(date)s).")
                % {"date": supersedes.decided_on.isoformat()},
                field="decided_on",
            )
        successor = (
            Decision.objects.filter(supersedes=supersedes).values_list("readable_id", flat=True).first()
        )
        if successor:
            raise DomainError(
                _("%(decision)s was already superseded by %(successor)s; supersede that one instead.")
                % {"decision": supersedes.readable_id, "successor": successor},
                field="supersedes",
                code="already_superseded",
            )
    if details is not None and not isinstance(details, dict):
        raise DomainError(_("Details must be a mapping."), field="details")
    links = _evidence_links(evidence, by=by)

    record = Decision(
        capability=capability,
        decided_on=decided_on,
        type=type,
        decision=decision,
        options_considered=(options_considered or "").strip(),
        owner=owner,
        review_trigger=(review_trigger or "").strip(),
        review_date=review_date,
        details=details or {},
        supersedes=supersedes,
        recorded_by=by,
    )
    if forum_session is not None:
        record.forum_session_type = ContentType.objects.get_for_model(forum_session)
        record.forum_session_id = forum_session.pk
    record._history_user = by  # the history row names who recorded it, also outside a request
    record.save()
    for link in links:
        link.decision = record
        link.save()
    return record


def decision_supersede(
    *,
    old: Decision,
    by,
    decision: str,
    type: str | None = None,
    options_considered: str = "",
    owner=None,
    evidence: Iterable = (),
    review_trigger: str = "",
    review_date=None,
    forum_session=None,
    decided_on=None,
    details: dict | None = None,
) -> Decision:
    """Record a new decision that replaces ``old`` (same capability); ``old`` stays untouched.

    ``type`` and ``owner`` default to the old decision's. Refused (DomainError on
    ``supersedes``) when ``old`` was already superseded. Returns the new decision.
    """
    return decision_record(
        capability=old.capability,
        by=by,
        type=type or old.type,
        decision=decision,
        options_considered=options_considered,
        owner=owner or old.owner,
        evidence=evidence,
        review_trigger=review_trigger,
        review_date=review_date,
        forum_session=forum_session,
        supersedes=old,
        decided_on=decided_on,
        details=details,
    )
