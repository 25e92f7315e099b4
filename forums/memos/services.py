"""The services of the monthly value review (``memo_generate``, ``memo_update``,
``memo_send``, ``memo_decide``): the one path the pages, the API and any job take to generate a
memo from the month's data, edit it while it is a draft, send it to the forum's attendees (kept
as sent from then on) and record the forum's decision in the decision log and the assumption
ledger; with the access helpers the pages use. Permission checks and state rules live here."""

import datetime

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from forums.choices import Cadence, MemoState
from forums.meeting import session_decision_outcome
from forums.memos.build import MemoDraft, memo_build
from forums.memos.lines import _recommendation_text
from forums.memos.matrix import (
    DECISION_TYPES,
    JUDGMENTS,
    MatrixEvidence,
    MatrixResult,
    MemoDecision,
    decision_matrix,
    options_considered,
)
from forums.memos.month import monthly_forums_for
from forums.memos.reading import memo_text
from forums.memos.sections import ACTIVITY, LINE_KEYS, READ_ONLY_LINES, SECTION_KEYS, month_start_of
from forums.models import Session, ValueMemo
from productops.errors import DomainError, TransitionNotAllowed
from productops.formats import local_iso, person_name
from productops.notifications import notify
from productops.permissions import can_change, require_change, visible_capability_ids
from productops.roles import Activity

# --- services: generate, edit, send, decide -------------------------------------------------------


def memos_visible_to(user):
    """The memos of the capabilities a person holds a role on (all for organisation-wide roles)."""
    memos = ValueMemo.objects.select_related("capability", "session__forum", "sent_by", "decision")
    if not getattr(user, "is_authenticated", False):
        return memos.none()
    visible = visible_capability_ids(user)
    return memos if visible is None else memos.filter(capability_id__in=visible)


def memo_for_user(user, pk: int) -> ValueMemo:
    """The memo, or 404 when the person holds no role on its capability (not even confirmed to exist)."""
    memo = memos_visible_to(user).filter(pk=pk).first()
    if memo is None:
        raise Http404
    return memo


def can_edit_memo(user, memo: ValueMemo) -> bool:
    """A or R on the monthly value review for the memo's capability (AI PM, BA, ops, analytics,
    finance, executive), while it is a draft."""
    return not memo.is_sent and can_change(user, ACTIVITY, memo.capability)


def can_decide_memo(user, memo: ValueMemo) -> bool:
    return memo.is_sent and memo.decision_id is None and can_change(user, ACTIVITY, memo.capability)


def _check_session(session: Session, capability) -> None:
    if session.forum.cadence != Cadence.MONTHLY_VALUE_REVIEW:
        raise DomainError(gettext("A value memo belongs to a monthly value review session."), field="session")
    scope = session.forum.scope_list()
    if scope and capability.pk not in {c.pk for c in scope}:
        raise DomainError(gettext("This capability is not in the forum's scope."), field="session")


def _check_month(month: datetime.date, today: datetime.date) -> datetime.date:
    if not isinstance(month, datetime.date):
        raise DomainError(gettext("Give the month reviewed as YYYY-MM."), field="month")
    month = month_start_of(month)
    if month > month_start_of(today):
        raise DomainError(gettext("A month not yet begun has no data to review."), field="month")
    return month


def _marked(fields: dict, result: MatrixResult) -> dict:
    """The matrix's result with the contracts below E3 its fired figures rest on (playbook 11.2:
    a decision resting on evidence below E3 is marked)."""
    data = result.as_dict()
    cited = " ".join(figure["basis"] for figure in data["figures"])
    data["below_e3"] = [metric_id for metric_id in fields.get("below_e3") or [] if metric_id in cited]
    return data


def draft_matrix(draft: MemoDraft) -> dict:
    """What a memo stores as its ``matrix`` for a built draft: the matrix's result, the contracts
    below E3 it rests on and the evidence it read (a board shows a month without a memo from it)."""
    return {**_marked(draft.fields, draft.result), "evidence": draft.evidence.as_dict()}


def _store(memo: ValueMemo, draft: MemoDraft) -> None:
    memo.fields = draft.fields
    memo.matrix = draft_matrix(draft)
    memo.recommendation = draft.result.decision


@transaction.atomic
def memo_generate(
    *, capability, month: datetime.date, session: Session | None = None, by, now=None
) -> ValueMemo:
    """Generate the capability's memo for the month from the data (``memo_build``) and run the
    decision matrix on it. A draft memo of the same capability and month is replaced, edits
    included; a sent memo is kept as sent (TransitionNotAllowed). Needs A or R on the monthly
    value review for the capability."""
    require_change(by, ACTIVITY, capability)
    now = now or timezone.now()
    month = _check_month(month, timezone.localdate(now))
    if session is not None:
        _check_session(session, capability)
    existing = ValueMemo.objects.select_for_update().filter(capability=capability, month=month).first()
    if existing is not None and existing.is_sent:
        raise TransitionNotAllowed(
            gettext(
                "The memo of %(month)s was sent on %(date)s and is kept as sent: it cannot be regenerated."
            )
            % {
                "month": month.strftime("%Y-%m"),
                "date": timezone.localtime(existing.sent_at).strftime("%Y-%m-%d"),
            },
            field="state",
        )
    draft = memo_build(capability=capability, month=month, session=session, by=by, now=now)
    memo = existing or ValueMemo(capability=capability, month=month)
    _store(memo, draft)
    memo.session = session if session is not None else memo.session
    memo.generated_at = now
    memo._history_user = by
    memo._change_reason = "regenerated" if existing else "generated"
    if existing is None:
        try:
            with transaction.atomic():
                memo.save()
        except IntegrityError:
            # Someone generated the same month a moment ago: theirs stands, ours replaces it.
            memo = ValueMemo.objects.select_for_update().get(capability=capability, month=month)
            if memo.is_sent:
                raise TransitionNotAllowed(gettext("The memo was sent meanwhile."), field="state") from None
            _store(memo, draft)
            memo.session = session if session is not None else memo.session
            memo.generated_at = now
            memo.save()
    else:
        memo.save()
    return memo


def evidence_with_judgments(evidence: MatrixEvidence, judgments: dict) -> MatrixEvidence:
    """The data's figures plus what people stated in the memo (``JUDGMENTS``): a stated
    friction, weak thesis or unscalable review load sets its flag, and the basis says who said
    so. A judgment can only add caution; it never clears what the data found."""
    basis = dict(evidence.basis)
    changes = {}
    for key, text in (judgments or {}).items():
        text = (text or "").strip()
        if key not in JUDGMENTS or not text:
            continue
        changes[key] = True
        stated = gettext("stated in the memo: %(text)s") % {"text": text}
        basis[key] = f"{basis[key]}; {stated}" if getattr(evidence, key) and basis.get(key) else stated
    return MatrixEvidence(**{**evidence.as_dict(), **changes, "basis": basis}) if changes else evidence


def _require_draft(memo: ValueMemo) -> None:
    if memo.is_sent:
        raise TransitionNotAllowed(
            gettext("The memo was sent on %(date)s and is kept as sent: it can no longer be edited.")
            % {"date": timezone.localtime(memo.sent_at).strftime("%Y-%m-%d")},
            field="state",
        )


def _lock(memo: ValueMemo) -> ValueMemo:
    return ValueMemo.objects.select_for_update().select_related("capability").get(pk=memo.pk)


def _sync(memo: ValueMemo, fresh: ValueMemo) -> ValueMemo:
    for name in (
        "fields",
        "matrix",
        "recommendation",
        "state",
        "sent_at",
        "sent_by_id",
        "decision_id",
        "updated_at",
    ):
        setattr(memo, name, getattr(fresh, name))
    return memo


@transaction.atomic
def memo_update(
    *, memo: ValueMemo, by, lines: dict | None = None, judgments: dict | None = None
) -> ValueMemo:
    """Edit a draft memo: the text of its lines (``{section: {line: text}}``; the recommendation
    is the matrix's and is not typed) and the judgments people add to the data; the matrix runs
    again on the data's figures plus the judgments. Refused once the memo is sent."""
    require_change(by, ACTIVITY, memo.capability)
    fresh = _lock(memo)
    _require_draft(fresh)
    fields = dict(fresh.fields)
    new_lines = {section: dict(fields.get(section) or {}) for section in SECTION_KEYS}
    for section, values in (lines or {}).items():
        if section not in LINE_KEYS or not isinstance(values, dict):
            raise DomainError(
                gettext("The memo has no section %(section)s.") % {"section": section}, field="lines"
            )
        for line, text in values.items():
            if line not in LINE_KEYS[section]:
                raise DomainError(
                    gettext("The section %(section)s has no line %(line)s.")
                    % {"section": section, "line": line},
                    field=f"{section}.{line}",
                )
            if (section, line) in READ_ONLY_LINES:
                raise DomainError(
                    gettext(
                        "The recommendation is the decision matrix's: change the evidence, not the words."
                    ),
                    field=f"{section}.{line}",
                )
            text = str(text or "").strip()
            if not text:
                raise DomainError(
                    gettext("A line of the memo cannot be empty: write “—” or say what is missing."),
                    field=f"{section}.{line}",
                )
            new_lines.setdefault(section, {})[line] = text
    if judgments is not None:
        unknown = set(judgments) - set(JUDGMENTS)
        if unknown:
            raise DomainError(
                gettext("Unknown judgments: %(names)s.") % {"names": ", ".join(sorted(unknown))},
                field="judgments",
            )
        fields["judgments"] = {
            key: str(text or "").strip() for key, text in judgments.items() if str(text or "").strip()
        }
    evidence = evidence_with_judgments(
        MatrixEvidence.from_dict((fresh.matrix or {}).get("evidence") or {}), fields.get("judgments") or {}
    )
    result = decision_matrix(evidence)
    new_lines.setdefault("decision_requested", {})["recommendation"] = _recommendation_text(result.as_dict())
    fields.update(new_lines)
    fields["meta"] = {
        **fields.get("meta", {}),
        "edited_at": local_iso(timezone.now()),
        "edited_by": person_name(by),
    }
    fresh.fields = fields
    fresh.matrix = {
        **_marked(fields, result),
        "evidence": (fresh.matrix or {}).get("evidence") or {},
        "judged": evidence.as_dict(),
    }
    fresh.recommendation = result.decision
    fresh._history_user = by
    fresh._change_reason = "edited"
    fresh.save()
    return _sync(memo, fresh)


def memo_recipients(memo: ValueMemo) -> list:
    """Who receives the memo: the session's attendees, or without a session the attendees of
    every monthly value review forum covering the capability."""
    from forums.services import forum_attendees, session_attendees

    if memo.session_id is not None:
        return session_attendees(memo.session)
    people = {}
    for forum in monthly_forums_for(memo.capability).prefetch_related("scope"):
        for person in forum_attendees(forum):
            people.setdefault(person.pk, person)
    return sorted(people.values(), key=lambda p: (p.get_full_name() or p.get_username()).lower())


@transaction.atomic
def memo_send(*, memo: ValueMemo, by) -> ValueMemo:
    """Send the draft to the monthly forum's attendees (a notification carrying the memo's
    text) and freeze it: state sent, sent at, sent by. From now on it is kept as sent."""
    require_change(by, ACTIVITY, memo.capability)
    fresh = _lock(memo)
    _require_draft(fresh)
    recipients = memo_recipients(fresh)
    if not recipients:
        raise DomainError(
            gettext(
                "No monthly value review forum covers %(capability)s: nobody would receive the memo. "
                "Attach it to a session or add the capability to a forum's scope."
            )
            % {"capability": fresh.capability},
            field="session",
        )
    fresh.state = MemoState.SENT
    fresh.sent_at = timezone.now()
    fresh.sent_by = by
    fresh._history_user = by
    fresh._change_reason = "sent"
    fresh.save()
    notify(
        recipients=recipients,
        subject=gettext("Monthly value memo: %(capability)s, %(month)s — %(decision)s")
        % {
            "capability": fresh.capability.name,
            "month": fresh.month.strftime("%Y-%m"),
            "decision": MemoDecision(fresh.recommendation).label,
        },
        body=memo_text(fresh),
        url=fresh.get_absolute_url(),
    )
    return _sync(memo, fresh)


def _cited_records(memo: ValueMemo) -> list:
    """The contracts, releases and experiments the memo cites, as records (three queries)."""
    from contracts.models import MetricContract
    from experiments.models import Experiment
    from releases.models import Release

    citations = (memo.fields or {}).get("citations") or {}
    records: list = []
    records += list(
        MetricContract.objects.filter(
            capability=memo.capability, metric_id__in=citations.get("contracts") or []
        ).order_by("metric_id")
    )
    records += list(
        Release.objects.filter(
            capability=memo.capability, readable_id__in=citations.get("releases") or []
        ).order_by("readable_id")
    )
    records += list(
        Experiment.objects.filter(
            capability=memo.capability, readable_id__in=citations.get("experiments") or []
        ).order_by("readable_id")
    )
    return records


def _review_plan(memo: ValueMemo, assumption_reviews) -> list[dict]:
    """The assumption reviews to write: the memo's proposals as they stand, or the forum's
    choices (each accepted with the proposed status or another one, with its evidence)."""
    proposals = {p["pk"]: p for p in (memo.fields or {}).get("assumption_update") or []}
    if assumption_reviews is None:
        return [
            {"pk": pk, "status": p["proposed"], "evidence": p["evidence"], "expires_on": None}
            for pk, p in proposals.items()
            if not p["needs_expiry"]
        ]
    plan = []
    for item in assumption_reviews:
        pk = item.get("assumption")
        pk = getattr(pk, "pk", pk)
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise DomainError(gettext("Name the assumption reviewed."), field="assumptions") from None
        if pk not in proposals:
            raise DomainError(
                gettext("This assumption is not in the memo's ledger update."), field="assumptions"
            )
        plan.append(
            {
                "pk": pk,
                "status": item.get("status") or proposals[pk]["proposed"],
                "evidence": (item.get("evidence") or proposals[pk]["evidence"]).strip(),
                "expires_on": item.get("expires_on"),
            }
        )
    return plan


@transaction.atomic
def memo_decide(
    *,
    memo: ValueMemo,
    by,
    decision: str,
    text: str,
    owner,
    type: str | None = None,
    review_trigger: str = "",
    options: str | None = None,
    assumption_reviews: list[dict] | None = None,
):
    """Record the forum's decision on a sent memo, in one transaction:

    - the decision log (``decisions.services.decision_record``): the 8.3 decision mapped to its
      decision type (``DECISION_TYPES``; the forum's own decision types apply), the session,
      the contracts, releases and experiments the memo cites as evidence, the matrix's rows as
      the options considered; linked on the memo and kept in the session's outcomes;
    - the memo's assumption ledger update (rule 6.2): one review per assumption the forum
      confirms, through ``Assumption.review`` (``assumption_reviews``: ``[{"assumption": pk,
      "status": ..., "evidence": ..., "expires_on": ...}]``; None accepts every proposal that
      needs no new expiry date). At least one review when the ledger has live assumptions.

    Needs A or R on the monthly value review, the decision log and — when reviews are written —
    the assumption ledger; refused on a draft (send it first) and on a memo already decided."""
    from assumptions.choices import AssumptionStatus
    from assumptions.models import Assumption
    from decisions.services import decision_record

    # Every right the decision needs is checked before its input, so a person who may not take it
    # is refused at once (403) rather than told to fix a form they could never submit.
    require_change(by, ACTIVITY, memo.capability)
    require_change(by, Activity.DECISION_LOG, memo.capability)
    fresh = _lock(memo)
    if (fresh.fields or {}).get("assumption_update"):
        require_change(by, Activity.ASSUMPTION_LEDGER, fresh.capability)
    if not fresh.is_sent:
        raise TransitionNotAllowed(
            gettext("Send the memo before the forum decides on it: the decision rests on the memo as sent."),
            field="state",
        )
    if fresh.decision_id is not None:
        raise TransitionNotAllowed(
            gettext(
                "The forum's decision on this memo is already recorded (%(id)s): supersede it in the decision log."
            )
            % {"id": fresh.decision.readable_id},
            field="decision",
        )
    if decision not in MemoDecision.values:
        raise DomainError(gettext("Choose one of the decisions of the matrix."), field="decision")
    allowed = DECISION_TYPES[decision]
    type = type or allowed[0]
    if type not in allowed:
        raise DomainError(
            gettext("%(decision)s is logged as %(types)s.")
            % {"decision": MemoDecision(decision).label, "types": " / ".join(allowed)},
            field="type",
        )
    session = Session.objects.select_related("forum").get(pk=fresh.session_id) if fresh.session_id else None
    if session is not None and session.forum.decision_types and type not in session.forum.decision_types:
        raise DomainError(
            gettext("This forum takes these decision types only: %(types)s.")
            % {"types": ", ".join(session.forum.decision_type_labels())},
            field="type",
        )
    plan = _review_plan(fresh, assumption_reviews)
    live = [p for p in (fresh.fields or {}).get("assumption_update") or []]
    if live and not plan:
        raise DomainError(
            gettext(
                "Every monthly value review updates the assumption ledger: confirm, weaken or invalidate "
                "at least one assumption."
            ),
            field="assumptions",
        )
    if plan:
        require_change(by, Activity.ASSUMPTION_LEDGER, fresh.capability)
    for item in plan:
        if item["status"] not in AssumptionStatus.values or item["status"] == AssumptionStatus.EXPIRED:
            raise DomainError(
                gettext("Choose confirmed, weakened, invalidated or needs evidence."),
                field=f"assumption_{item['pk']}",
            )

    result = fresh.matrix or {}
    record = decision_record(
        capability=fresh.capability,
        by=by,
        type=type,
        decision=text,
        options_considered=options if options is not None else options_considered(result),
        owner=owner,
        evidence=_cited_records(fresh),
        review_trigger=review_trigger
        or (((fresh.fields or {}).get("decision") or {}).get("next_review_trigger", "")),
        forum_session=session,
        decided_on=session.meeting_day if session is not None else None,
        details={
            "value_memo": fresh.pk,
            "month": fresh.month.strftime("%Y-%m"),
            "recommended": fresh.recommendation,
            "decided": decision,
            "pattern": result.get("pattern", ""),
            "not_net": [row["metric_id"] for row in (fresh.fields or {}).get("not_net") or []],
        },
    )
    next_at = (fresh.fields or {}).get("meta", {}).get("next_session_at")
    next_review = datetime.date.fromisoformat(next_at[:10]) if next_at else None
    if next_review is not None and next_review < timezone.localdate():
        next_review = None
    assumptions = Assumption.objects.select_related("capability").in_bulk([item["pk"] for item in plan])
    for item in plan:
        assumption = assumptions.get(item["pk"])
        if assumption is None or assumption.capability_id != fresh.capability_id:
            raise DomainError(
                gettext("This assumption is not in the memo's ledger update."), field="assumptions"
            )
        try:
            assumption.review(
                by=by,
                new_status=item["status"],
                new_evidence=item["evidence"],
                roadmap_impact=f"{record.readable_id}: {record.decision}",
                next_review=next_review,
                source=record,
                expires_on=item.get("expires_on"),
            )
        except DomainError as error:
            # Name the assumption: the form shows the error beside its row.
            raise DomainError(
                f"{assumption.readable_id}: {error.message}", field=f"assumption_{item['pk']}"
            ) from error
    fresh.decision = record
    fresh._history_user = by
    fresh._change_reason = f"decision {record.readable_id}"
    fresh.save(update_fields=["decision", "updated_at"])
    if session is not None:
        session_decision_outcome(session=session, decision=record, by=by)
    _sync(memo, fresh)
    memo.decision = record
    return record
