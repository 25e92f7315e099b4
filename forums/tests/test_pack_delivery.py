"""Review packs of sessions: built as a frozen snapshot, sent once to every attendee with an
e-mail address, by a person or by the pack job at the forum's lead time; each e-mail claimed
before it is sent, retried on failure, never sent twice."""

import base64
import datetime
import hashlib
import io

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.mail.backends.locmem import EmailBackend
from django.utils import timezone
from pypdf import PdfReader

from contracts.tests.factories import EvaluationFactory, MetricContractFactory
from forums import charts_static
from forums.choices import Cadence, DeliveryStatus, Frequency, SessionState, Weekday
from forums.models import PackDelivery, ReviewPack, Session
from forums.pack_delivery import (
    delivery_send,
    pack_build,
    pack_rerender,
    pack_send,
    packs_send_due,
    sessions_due,
)
from forums.packs import SECTION_HEADINGS
from forums.services import forum_create
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = pytest.mark.django_db

DECISION = "Scale agent assist to the collections queue (扩大到催收队列)"


@pytest.fixture(autouse=True, scope="module")
def _kaleido_session():
    """One Chromium for the module, stopped while pytest still owns the log streams."""
    yield
    charts_static.stop()


def evaluations(contract, values, start=datetime.date(2026, 1, 5)):
    for week, value in enumerate(values):
        EvaluationFactory(
            contract=contract,
            period_start=start + datetime.timedelta(weeks=week),
            value=value,
            level=contract.level_of(value),
            raw_level=contract.level_of(value),
        )


def weekly_forum(owner, capability, *, attendees=(), roles=(), name="Weekly ops review", lead_hours=24):
    forum = forum_create(
        by=owner,
        scope=[capability],
        attendees=[owner, *attendees],
        name=name,
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=owner,
        attendee_roles=list(roles),
        decision_types=["continue"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
    )
    forum.pack_lead_hours = lead_hours
    forum.save(update_fields=["pack_lead_hours"])
    return forum


def pack_session(forum, *, hours_ahead=20, decision=DECISION):
    return Session.objects.create(
        forum=forum,
        scheduled_at=timezone.now().replace(microsecond=0) + datetime.timedelta(hours=hours_ahead),
        decision_requested=decision,
    )


@pytest.fixture
def no_mail(make_person, capability):
    """An ops lead on the capability with no e-mail address on file."""
    person = make_person("ops", capability, username="no-mail")
    person.email = ""
    person.save(update_fields=["email"])
    return person


@pytest.fixture
def forum(pm, capability, risk, no_mail):
    """Weekly ops review of ``capability``: the PM owns it, the ops lead without an e-mail
    address is invited by name, risk partners come by role."""
    contract = MetricContractFactory(capability=capability, metric_id="cc.repeat_contact", status="active")
    evaluations(contract, [9.0, 10.0, 11.0, 12.5, 13.0])
    return weekly_forum(pm, capability, attendees=[no_mail], roles=["risk_compliance"])


@pytest.fixture
def session(forum):
    return pack_session(forum)


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def pdf_images(pdf: bytes) -> set[bytes]:
    return {image.data for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images}


# --- build ---------------------------------------------------------------------------------------


def test_build_stores_the_snapshot_its_chart_images_and_the_pdf(session, pm):
    pack = pack_build(session=session, by=pm)

    stored = ReviewPack.objects.get(session=session)
    assert stored.pk == pack.pk and stored.built_by == pm and stored.sent_at is None
    assert stored.snapshot["sections"][0]["key"] == "decision_requested"
    assert stored.snapshot["sections"][0]["decision"] == DECISION
    assert (
        stored.snapshot["sections"][0]["deadline"]
        == timezone.localtime(session.scheduled_at).date().isoformat()
    )
    assert stored.snapshot["meta"]["capabilities"] == ["Contact-centre agent assist"]
    assert list(stored.charts) == ["cc.repeat_contact"]
    assert base64.b64decode(stored.charts["cc.repeat_contact"]).startswith(b"\x89PNG")
    pdf = bytes(stored.pdf)
    assert stored.pdf_sha256 == hashlib.sha256(pdf).hexdigest()
    pages = pdf_pages(pdf)
    assert stored.page_count == len(pages)
    assert "扩大到催收队列" in pages[0]
    for heading in SECTION_HEADINGS:
        assert heading in "\n".join(pages), heading
    session.refresh_from_db()
    assert session.state == SessionState.SCHEDULED


def test_a_forum_without_scope_packs_the_whole_organisation(pm, capability, other_capability, org_pm):
    forum = forum_create(
        by=org_pm,
        name="Org triage",
        cadence=Cadence.DAILY_SIGNAL_TRIAGE,
        owner=org_pm,
        decision_types=["continue"],
        frequency=Frequency.DAILY,
        time_of_day=datetime.time(9, 0),
    )
    pack = pack_build(session=pack_session(forum), by=org_pm)
    assert pack.snapshot["meta"]["capabilities"] == [
        "Contact-centre agent assist",
        "KYC onboarding assistant",
    ]


def test_rendering_a_stored_pack_again_gives_the_same_pdf_after_the_data_moved_on(session, pm, capability):
    pack = pack_build(session=session, by=pm)
    stored_pdf = bytes(pack.pdf)
    # The data moves on after the pack was built: a new week past breach, a new contract.
    contract = MetricContractFactory(capability=capability, metric_id="cc.late_contract", status="active")
    evaluations(contract, [1.0, 2.0, 30.0])
    from contracts.models import MetricContract

    MetricContract.objects.filter(metric_id="cc.repeat_contact").update(name="Renamed since")

    again, pages = pack_rerender(ReviewPack.objects.get(pk=pack.pk))

    assert again == stored_pdf  # byte for byte: WeasyPrint writes no date or random id
    assert pdf_pages(again) == pdf_pages(stored_pdf) and pages == pack.page_count
    assert pdf_images(again) == pdf_images(stored_pdf) and len(pdf_images(again)) == 1
    assert "Renamed since" not in "\n".join(pdf_pages(again))
    # ...while a pack built now shows the new data: the comparison above is not vacuous.
    rebuilt = pack_build(session=session, by=pm)
    assert "Renamed since" in "\n".join(pdf_pages(bytes(rebuilt.pdf)))
    assert set(rebuilt.charts) == {"cc.repeat_contact", "cc.late_contract"}


def test_rebuilding_before_sending_replaces_the_one_pack(session, pm):
    first = pack_build(session=session, by=pm)
    session.decision_requested = "Restrict agent assist to billing calls"
    session.save(update_fields=["decision_requested"])

    second = pack_build(session=session, by=None)

    assert ReviewPack.objects.filter(session=session).count() == 1
    assert second.pk == first.pk and second.built_by is None
    assert ReviewPack.objects.get(pk=first.pk).snapshot["sections"][0]["decision"] == (
        "Restrict agent assist to billing calls"
    )


def test_a_sent_pack_is_frozen(session, pm):
    pack_send(session=session, by=pm)
    sent = ReviewPack.objects.get(session=session)

    with pytest.raises(TransitionNotAllowed, match="frozen as sent"):
        pack_build(session=session, by=pm)
    with pytest.raises(TransitionNotAllowed, match="frozen as sent"):
        pack_send(session=Session.objects.get(pk=session.pk), by=pm)

    after = ReviewPack.objects.get(session=session)
    assert after.pdf_sha256 == sent.pdf_sha256 and after.built_at == sent.built_at


def test_a_pack_is_not_built_once_the_meeting_started(session, pm):
    session.start(by=pm)
    with pytest.raises(TransitionNotAllowed, match="before the meeting"):
        pack_build(session=session, by=pm)
    assert not ReviewPack.objects.exists()


def test_a_viewer_may_not_build_or_send(session, viewer):
    with pytest.raises(PermissionDenied):
        pack_build(session=session, by=viewer)
    with pytest.raises(PermissionDenied):
        pack_send(session=session, by=viewer)
    assert not ReviewPack.objects.exists()


# --- send ------------------------------------------------------------------------------------------


def test_send_is_refused_without_a_decision_requested_and_writes_nothing(forum, pm):
    session = pack_session(forum, decision="   ")
    with pytest.raises(DomainError) as refused:
        pack_send(session=session, by=pm)
    assert refused.value.field == "decision_requested"
    assert "decision requested" in refused.value.message
    session.refresh_from_db()
    assert session.state == SessionState.SCHEDULED
    assert not ReviewPack.objects.exists() and not PackDelivery.objects.exists()


def test_send_writes_one_delivery_per_attendee_with_an_address_and_emails_the_pdf(
    session, pm, risk, no_mail, django_capture_on_commit_callbacks, settings
):
    settings.PRODUCTOPS_BASE_URL = "https://productops.bank.test"
    with django_capture_on_commit_callbacks(execute=True) as queued:
        pack = pack_send(session=session, by=pm)

    session.refresh_from_db()
    assert session.state == SessionState.PACK_SENT
    assert pack.sent_at is not None
    deliveries = list(PackDelivery.objects.order_by("email"))
    assert [(d.recipient, d.email) for d in deliveries] == [
        (pm, "pm@example.test"),
        (risk, "risk@example.test"),
    ]
    assert no_mail not in [d.recipient for d in deliveries]  # no address: shown, not sent
    assert len(queued) == 2
    assert all(d.status == DeliveryStatus.SENT and d.attempts == 1 and d.sent_at for d in deliveries)

    assert sorted(message.to[0] for message in mail.outbox) == ["pm@example.test", "risk@example.test"]
    message = mail.outbox[0]
    day = timezone.localtime(session.scheduled_at).date().isoformat()
    assert message.subject.startswith("Review pack: Weekly ops review")
    assert DECISION in message.body
    assert f"https://productops.bank.test/forums/sessions/{session.pk}/pack/" in message.body
    (filename, content, mimetype) = message.attachments[0]
    assert filename == f"weekly-ops-review-{day}-review-pack.pdf" and mimetype == "application/pdf"
    assert content == bytes(ReviewPack.objects.get(pk=pack.pk).pdf)


def test_send_sends_the_pack_as_built_when_the_decision_is_unchanged(session, pm):
    built = pack_build(session=session, by=pm)
    pack_send(session=session, by=pm)
    sent = ReviewPack.objects.get(session=session)
    assert sent.built_at == built.built_at and sent.pdf_sha256 == built.pdf_sha256


def test_send_rebuilds_when_the_decision_requested_changed_since_the_build(session, pm):
    pack_build(session=session, by=pm)
    session.decision_requested = "Hold the billing intent"
    session.save(update_fields=["decision_requested"])

    pack_send(session=session, by=pm)

    sent = ReviewPack.objects.get(session=session)
    assert sent.snapshot["sections"][0]["decision"] == "Hold the billing intent"
    assert "Hold the billing intent" in pdf_pages(bytes(sent.pdf))[0]


# --- the pack job ----------------------------------------------------------------------------------


def test_the_job_sends_only_sessions_whose_pack_time_has_come(forum, pm):
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        now = timezone.now()
        due = Session.objects.create(
            forum=forum, scheduled_at=now + datetime.timedelta(hours=23), decision_requested="A"
        )
        later = Session.objects.create(
            forum=forum, scheduled_at=now + datetime.timedelta(hours=25), decision_requested="B"
        )
        Session.objects.create(
            forum=forum, scheduled_at=now - datetime.timedelta(hours=1), decision_requested="C"
        )
        exactly = Session.objects.create(
            forum=forum, scheduled_at=now + datetime.timedelta(hours=24), decision_requested="D"
        )

        assert [s.pk for s in sessions_due(now)] == [due.pk, exactly.pk]
        done = packs_send_due()
        assert sorted(done["sent"]) == sorted([due.pk, exactly.pk])
        assert packs_send_due() == {"sent": [], "refused": [], "failed": [], "requeued": []}

    with time_machine.travel(datetime.datetime(2026, 3, 2, 10, 0, 1, tzinfo=datetime.UTC), tick=False):
        assert packs_send_due()["sent"] == [later.pk]

    states = dict(Session.objects.values_list("decision_requested", "state"))
    assert states == {"A": "pack_sent", "B": "pack_sent", "C": "scheduled", "D": "pack_sent"}
    assert ReviewPack.objects.get(session=due).built_by is None


def test_the_job_uses_each_forums_lead_time(pm, capability):
    early = weekly_forum(pm, capability, name="Early pack", lead_hours=72)
    late = weekly_forum(pm, capability, name="Late pack", lead_hours=2)
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC), tick=False):
        now = timezone.now()
        in_three_days = Session.objects.create(
            forum=early, scheduled_at=now + datetime.timedelta(hours=70), decision_requested="x"
        )
        Session.objects.create(
            forum=late, scheduled_at=now + datetime.timedelta(hours=3), decision_requested="y"
        )
        assert sessions_due(now) == [in_three_days]


def test_the_job_rebuilds_a_preview_with_the_data_at_pack_time(session, pm):
    preview = pack_build(session=session, by=pm)
    packs_send_due()
    sent = ReviewPack.objects.get(session=session)
    assert sent.sent_at and sent.built_at > preview.built_at and sent.built_by is None


def test_the_job_tells_the_owner_once_when_a_session_has_no_decision_requested(forum, pm):
    session = pack_session(forum, decision="")

    for _run in range(3):
        done = packs_send_due()

    notices = Notification.objects.filter(recipient=pm, subject__startswith="Review pack not sent")
    assert notices.count() == 1
    assert "decision requested" in notices.get().body and notices.get().url == session.get_absolute_url()
    session.refresh_from_db()
    assert session.state == SessionState.SCHEDULED and session.pack_refused_notified_at is not None
    assert done["refused"] == [] and not ReviewPack.objects.exists()

    # Once written, the next run sends it.
    session.decision_requested = "Continue as is"
    session.save(update_fields=["decision_requested"])
    assert packs_send_due()["sent"] == [session.pk]
    assert Notification.objects.filter(subject__startswith="Review pack not sent").count() == 1


# --- one delivery ---------------------------------------------------------------------------------


class FailsFirstSend(EmailBackend):
    """An e-mail backend that refuses the first message to each address, then delivers."""

    refused: set = set()

    def send_messages(self, messages):
        for message in messages:
            for address in message.to:
                if address not in self.refused:
                    FailsFirstSend.refused.add(address)
                    raise ConnectionRefusedError(f"451 mailbox busy: {address}")
        return super().send_messages(messages)


@pytest.fixture
def flaky_mail(settings):
    FailsFirstSend.refused = set()
    settings.EMAIL_BACKEND = f"{__name__}.FailsFirstSend"


def test_a_failed_send_releases_the_claim_records_the_error_and_a_retry_sends_once(
    session, pm, flaky_mail, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        pack_send(session=session, by=pm)
    delivery = PackDelivery.objects.get(email="pm@example.test")

    with pytest.raises(ConnectionRefusedError):
        delivery_send(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.FAILED and delivery.attempts == 1
    assert delivery.claimed_at is None and delivery.sent_at is None
    assert "451 mailbox busy" in delivery.last_error
    assert mail.outbox == []

    assert delivery_send(delivery.pk) is True
    assert delivery_send(delivery.pk) is False  # a redelivered task: nothing more
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SENT and delivery.attempts == 2 and delivery.sent_at
    assert [message.to for message in mail.outbox] == [["pm@example.test"]]


def test_a_delivery_claimed_by_another_worker_is_left_alone_until_the_claim_is_stale(
    session, pm, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        pack_send(session=session, by=pm)
    delivery = PackDelivery.objects.get(email="pm@example.test")
    PackDelivery.objects.filter(pk=delivery.pk).update(claimed_at=timezone.now())

    assert delivery_send(delivery.pk) is False
    assert mail.outbox == []

    PackDelivery.objects.filter(pk=delivery.pk).update(
        claimed_at=timezone.now() - datetime.timedelta(minutes=11)
    )
    assert delivery_send(delivery.pk) is True
    assert len(mail.outbox) == 1


def test_the_job_queues_again_a_delivery_its_task_gave_up_on(session, pm, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        pack_send(session=session, by=pm)
    PackDelivery.objects.update(
        status=DeliveryStatus.FAILED, attempts=6, created_at=timezone.now() - datetime.timedelta(hours=2)
    )
    PackDelivery.objects.filter(email="risk@example.test").update(attempts=12)  # given up for good

    with django_capture_on_commit_callbacks(execute=True):
        done = packs_send_due()

    pm_delivery = PackDelivery.objects.get(email="pm@example.test")
    assert done["requeued"] == [pm_delivery.pk]
    assert pm_delivery.status == DeliveryStatus.SENT and pm_delivery.attempts == 7
    assert [message.to for message in mail.outbox] == [["pm@example.test"]]
