"""The review pack's pages and API: the pack as a page and as the PDF, build and send now (POST
only, for people who may change the forum, 404 for outsiders), the session panel with the
delivery per recipient, each at a fixed number of queries."""

import datetime
import hashlib

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from forums import charts_static
from forums.choices import DeliveryStatus, SessionState
from forums.models import PackDelivery, ReviewPack, Session
from forums.pack_delivery import session_snapshot
from forums.packs import SECTION_HEADINGS
from forums.tests.test_pack_delivery import DECISION, evaluations, pack_session, weekly_forum
from portfolio.tests.factories import RoleAssignmentFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _kaleido_session():
    yield
    charts_static.stop()


@pytest.fixture
def forum(pm, capability, no_mail_person, risk):
    from contracts.tests.factories import MetricContractFactory

    contract = MetricContractFactory(capability=capability, metric_id="cc.repeat_contact", status="active")
    evaluations(contract, [9.0, 10.0, 11.0, 12.5])
    return weekly_forum(pm, capability, attendees=[no_mail_person], roles=["risk_compliance"])


@pytest.fixture
def no_mail_person(make_person, capability):
    person = make_person("ops", capability, username="no-mail")
    person.first_name, person.last_name, person.email = "Nadia", "Nomail", ""
    person.save()
    return person


@pytest.fixture
def session(forum):
    return pack_session(forum)


def stored_pack(session, *, sent=False, charts=None) -> ReviewPack:
    """A pack row straight from the snapshot, without drawing charts or a PDF (fast)."""
    now = timezone.now()
    pdf = b"%PDF-1.7 stand-in " + str(session.pk).encode()
    return ReviewPack.objects.create(
        session=session,
        snapshot=session_snapshot(session, built_at=now),
        charts=charts or {},
        pdf=pdf,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        page_count=3,
        built_at=now,
        sent_at=now if sent else None,
    )


def url(name, session):
    return reverse(f"forums:session-pack{name}", kwargs={"pk": session.pk})


# --- the pack page and the PDF ------------------------------------------------------------------


def test_the_pack_page_shows_the_stored_snapshot_with_its_stored_images(client_for, viewer, session):
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    pack = stored_pack(session, charts={"cc.repeat_contact": png})
    # The data moves on; the page shows the pack as built.
    session.decision_requested = "Something else now"
    session.save(update_fields=["decision_requested"])

    response = client_for(viewer).get(url("", session))

    assert response.status_code == 200
    html = response.content.decode()
    assert DECISION in html and "Something else now" not in html
    for heading in SECTION_HEADINGS:
        assert heading.replace("&", "&amp;") in html, heading
    assert f'src="data:image/png;base64,{png}"' in html
    assert url("-pdf", session) in html and session.get_absolute_url() in html
    assert pack.snapshot["meta"]["built_at_text"] in html


def test_the_pack_page_and_pdf_are_404_before_a_pack_is_built(client_for, pm, session):
    client = client_for(pm)
    assert client.get(url("", session)).status_code == 404
    assert client.get(url("-pdf", session)).status_code == 404


def test_the_pdf_is_the_stored_file_with_a_readable_name(client_for, viewer, session):
    pack = stored_pack(session, sent=True)
    response = client_for(viewer).get(url("-pdf", session))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    day = timezone.localtime(session.scheduled_at).date().isoformat()
    assert response["Content-Disposition"] == f'inline; filename="weekly-ops-review-{day}-review-pack.pdf"'
    assert response.content == bytes(pack.pdf)
    assert response["ETag"] == f'"{pack.pdf_sha256}"'


def test_an_outsider_gets_404_for_the_page_and_the_pdf(client_for, outsider, session):
    stored_pack(session)
    client = client_for(outsider)
    assert client.get(url("", session)).status_code == 404
    assert client.get(url("-pdf", session)).status_code == 404


def test_the_pack_page_costs_the_same_queries_for_a_small_and_a_large_pack(
    client_for, pm, capability, session, django_assert_num_queries
):
    from contracts.tests.factories import MetricContractFactory

    client = client_for(pm)
    stored_pack(session)
    client.get(url("", session))  # warm per-process caches
    with CaptureQueriesContext(connection) as small:
        assert client.get(url("", session)).status_code == 200

    for index in range(8):
        contract = MetricContractFactory(capability=capability, metric_id=f"cc.more_{index}", status="active")
        evaluations(contract, [1.0, 2.0, 3.0])
    big = pack_session(session.forum, hours_ahead=200)
    stored_pack(big)
    assert len(ReviewPack.objects.get(session=big).snapshot["sections"][2]["rows"]) == 9
    with django_assert_num_queries(len(small)):
        assert client.get(url("", big)).status_code == 200


# --- build and send now ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["-build", "-send"])
def test_build_and_send_reject_get(client_for, pm, session, name):
    assert client_for(pm).get(url(name, session)).status_code == 405
    assert not ReviewPack.objects.exists()


@pytest.mark.parametrize("name", ["-build", "-send"])
def test_build_and_send_refuse_a_viewer(client_for, viewer, session, name):
    assert client_for(viewer).post(url(name, session)).status_code == 403
    assert not ReviewPack.objects.exists()
    assert Session.objects.get(pk=session.pk).state == SessionState.SCHEDULED


@pytest.mark.parametrize("name", ["-build", "-send"])
def test_build_and_send_are_404_for_an_outsider(client_for, outsider, session, name):
    assert client_for(outsider).post(url(name, session)).status_code == 404
    assert not ReviewPack.objects.exists()


def test_the_pm_builds_the_pack_in_place(client_for, pm, session):
    response = client_for(pm).post(url("-build", session), HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    pack = ReviewPack.objects.get(session=session)
    assert pack.built_by == pm and pack.sent_at is None and pack.page_count >= 2
    html = response.content.decode()
    assert 'id="pack"' in html and "<html" not in html  # the panel alone, swapped in place
    assert "Built, not sent" in html and f"{pack.page_count} pages" in html
    assert url("", session) in html and url("-pdf", session) in html


def test_the_pm_sends_the_pack_now_without_javascript(
    client_for, pm, session, risk, django_capture_on_commit_callbacks
):
    client = client_for(pm)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("-send", session))

    assert response.status_code == 302
    assert response["Location"] == session.get_absolute_url() + "#pack"
    assert Session.objects.get(pk=session.pk).state == SessionState.PACK_SENT
    assert sorted(PackDelivery.objects.values_list("email", "status")) == [
        ("pm@example.test", DeliveryStatus.SENT),
        ("risk@example.test", DeliveryStatus.SENT),
    ]
    panel = client.post(url("-build", session), HTTP_HX_REQUEST="true").content.decode()
    assert "alert-danger" in panel and "cannot be rebuilt" in panel  # said in the panel
    assert "pm@example.test" in panel and "risk@example.test" in panel


def test_send_without_a_decision_requested_is_refused_and_says_why(client_for, pm, forum):
    session = pack_session(forum, decision="")
    client = client_for(pm)

    panel = client.post(url("-send", session), HTTP_HX_REQUEST="true")
    assert panel.status_code == 200
    assert "Write the decision requested first" in panel.content.decode()

    response = client.post(url("-send", session), follow=True)
    assert "Write the decision requested first" in response.content.decode()
    assert not ReviewPack.objects.exists() and not PackDelivery.objects.exists()
    assert Session.objects.get(pk=session.pk).state == SessionState.SCHEDULED


# --- the session panel ------------------------------------------------------------------------------


def render_panel(session, user, **extra):
    request = RequestFactory().get(session.get_absolute_url())
    request.user, request.session = user, {}
    return render_to_string(
        "forums/session_pack_panel.html", {"session": session, "can_edit": True, **extra}, request=request
    )


def test_the_panel_before_a_build_explains_the_automatic_send_and_who_is_not_reachable(pm, session):
    html = render_panel(session, pm)
    assert "Not built" in html and "Build the pack" in html and "Send to the attendees now" in html
    assert "automatically" in html
    assert "Not reachable by e-mail" in html and "Nadia Nomail" in html
    assert "Goes to 2 attendees" in html


def test_the_panel_explains_why_a_pack_cannot_be_sent(pm, forum):
    html = render_panel(pack_session(forum, decision=""), pm)
    assert "The pack cannot be sent." in html and "Write the decision requested first" in html
    assert "Send to the attendees now" not in html


def test_the_panel_hides_the_buttons_from_a_viewer(viewer, session):
    stored_pack(session)
    html = render_panel(session, viewer)
    assert "Built, not sent" in html and "Open the pack" in html
    assert "Rebuild from today" not in html and "Send to the attendees now" not in html
    assert url("-build", session) not in html and url("-send", session) not in html


def test_the_panel_lists_each_delivery_with_status_attempts_and_error(pm, session, risk):
    pack = stored_pack(session, sent=True)
    PackDelivery.objects.create(
        pack=pack, recipient=pm, email=pm.email, status="sent", attempts=2, last_error="451 busy"
    )
    PackDelivery.objects.create(pack=pack, recipient=risk, email=risk.email, status="failed", attempts=1)
    html = render_panel(session, pm)
    assert "Sent" in html and "frozen as sent" in html
    assert "Delivery: 1 of 2 sent" in html
    assert "451 busy" in html and "Failed (retrying)" in html
    assert url("-build", session) not in html and url("-send", session) not in html


def test_the_panel_costs_the_same_queries_for_few_and_many_recipients(
    pm, session, capability, django_assert_num_queries
):
    pack = stored_pack(session, sent=True)
    PackDelivery.objects.create(pack=pack, recipient=pm, email=pm.email)
    render_panel(session, pm)
    with CaptureQueriesContext(connection) as few:
        render_panel(session, pm)

    for index in range(10):
        person = UserFactory(username=f"risk-{index}")
        RoleAssignmentFactory(user=person, role="risk_compliance", capability=capability)
        PackDelivery.objects.create(pack=pack, recipient=person, email=person.email, status="sent")
    with django_assert_num_queries(len(few)):
        html = render_panel(session, pm)
    assert html.count("<tr>") >= 12


# --- API --------------------------------------------------------------------------------------------


def api_url(name, session):
    return reverse(f"api:forum-session-pack{name}", kwargs={"pk": session.pk})


def test_api_shows_no_pack_before_a_build_and_why_it_cannot_be_sent(api_for, pm, forum):
    session = pack_session(forum, decision="")
    response = api_for(pm).get(api_url("", session))
    assert response.status_code == 200
    assert response.data["pack"] is None and response.data["deliveries"] == []
    assert response.data["can_send"]["ok"] is False
    assert "decision requested" in response.data["can_send"]["reason"]
    assert [person["name"] for person in response.data["unreachable"]] == ["Nadia Nomail"]


def test_api_build_and_send(api_for, pm, session, django_capture_on_commit_callbacks):
    api = api_for(pm)
    built = api.post(api_url("-build", session))
    assert built.status_code == 200, built.data
    assert built.data["pack"]["snapshot"]["sections"][0]["decision"] == DECISION
    assert built.data["pack"]["pdf_url"].endswith(url("-pdf", session))
    assert built.data["pack"]["sent_at"] is None and built.data["can_send"]["ok"] is True

    with django_capture_on_commit_callbacks(execute=True):
        sent = api.post(api_url("-send", session))
    assert sent.status_code == 200, sent.data
    assert sent.data["state"] == SessionState.PACK_SENT and sent.data["pack"]["sent_at"]
    # The answer comes before the e-mails go (each is a task queued when the request commits).
    assert sorted((d["email"], d["status"]) for d in sent.data["deliveries"]) == [
        ("pm@example.test", "pending"),
        ("risk@example.test", "pending"),
    ]
    later = api.get(api_url("", session)).data["deliveries"]
    assert sorted((d["email"], d["status"], d["attempts"]) for d in later) == [
        ("pm@example.test", "sent", 1),
        ("risk@example.test", "sent", 1),
    ]

    again = api.post(api_url("-send", session))
    assert again.status_code == 409 and "frozen" in again.data["pack"][0]
    rebuild = api.post(api_url("-build", session))
    assert rebuild.status_code == 409


def test_api_send_without_a_decision_requested_names_the_field(api_for, pm, forum):
    session = pack_session(forum, decision="")
    response = api_for(pm).post(api_url("-send", session))
    assert response.status_code == 400
    assert "decision requested" in response.data["decision_requested"][0]
    assert not ReviewPack.objects.exists()


@pytest.mark.parametrize("name", ["-build", "-send"])
def test_api_actions_reject_get_viewers_and_outsiders(api_for, viewer, outsider, session, name):
    assert api_for(viewer).get(api_url(name, session)).status_code == 405
    assert api_for(viewer).post(api_url(name, session)).status_code == 403
    assert api_for(outsider).post(api_url(name, session)).status_code == 404
    assert api_for(outsider).get(api_url("", session)).status_code == 404
    assert not ReviewPack.objects.exists()


def test_deadline_is_the_sessions_local_date(session, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    session.scheduled_at = datetime.datetime(2026, 3, 2, 20, 0, tzinfo=datetime.UTC)  # 04:00 on the 3rd there
    snapshot = session_snapshot(session, built_at=timezone.now())
    assert snapshot["sections"][0]["deadline"] == "2026-03-03"
