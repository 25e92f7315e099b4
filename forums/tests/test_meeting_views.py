# ruff: noqa: F811  (the shared fixtures are imported by name and requested as arguments)
"""The session page the PM drives in the meeting: what each person sees in each state, every
in-meeting endpoint (htmx regions and the plain POST behind them, GET refused, a reader refused,
an outsider not told the session exists), and a query count that does not grow with the data."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.models import Action
from decisions.models import Decision
from forums import meeting
from forums.models import SessionOutcome
from forums.tests.test_meeting_world import (  # noqa: F401  (shared fixtures)
    _media_root,
    analyst,
    architect,
    attest_all,
    awaiting,
    ba,
    make_release,
    ops,
    quality_contract,
    raise_action,
    risk_partner,
    running,
    session,
    submitted,
    weekly,
)

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, session, **kwargs):
    return reverse(f"forums:{name}", kwargs={"pk": session.pk, **kwargs})


def text_of(response) -> str:
    """What a person reads: the HTML without tags, spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def decision_post(session, **overrides):
    scope = session.forum.scope_list()
    data = {
        "capability": scope[0].pk if scope else "",
        "type": "restrict",
        "decision": "Restrict billing suggestions to the south team.",
        "options_considered": "Continue; restrict",
        "evidence": "",
        "owner": session.forum.owner_id,
        "review_trigger": "Defect rate under warning two weeks running",
        "agenda_block": "Quality and eval",
    }
    data.update(overrides)
    return data


def action_post(session, owner, **overrides):
    data = {
        "capability": session.forum.scope_list()[0].slug,
        "action": "Retrain the north team on billing suggestions",
        "owner": owner.pk,
        "reviewer": "",
        "due_date": (timezone.localdate() + datetime.timedelta(days=10)).isoformat(),
        "closure_criterion": "Edit rate of the north team within 5 points of the south team",
        "source_signal": "North team edits 30% of suggestions",
        "agenda_block": "Action closure",
    }
    data.update(overrides)
    return data


# --- what the page shows ---------------------------------------------------------------------


def test_before_the_meeting_the_page_asks_for_the_decision_requested_and_shows_the_agenda(
    client_for, pm, session, quality_contract
):
    page = client_for(pm).get(session.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert f'action="/forums/sessions/{session.pk}/decision/"' in html
    assert html.count('class="card mb-3 po-block') == 8
    assert "cc_agent_assist.script_defect_rate" in html and "▲ Breach" in text_of(page)
    assert 'data-session-move="start"' in html and "Record a decision" not in html
    assert "po-block-current" not in html


def test_in_the_meeting_the_current_block_stands_out_and_the_records_can_be_made(
    client_for, pm, running, awaiting
):
    running.started_at = timezone.now() - datetime.timedelta(minutes=17)
    running.save(update_fields=["started_at"])
    page = client_for(pm).get(running.get_absolute_url())
    html = page.content.decode()
    current = re.findall(r'<article class="card mb-3 po-block po-block-current" id="(block-\d)"', html)
    assert current == ["block-3"]
    assert "Now: 3. Quality and eval" in text_of(page) and "left in this block" in text_of(page)
    assert 'id="record-decision"' in html and 'id="raise-action"' in html
    assert f'id="action-{awaiting.readable_id}"' in html
    assert url("session-action-move", running, readable_id=awaiting.readable_id, move="verify") in html
    assert 'data-session-move="end_meeting"' in html


def test_an_overrunning_meeting_says_it_is_over_time(client_for, pm, running):
    running.started_at = timezone.now() - datetime.timedelta(minutes=80)
    running.save(update_fields=["started_at"])
    assert "Over time by 5:" in text_of(client_for(pm).get(running.get_absolute_url()))


def test_a_reader_sees_the_meeting_but_no_form(client_for, viewer, running, awaiting, quality_contract):
    page = client_for(viewer).get(running.get_absolute_url())
    html = page.content.decode()
    assert page.status_code == 200
    assert awaiting.readable_id in html and "QA script defect rate" in html
    assert "hx-post" not in html and "data-session-move" not in html
    assert "<textarea" not in html


def test_an_outsider_is_not_told_the_session_exists(client_for, outsider, running):
    assert client_for(outsider).get(running.get_absolute_url()).status_code == 404


def test_after_the_meeting_the_page_shows_the_minutes_to_publish_then_the_published_minutes(
    client_for, pm, ops, ba, running
):
    meeting.meeting_note_save(session=running, by=pm, block="Risk / complaints", text="No new *complaints*.")
    meeting.session_end(session=running, by=pm)
    client = client_for(pm)
    held = client.get(running.get_absolute_url())
    assert "Minutes as they will be sent" in text_of(held)
    assert "publish the minutes to 3 people" in text_of(held)
    assert 'data-session-move="publish_minutes"' in held.content.decode()

    answer = client.post(url("session-publish-minutes", running))
    assert answer.status_code == 302
    published = client.get(running.get_absolute_url())
    html = published.content.decode()
    assert "Minutes published" in text_of(published) and "<em>complaints</em>" in html
    assert "hx-post" not in html and "data-session-move" not in html


def test_a_forum_without_an_agenda_still_runs_on_this_page(client_for, org_pm, capability):
    from forums.choices import Cadence, Frequency
    from forums.models import Session
    from forums.services import forum_create

    forum = forum_create(
        by=org_pm,
        name="Sponsor check-in",
        cadence=Cadence.CUSTOM,
        owner=org_pm,
        decision_types=["scale", "restrict"],
        frequency=Frequency.MONTHLY,
        week_of_month=1,
        time_of_day=datetime.time(14),
    )
    session = Session.objects.create(forum=forum, scheduled_at=timezone.now(), decision_requested="Scale?")
    client = client_for(org_pm)
    assert client.post(url("session-start", session)).status_code == 302
    page = client.get(session.get_absolute_url())
    assert page.status_code == 200
    assert "This forum has no agenda" in text_of(page) and 'id="record-decision"' in page.content.decode()
    answer = client.post(
        url("session-record-decision", session),
        decision_post(session, capability=capability.pk, type="scale", agenda_block=""),
        **HTMX,
    )
    assert answer.status_code == 200
    assert Decision.objects.get().forum_session == session


# --- recording a decision -------------------------------------------------------------------------


def test_recording_a_decision_with_htmx_answers_with_the_changed_regions(client_for, pm, running):
    answer = client_for(pm).post(url("session-record-decision", running), decision_post(running), **HTMX)
    html = answer.content.decode()
    record = Decision.objects.get()
    assert answer.status_code == 200 and "<html" not in html
    assert 'id="session-outcomes" aria-labelledby="outcomes-heading" hx-swap-oob="true"' in html
    assert 'id="record-decision" hx-swap-oob="true"' in html
    assert f"{record.readable_id} recorded in the decision log." in html
    assert (record.forum_session, record.type) == (running, "restrict")
    assert running.outcomes.get().agenda_block == "Quality and eval"


def test_recording_a_decision_without_javascript_redirects_back_to_the_page(client_for, pm, running):
    client = client_for(pm)
    answer = client.post(url("session-record-decision", running), decision_post(running))
    assert answer.status_code == 302 and answer["Location"].endswith(
        f"{running.get_absolute_url()}#session-outcomes"
    )
    page = client.get(answer["Location"])
    assert "recorded in the decision log" in text_of(page)
    assert Decision.objects.count() == 1


def test_a_decision_type_the_forum_does_not_take_is_refused_on_the_form(client_for, pm, running):
    client = client_for(pm)
    answer = client.post(
        url("session-record-decision", running), decision_post(running, type="scale"), **HTMX
    )
    assert answer.status_code == 422
    assert "Select a valid choice" in text_of(answer) and 'id="id_decision_type"' in answer.content.decode()
    plain = client.post(url("session-record-decision", running), decision_post(running, decision=""))
    assert plain.status_code == 400 and "<html" in plain.content.decode()
    assert "This field is required" in text_of(plain)
    assert not Decision.objects.exists() and not SessionOutcome.objects.exists()


def test_a_decision_before_the_meeting_started_is_a_conflict(client_for, pm, session):
    answer = client_for(pm).post(url("session-record-decision", session), decision_post(session), **HTMX)
    assert answer.status_code == 409 and "while it is in progress" in text_of(answer)
    assert not Decision.objects.exists()


# --- raising an action ------------------------------------------------------------------------------


def test_raising_an_action_in_place_updates_the_action_list_and_the_outcomes(client_for, pm, ops, running):
    answer = client_for(pm).post(url("session-action-create", running), action_post(running, ops), **HTMX)
    html = answer.content.decode()
    action = Action.objects.get()
    assert answer.status_code == 200
    assert (action.source, action.owner, action.source_kind) == (running, ops, "forum_session")
    assert 'id="block-8-inputs" class="po-block-inputs" hx-swap-oob="true"' in html
    assert f'id="action-{action.readable_id}"' in html and f"{action.readable_id} raised." in html
    assert running.outcomes.get().kind == "action_created"


def test_an_action_without_closure_criterion_or_with_the_owner_as_reviewer_is_refused(
    client_for, pm, ops, running
):
    client = client_for(pm)
    answer = client.post(
        url("session-action-create", running), action_post(running, ops, closure_criterion=""), **HTMX
    )
    assert answer.status_code == 422 and 'id="raise-action" hx-swap-oob="true"' in answer.content.decode()
    assert "This field is required" in text_of(answer)
    answer = client.post(
        url("session-action-create", running), action_post(running, ops, reviewer=ops.pk), **HTMX
    )
    assert answer.status_code == 422 and "The reviewer must be someone other than the owner." in text_of(
        answer
    )
    assert not Action.objects.exists() and not SessionOutcome.objects.exists()


# --- moving an action -----------------------------------------------------------------------------


def test_closing_an_action_with_evidence_in_place(client_for, pm, running, awaiting):
    move = url("session-action-move", running, readable_id=awaiting.readable_id, move="verify")
    answer = client_for(pm).post(
        move, {"comment": "Checked the sample.", "agenda_block": "Action closure"}, **HTMX
    )
    html = answer.content.decode()
    awaiting.refresh_from_db()
    assert answer.status_code == 200 and awaiting.status == "closed"
    assert f"{awaiting.readable_id}: verify and close." in html
    assert 'id="session-outcomes"' in html and "Action closed with evidence" in html


def test_a_move_form_error_comes_back_in_its_row_and_without_javascript_on_the_page(
    client_for, pm, running, awaiting
):
    client = client_for(pm)
    move = url("session-action-move", running, readable_id=awaiting.readable_id, move="send_back")
    answer = client.post(move, {"comment": ""}, **HTMX)
    assert answer.status_code == 422
    html = answer.content.decode()
    assert 'id="block-8-inputs"' in html and "This field is required" in text_of(answer)
    assert re.search(r'<details class="po-move" data-move="send_back" open>', html)
    plain = client.post(move, {"comment": ""})
    assert plain.status_code == 400 and "<html" in plain.content.decode()
    awaiting.refresh_from_db()
    assert awaiting.status == "awaiting_verification" and not running.outcomes.exists()


def test_escalating_lists_people_of_the_capability_and_refuses_a_stranger(
    client_for, pm, running, awaiting, architect, outsider
):
    move = url("session-action-move", running, readable_id=awaiting.readable_id, move="escalate")
    client = client_for(pm)
    refused = client.post(move, {"to": outsider.pk, "reason": "Need a decision"}, **HTMX)
    assert refused.status_code == 422 and "Select a valid choice" in text_of(refused)
    answer = client.post(move, {"to": architect.pk, "reason": "Need a decision"}, **HTMX)
    assert answer.status_code == 200
    awaiting.refresh_from_db()
    assert awaiting.escalated_to == architect


# --- approving a release ----------------------------------------------------------------------------


def test_only_a_person_with_the_right_sees_and_uses_the_approve_button(
    client_for, running, submitted, risk_partner, viewer, architect
):
    release = submitted()
    approve = url("session-release-approve", running, readable_id=release.readable_id)
    assert approve in client_for(risk_partner).get(running.get_absolute_url()).content.decode()
    assert approve not in client_for(architect).get(running.get_absolute_url()).content.decode()
    assert client_for(viewer).post(approve, {"comment": "Looks fine"}).status_code == 403
    owner = client_for(architect).post(approve, {"comment": "Mine"}, **HTMX)
    assert owner.status_code == 422 and "its approval comes from someone else" in text_of(owner)
    answer = client_for(risk_partner).post(
        approve, {"comment": "Regression eval green.", "agenda_block": "Release and experiments"}, **HTMX
    )
    release.refresh_from_db()
    assert answer.status_code == 200 and release.state == "approved"
    assert f"{release.readable_id} approved (approved)." in answer.content.decode()
    assert running.outcomes.get().kind == "release_approved"


# --- attendance and notes -------------------------------------------------------------------------


def test_ticking_attendance_and_saving_notes_in_place(client_for, pm, ops, ba, running):
    client = client_for(pm)
    answer = client.post(url("session-attendance", running), {"present": [pm.pk, ops.pk]}, **HTMX)
    assert answer.status_code == 200 and "2 of 3 present" in text_of(answer)
    answer = client.post(
        url("session-note", running),
        {"block": "Quality and eval", "text": "Defects *up* in billing."},
        **HTMX,
    )
    html = answer.content.decode()
    assert (
        answer.status_code == 200 and 'id="block-3-notes" class="po-block-notes" hx-swap-oob="true"' in html
    )
    assert "<em>up</em>" in html and "saved at" in html
    running.refresh_from_db()
    assert running.notes == {"Quality and eval": "Defects *up* in billing."}
    assert client.post(url("session-note", running), {"block": "Nope", "text": "x"}).status_code == 404


# --- permissions of every endpoint ------------------------------------------------------------------


ENDPOINTS = [
    ("session-record-decision", {}),
    ("session-action-create", {}),
    ("session-action-move", {"move": "verify"}),
    ("session-release-approve", {}),
    ("session-attendance", {}),
    ("session-note", {}),
    ("session-start", {}),
    ("session-end-meeting", {}),
    ("session-publish-minutes", {}),
    ("session-decision", {}),
]


@pytest.fixture
def targets(running, awaiting, submitted):
    release = submitted()

    def target(name, extra):
        if name == "session-action-move":
            extra = {**extra, "readable_id": awaiting.readable_id}
        if name == "session-release-approve":
            extra = {**extra, "readable_id": release.readable_id}
        return url(name, running, **extra)

    return target


@pytest.mark.parametrize(("name", "extra"), ENDPOINTS)
def test_every_meeting_endpoint_refuses_get_a_reader_and_an_outsider(
    client_for, pm, viewer, outsider, running, targets, name, extra
):
    target = targets(name, extra)
    before = (SessionOutcome.objects.count(), running.attendance_rows.filter(status="present").count())
    assert client_for(pm).get(target).status_code == 405
    assert (
        client_for(viewer)
        .post(target, {"comment": "x", "present": [], "block": "Quality and eval"})
        .status_code
        == 403
    )
    assert client_for(outsider).post(target, {"comment": "x"}).status_code == 404
    running.refresh_from_db()
    assert running.state == "in_progress"
    assert (
        SessionOutcome.objects.count(),
        running.attendance_rows.filter(status="present").count(),
    ) == before


# --- queries ----------------------------------------------------------------------------------------


def test_the_page_asks_the_database_the_same_number_of_times_whatever_the_data(
    client_for,
    pm,
    ops,
    running,
    capability,
    submitted,
    raise_action,
    django_assert_num_queries,
    django_assert_max_num_queries,
):
    from contracts.tests.factories import EvaluationFactory, MetricContractFactory, SignalFactory
    from experiments.models import Experiment
    from incidents.services import incident_report

    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())

    def grow(count, start):
        for n in range(start, start + count):
            contract = MetricContractFactory(
                capability=capability,
                category=["adoption", "quality", "reliability", "risk", "cost"][n % 5],
                status="active",
            )
            for weeks, value, level in ((2, 11.0, "ok"), (1, 13.0, "warning")):
                EvaluationFactory(
                    contract=contract,
                    period_start=monday - datetime.timedelta(weeks=weeks),
                    value=value,
                    level=level,
                )
            EvaluationFactory(
                contract=contract,
                period_start=monday - datetime.timedelta(weeks=1),
                cut=f"team=t{n}",
                value=16.0,
                level="breach",
            )
            signal_action = raise_action(action=f"Signal action {n}")
            SignalFactory(contract=contract, level="breach", worst_level="breach", action=signal_action)
            waiting = raise_action(
                action=f"Awaiting {n}", due_date=timezone.localdate() - datetime.timedelta(days=1)
            )
            waiting.submit_evidence(by=ops, text=f"Evidence {n}")
            blocked = raise_action(action=f"Blocked {n}")
            blocked.block(by=ops, reason="Waiting on data")
            submitted(change=f"Change {n}")
            incident_report(
                capability=capability,
                by=pm,
                title=f"Complaint {n}",
                source="complaint",
                occurred_on=timezone.localdate(),
                severity=["sev2", "sev3"][n % 2],
            )
            Experiment.objects.create(
                capability=capability,
                title=f"Experiment {n}",
                hypothesis="h",
                population="p",
                treatment="t",
                control_or_baseline="c",
                primary_metric=contract,
                start_date=monday,
                state="running",
                planned_end_date=monday + datetime.timedelta(days=28),
                owner=pm,
            )
        meeting.meeting_decision_record(
            session=running,
            by=pm,
            capability=capability,
            type="continue",
            decision=f"Continue {start}",
            owner=pm,
        )

    client = client_for(pm)
    grow(2, 0)
    client.get(running.get_absolute_url())
    with django_assert_max_num_queries(60) as small:
        page = client.get(running.get_absolute_url())
    assert page.content.decode().count('class="po-action') >= 6
    grow(8, 2)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(running.get_absolute_url())
    assert page.content.decode().count("Change 9") == 2  # listed under decision requests and releases
