"""Review packs of sessions (playbook 11.1, rule 6.2 "every review pack starts with decision
requested"): built before a session as a frozen snapshot with its chart images and PDF, sent to
every expected attendee by e-mail, one delivery row per person.

- ``pack_build``: (re)build the pack while the session is still scheduled; a sent pack is frozen.
- ``pack_send``: refuse without a decision requested, build if needed, freeze, move the session
  to "pack sent", one ``PackDelivery`` per attendee with an e-mail address, one task each.
- ``packs_send_due``: the scheduled job (every 15 minutes): send every pack whose time has come,
  tell a forum owner once when a session cannot have its pack sent, and queue again the
  deliveries a lost or exhausted task left unsent.
- ``delivery_send``: what the delivery task does: claim the row with a conditional UPDATE, send,
  mark sent; on a failure release the claim and record it, so a retry may send, never twice.

Building takes seconds (a dozen charts in Chromium, an A4 PDF in WeasyPrint); it runs outside
any transaction, and the short transaction that stores the result re-checks the session under
a row lock, so two builders or a builder and a sender never both win.
"""

import datetime
import hashlib
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from forums.choices import Cadence, DeliveryStatus, SessionState
from forums.models import Forum, PackDelivery, ReviewPack, ScorecardRow, Session, ValueMemo
from forums.packs import pack_snapshot
from forums.pdf import chart_images, render_pack
from forums.services import session_attendees
from productops.errors import DomainError, TransitionNotAllowed
from productops.jobs import enqueue_on_commit
from productops.notifications import CLAIM_TIMEOUT, notify
from productops.transitions import lock

logger = logging.getLogger(__name__)

# The heavy columns of a pack: pages that only show its state leave them in the database.
HEAVY_FIELDS = ("snapshot", "charts", "pdf")
# A delivery still unsent this long after the pack went out has used up its task's retries (or
# lost its task): the pack job queues it again, up to MAX_ATTEMPTS attempts in all.
REQUEUE_AFTER = datetime.timedelta(hours=1)
MAX_ATTEMPTS = 12


# --- what goes into a session's pack -------------------------------------------------------------


def pack_capabilities(forum: Forum) -> list:
    """The capabilities a forum's pack covers: its scope, or the whole organisation."""
    from portfolio.models import Capability

    return forum.scope_list() or list(Capability.objects.order_by("name"))


def session_snapshot(session: Session, *, built_at: datetime.datetime) -> dict:
    """The pack of one session as it stands now: the forum's scope, cadence, name and owner,
    the session's decision requested (deadline: the session's date), and for a monthly value
    review or a quarterly portfolio review the session's memos or scorecard."""
    forum = session.forum
    memos = rows = ()
    if forum.cadence == Cadence.MONTHLY_VALUE_REVIEW:
        memos = (
            ValueMemo.objects.filter(session=session)
            .select_related("capability")
            .order_by("capability__name")
        )
    elif forum.cadence == Cadence.QUARTERLY_PORTFOLIO_REVIEW:
        rows = ScorecardRow.objects.filter(review__session=session).select_related("capability")
    return pack_snapshot(
        capabilities=pack_capabilities(forum),
        cadence=forum.cadence,
        decision_requested=session.decision_requested,
        forum_name=forum.name,
        session_at=session.scheduled_at,
        built_at=built_at,
        owner=forum.owner.get_full_name() or forum.owner.get_username(),
        deadline=timezone.localtime(session.scheduled_at).date(),
        value_memos=memos,
        scorecard_rows=rows,
    )


@dataclass
class RenderedPack:
    """A pack drawn and rendered, not yet stored."""

    snapshot: dict
    charts: dict
    pdf: bytes
    page_count: int
    built_at: datetime.datetime

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


def pack_render(session: Session, *, now: datetime.datetime | None = None) -> RenderedPack:
    """Snapshot, chart images (drawn once) and PDF of a session's pack as of ``now``. No writes."""
    built_at = now or timezone.now()
    snapshot = session_snapshot(session, built_at=built_at)
    charts = chart_images(snapshot)
    pdf, pages = render_pack(snapshot, charts=charts)
    return RenderedPack(snapshot=snapshot, charts=charts, pdf=pdf, page_count=pages, built_at=built_at)


def pack_rerender(pack: ReviewPack) -> tuple[bytes, int]:
    """A stored pack rendered again from its snapshot and its stored chart images: the same pages."""
    return render_pack(pack.snapshot, charts=pack.charts)


def pack_filename(session: Session) -> str:
    """``weekly-ops-review-2026-03-03-review-pack.pdf``: forum and local date, readable."""
    day = timezone.localtime(session.scheduled_at).date().isoformat()
    return f"{slugify(session.forum.name, allow_unicode=True) or 'forum'}-{day}-review-pack.pdf"


# --- build and send -------------------------------------------------------------------------------


def _sent_pack(session: Session) -> ReviewPack | None:
    return ReviewPack.objects.filter(session=session, sent_at__isnull=False).only("pk", "sent_at").first()


def _require_buildable(session: Session) -> None:
    sent = _sent_pack(session)
    if sent is not None:
        raise TransitionNotAllowed(
            _("The review pack went out on %(when)s: it is frozen as sent and cannot be rebuilt.")
            % {"when": timezone.localtime(sent.sent_at).strftime("%Y-%m-%d %H:%M")},
            field="pack",
        )
    if session.state != SessionState.SCHEDULED:
        raise TransitionNotAllowed(
            _("A review pack is built before the meeting; this session is already %(state)s.")
            % {"state": session.get_state_display().lower()},
            field="pack",
        )


def _require_sendable(session: Session) -> None:
    _require_buildable(session)
    ok, reason = session.can_send_pack()
    if not ok:
        raise DomainError(reason, field="decision_requested")


def _store(session: Session, rendered: RenderedPack, by) -> ReviewPack:
    pack, _created = ReviewPack.objects.update_or_create(
        session=session,
        defaults={
            "snapshot": rendered.snapshot,
            "charts": rendered.charts,
            "pdf": rendered.pdf,
            "pdf_sha256": rendered.sha256,
            "page_count": rendered.page_count,
            "built_at": rendered.built_at,
            "built_by": by,
        },
    )
    return pack


def pack_build(*, session: Session, by=None, now: datetime.datetime | None = None) -> ReviewPack:
    """Build (or rebuild) the session's pack from the data as it is now. Only while the session
    is scheduled and the pack not yet sent; ``by=None`` is the scheduled job."""
    if by is not None:
        session.forum.require_change(by)
    _require_buildable(session)
    rendered = pack_render(session, now=now)
    with transaction.atomic():
        fresh = lock(session)
        _require_buildable(fresh)
        return _store(fresh, rendered, by)


def _packed_decision(pack: ReviewPack) -> str:
    sections = (pack.snapshot or {}).get("sections") or [{}]
    return sections[0].get("decision", "")


def pack_recipients(session: Session) -> tuple[list, list]:
    """(people who get the pack by e-mail, people expected but without an e-mail address)."""
    people = session_attendees(session)
    return [p for p in people if p.email], [p for p in people if not p.email]


def pack_send(
    *, session: Session, by=None, rebuild: bool = False, now: datetime.datetime | None = None
) -> ReviewPack:
    """Send the session's pack to its attendees now.

    Refused without a decision requested (``Session.can_send_pack``) or once sent. The pack is
    built first when there is none, when ``rebuild`` (the scheduled job: the data as it is at the
    pack time), or when the decision requested changed since it was built; a pack a person built
    and read is otherwise sent as it is. Then, in one transaction: the pack is frozen, the session
    moves to "pack sent", one delivery per attendee with an e-mail address is written, and each
    delivery's task is queued once the transaction commits."""
    from forums.tasks import send_pack_delivery

    if by is not None:
        session.forum.require_change(by)
    _require_sendable(session)
    pack = ReviewPack.objects.filter(session=session).defer("pdf", "charts").first()
    stale = pack is None or rebuild or _packed_decision(pack) != session.decision_requested
    rendered = pack_render(session, now=now) if stale else None

    with transaction.atomic():
        fresh = lock(session)
        _require_sendable(fresh)
        if rendered is not None:
            pack = _store(fresh, rendered, by)
        else:
            pack = ReviewPack.objects.select_for_update().defer("pdf", "charts").get(session=fresh)
            if _packed_decision(pack) != fresh.decision_requested:
                raise TransitionNotAllowed(
                    _("The decision requested changed while the pack was being sent: send it again."),
                    field="decision_requested",
                )
        fresh.mark_pack_sent(by=by)
        pack.sent_at = now or timezone.now()
        pack.save(update_fields=["sent_at"])
        reachable, _unreachable = pack_recipients(fresh)
        deliveries = PackDelivery.objects.bulk_create(
            [PackDelivery(pack=pack, recipient=person, email=person.email) for person in reachable]
        )
        for delivery in deliveries:
            enqueue_on_commit(send_pack_delivery, delivery.pk)
    session.state = fresh.state
    return pack


# --- the scheduled job ------------------------------------------------------------------------


def sessions_due(now: datetime.datetime):
    """Scheduled sessions whose pack time has come: ``scheduled_at - pack_lead_hours <= now <
    scheduled_at``. One query (the window is bounded by the longest lead time in SQL, each
    forum's own lead time checked on the rows)."""
    longest = Forum.objects.aggregate(longest=Max("pack_lead_hours"))["longest"] or 0
    candidates = (
        Session.objects.filter(
            state=SessionState.SCHEDULED,
            scheduled_at__gt=now,
            scheduled_at__lte=now + datetime.timedelta(hours=longest),
        )
        .select_related("forum__owner")
        .prefetch_related("forum__scope")
        .order_by("scheduled_at", "pk")
    )
    return [
        session
        for session in candidates
        if session.scheduled_at - datetime.timedelta(hours=session.forum.pack_lead_hours) <= now
    ]


def _tell_owner_once(session: Session, reason: str, now: datetime.datetime) -> bool:
    """Tell the forum's owner, once per session, that its pack cannot go out (the stamp is
    taken with a conditional UPDATE, so two runs of the job never both tell)."""
    with transaction.atomic():
        first = Session.objects.filter(pk=session.pk, pack_refused_notified_at__isnull=True).update(
            pack_refused_notified_at=now
        )
        if not first:
            return False
        local = timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d %H:%M")
        notify(
            recipients=[session.forum.owner],
            subject=_("Review pack not sent: %(forum)s, %(when)s")
            % {"forum": session.forum.name, "when": local},
            body=_(
                "The review pack of %(forum)s on %(when)s was due to go out to the attendees, but it "
                "cannot be sent: %(reason)s It goes out at the next run of the pack job once the "
                "decision requested is written."
            )
            % {"forum": session.forum.name, "when": local, "reason": reason},
            url=session.get_absolute_url(),
        )
    return True


def deliveries_requeue(now: datetime.datetime) -> list[int]:
    """Queue again the deliveries of packs sent at least REQUEUE_AFTER ago that are still unsent
    and unclaimed (their task gave up or was lost), while the session is still ahead and they
    have attempts left. The claim makes a duplicate task harmless."""
    from forums.tasks import send_pack_delivery

    ids = list(
        PackDelivery.objects.filter(
            sent_at__isnull=True,
            attempts__lt=MAX_ATTEMPTS,
            created_at__lte=now - REQUEUE_AFTER,
            pack__session__scheduled_at__gt=now,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT))
        .values_list("pk", flat=True)
    )
    for pk in ids:
        enqueue_on_commit(send_pack_delivery, pk)
    return ids


def packs_send_due(*, now: datetime.datetime | None = None) -> dict:
    """The pack job: send every due pack (``sessions_due``), built fresh; a session without a
    decision requested is not sent and its forum's owner is told once, however often this runs.
    One session's failure is logged and does not stop the others; its session stays scheduled,
    so the next run tries again. Returns what it did, by session id."""
    now = now or timezone.now()
    done = {"sent": [], "refused": [], "failed": [], "requeued": []}
    for session in sessions_due(now):
        ok, reason = session.can_send_pack()
        if not ok:
            if _tell_owner_once(session, reason, now):
                done["refused"].append(session.pk)
            continue
        try:
            pack_send(session=session, by=None, rebuild=True, now=now)
        except DomainError as error:  # moved or changed meanwhile: nothing to send now
            logger.info("Pack of session %s not sent: %s", session.pk, error.message)
            done["failed"].append(session.pk)
        except Exception:
            logger.exception("Pack of session %s failed to build or send", session.pk)
            done["failed"].append(session.pk)
        else:
            done["sent"].append(session.pk)
    with transaction.atomic():
        done["requeued"] = deliveries_requeue(now)
    return done


# --- one delivery ---------------------------------------------------------------------------------


def delivery_claim(delivery_id: int, *, task_id: str = "") -> bool:
    """Take the right to send one delivery; False when sent, or being sent by another worker
    (a claim older than CLAIM_TIMEOUT belongs to a worker that died and may be taken). A claim
    held by the same task id is taken back: the broker hands a task out again only when the
    worker that ran it is gone (acks_late, after the visibility timeout)."""
    now = timezone.now()
    free = Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_TIMEOUT)
    if task_id:
        free |= Q(claimed_by=task_id)
    return bool(
        PackDelivery.objects.filter(free, pk=delivery_id, sent_at__isnull=True).update(
            claimed_at=now, claimed_by=task_id, attempts=F("attempts") + 1
        )
    )


def pack_url(session: Session) -> str:
    """The pack page's address as people open ProductOps (PRODUCTOPS_BASE_URL)."""
    path = reverse("forums:session-pack", kwargs={"pk": session.pk})
    return settings.PRODUCTOPS_BASE_URL.rstrip("/") + path


def pack_email(delivery: PackDelivery) -> EmailMessage:
    """The e-mail of one delivery: the decision requested, the link to the pack page, the PDF."""
    pack = delivery.pack
    session = pack.session
    when = timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d %H:%M")
    subject = _("Review pack: %(forum)s, %(when)s") % {"forum": session.forum.name, "when": when}
    body = _(
        "%(forum)s meets on %(when)s.\n\n"
        "Decision requested:\n%(decision)s\n\n"
        "The review pack is attached (%(pages)s pages). Read it online: %(url)s\n"
    ) % {
        "forum": session.forum.name,
        "when": when,
        "decision": pack.snapshot["sections"][0].get("decision", ""),
        "pages": pack.page_count,
        "url": pack_url(session),
    }
    message = EmailMessage(subject=subject, body=body, to=[delivery.email])
    message.attach(pack_filename(session), bytes(pack.pdf), "application/pdf")
    return message


def delivery_send(delivery_id: int, *, task_id: str = "") -> bool:
    """Send one claimed delivery and mark it sent; False when there was nothing to do. On a mail
    failure the claim is released and the error recorded (the task retries), then it raises.
    ``task_id`` names the claim (see ``delivery_claim``)."""
    if not delivery_claim(delivery_id, task_id=task_id):
        return False
    delivery = PackDelivery.objects.select_related("pack__session__forum").get(pk=delivery_id)
    try:
        pack_email(delivery).send(fail_silently=False)
    except Exception as exc:
        PackDelivery.objects.filter(pk=delivery_id).update(
            claimed_at=None,
            claimed_by="",
            status=DeliveryStatus.FAILED,
            last_error=str(exc)[:2000] or type(exc).__name__,
        )
        raise
    PackDelivery.objects.filter(pk=delivery_id).update(status=DeliveryStatus.SENT, sent_at=timezone.now())
    return True


# --- what the session page shows ------------------------------------------------------------------


def pack_panel(session: Session, user, *, with_snapshot: bool = False) -> dict:
    """The pack panel of a session page (and the API's answer): the pack's state (its PDF and
    images left in the database, and its snapshot unless asked for), the delivery per recipient,
    who is expected but has no e-mail address, whether the pack may be sent now and why not, and
    what this person may do. A fixed number of queries whatever the number of attendees."""
    heavy = [name for name in HEAVY_FIELDS if not (with_snapshot and name == "snapshot")]
    pack = ReviewPack.objects.filter(session=session).defer(*heavy).select_related("built_by").first()
    deliveries = list(pack.deliveries.order_by("email", "pk")) if pack else []
    reachable, unreachable = pack_recipients(session)
    can_edit = session.forum.can_be_changed_by(user)
    frozen = pack is not None and pack.is_frozen
    if frozen:
        send_ok = False
        send_refusal = _("The review pack went out on %(when)s.") % {
            "when": timezone.localtime(pack.sent_at).strftime("%Y-%m-%d %H:%M")
        }
    else:
        send_ok, send_refusal = session.can_send_pack()
    return {
        "session": session,
        "pack": pack,
        "deliveries": deliveries,
        "delivery_counts": {
            status: sum(1 for delivery in deliveries if delivery.status == status)
            for status in DeliveryStatus.values
        },
        "reachable": reachable,
        "unreachable": unreachable,
        "can_edit": can_edit,
        "can_build": can_edit and not frozen and session.state == SessionState.SCHEDULED,
        "send_ok": send_ok,
        "send_refusal": send_refusal,
        "can_send": can_edit and send_ok,
        "pdf_filename": pack_filename(session),
        "pack_due_at": session.scheduled_at - datetime.timedelta(hours=session.forum.pack_lead_hours),
    }
