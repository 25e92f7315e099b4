"""The pack job and the pack e-mails with a REAL Celery worker against Redis: the job builds each
due pack and e-mails it with the PDF attached, once to each attendee; a first SMTP attempt that
the mail server refuses is retried and the pack is delivered exactly once; running the job again
(or a task delivered twice) sends nothing more."""

import email
import io
import socketserver
import threading
import time

import pytest
from django.utils import timezone
from pypdf import PdfReader

from forums import charts_static
from forums.choices import DeliveryStatus, SessionState
from forums.models import PackDelivery, ReviewPack, Session
from forums.pack_delivery import pack_send
from forums.tasks import send_due_packs, send_pack_delivery
from forums.tests.test_pack_delivery import evaluations, pack_session, weekly_forum

pytestmark = pytest.mark.django_db(transaction=True)

DECISION = "Restrict agent assist to billing calls (限制到账单来电)"


@pytest.fixture(autouse=True, scope="module")
def _kaleido_session():
    yield
    charts_static.stop()


class RefuseOnceSMTP(socketserver.ThreadingTCPServer):
    """A local SMTP server speaking just enough of RFC 5321 for Django's SMTP backend. It answers
    the first DATA for each address in ``refuse_first`` with ``451`` (a temporary failure, what a
    busy relay says), then accepts; ``accepted`` holds the raw messages it took, by recipient."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, refuse_first=()):
        super().__init__(("127.0.0.1", 0), _SMTPSession)
        self.refuse_first = set(refuse_first)
        self.refused: list[str] = []
        self.accepted: dict[str, list[bytes]] = {}
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return self.server_address[1]


class _SMTPSession(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self):
        server = self.server
        self.reply("220 localhost test SMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("ascii", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb == "EHLO":
                self.reply("250-localhost")
                self.reply("250 8BITMIME")
            elif verb == "HELO":
                self.reply("250 localhost")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(command.split(":", 1)[1].strip().strip("<>").lower())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = []
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.append(chunk[1:] if chunk.startswith(b"..") else chunk)
                with server.lock:
                    refuse = [address for address in recipients if address in server.refuse_first]
                    if refuse:
                        server.refuse_first -= set(refuse)
                        server.refused.extend(refuse)
                        self.reply("451 4.3.2 Mailbox busy, try again later")
                        continue
                    for address in recipients:
                        server.accepted.setdefault(address, []).append(b"".join(data))
                self.reply("250 OK queued")
            elif verb in ("RSET", "NOOP"):
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:
                self.reply("502 Command not implemented")


@pytest.fixture
def smtp_listener():
    server = RefuseOnceSMTP(refuse_first=["risk@example.test"])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def celery_worker_env(request):
    """The worker mails through the local SMTP listener when the test asks for one."""
    if "smtp_listener" in request.fixturenames:
        return {"EMAIL_URL": f"smtp://127.0.0.1:{request.getfixturevalue('smtp_listener').port}"}
    return {}


@pytest.fixture
def due_session(pm, capability, risk, make_person):
    """A weekly ops review in two hours (pack lead time 24 h: due now), with the PM and the risk
    partner reachable and an ops lead without an e-mail address."""
    from contracts.tests.factories import MetricContractFactory

    no_mail = make_person("ops", capability, username="no-mail")
    no_mail.email = ""
    no_mail.save(update_fields=["email"])
    contract = MetricContractFactory(capability=capability, metric_id="cc.repeat_contact", status="active")
    evaluations(contract, [9.0, 10.0, 11.0, 12.5, 13.0])
    forum = weekly_forum(pm, capability, attendees=[no_mail], roles=["risk_compliance"])
    return pack_session(forum, hours_ahead=2, decision=DECISION)


def wait_for(condition, worker, *, seconds=120, what="the worker"):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker.process.poll() is not None:
            break
        time.sleep(0.25)
    pytest.fail(f"Timed out waiting for {what}. Worker log:\n{worker.log_path.read_text()[-4000:]}")


def wait_for_tasks(worker, results, **kwargs):
    """Until the worker logged each task (by id) as finished."""
    ids = [result.id for result in results]
    wait_for(
        lambda: all(f"[{task_id}] succeeded" in worker.log_path.read_text() for task_id in ids),
        worker,
        what=f"tasks {ids}",
        **kwargs,
    )


def all_sent():
    deliveries = list(PackDelivery.objects.all())
    return bool(deliveries) and all(delivery.status == DeliveryStatus.SENT for delivery in deliveries)


def test_the_pack_job_emails_the_pdf_once_to_each_attendee(real_celery_worker, due_session):
    job = send_due_packs.delay()
    wait_for_tasks(real_celery_worker, [job], seconds=180)
    wait_for(all_sent, real_celery_worker, what="every delivery sent")

    session = Session.objects.get(pk=due_session.pk)
    assert session.state == SessionState.PACK_SENT
    pack = ReviewPack.objects.get(session=session)
    assert pack.sent_at and pack.built_by is None
    files = sorted(real_celery_worker.mail_dir.iterdir())
    messages = [email.message_from_bytes(path.read_bytes()) for path in files]
    assert sorted(message["To"] for message in messages) == ["pm@example.test", "risk@example.test"]
    day = timezone.localtime(session.scheduled_at).date().isoformat()
    for message in messages:
        body, attachment = [part for part in message.walk() if not part.is_multipart()]
        assert "限制到账单来电" in body.get_payload(decode=True).decode()
        assert attachment.get_content_type() == "application/pdf"
        assert attachment.get_filename() == f"weekly-ops-review-{day}-review-pack.pdf"
        pdf = attachment.get_payload(decode=True)
        assert pdf == bytes(pack.pdf)
        first_page = PdfReader(io.BytesIO(pdf)).pages[0].extract_text().replace("\n", "")
        assert "限制到账单来电" in first_page  # the decision requested on page 1 (it may wrap)
    assert all(delivery.attempts == 1 for delivery in PackDelivery.objects.all())

    # Running the job again, and delivering every e-mail task a second time, sends nothing more.
    again = [send_due_packs.delay()] + [send_pack_delivery.delay(d.pk) for d in PackDelivery.objects.all()]
    wait_for_tasks(real_celery_worker, again)
    assert len(list(real_celery_worker.mail_dir.iterdir())) == 2
    assert all(delivery.attempts == 1 for delivery in PackDelivery.objects.all())


def test_a_refused_first_attempt_is_retried_and_delivered_exactly_once(
    real_celery_worker, smtp_listener, due_session, pm
):
    pack_send(session=due_session, by=pm)  # built here; the e-mails go through the worker

    wait_for(all_sent, real_celery_worker, seconds=90, what="every delivery sent")

    assert smtp_listener.refused == ["risk@example.test"]
    assert {address: len(raw) for address, raw in smtp_listener.accepted.items()} == {
        "pm@example.test": 1,
        "risk@example.test": 1,
    }
    refused_once = PackDelivery.objects.get(email="risk@example.test")
    assert refused_once.attempts == 2 and "451" in refused_once.last_error and refused_once.sent_at
    assert PackDelivery.objects.get(email="pm@example.test").attempts == 1
    message = email.message_from_bytes(smtp_listener.accepted["risk@example.test"][0])
    pdfs = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_payload(decode=True) == bytes(ReviewPack.objects.get().pdf)
    assert "Retry in 5s" in real_celery_worker.log_path.read_text()

    again = [send_due_packs.delay()] + [send_pack_delivery.delay(d.pk) for d in PackDelivery.objects.all()]
    wait_for_tasks(real_celery_worker, again)
    assert {address: len(raw) for address, raw in smtp_listener.accepted.items()} == {
        "pm@example.test": 1,
        "risk@example.test": 1,
    }
    assert PackDelivery.objects.get(email="risk@example.test").attempts == 2
