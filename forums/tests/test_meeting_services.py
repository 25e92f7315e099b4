# ruff: noqa: F811  (the shared fixtures are imported by name and requested as arguments)
"""The in-meeting services of forums.meeting: each rule of running a session, on the data."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from actions.models import Action
from decisions.models import Decision
from forums import meeting
from forums.choices import Cadence, SessionState
from forums.models import Session, SessionOutcome
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
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = pytest.mark.django_db


def decide(session, by, **overrides):
    kwargs = {
        "session": session,
        "by": by,
        "capability": session.forum.scope_list()[0],
        "type": "restrict",
        "decision": "Restrict billing suggestions to the south team until the QA sample is clean.",
        "owner": by,
        "options_considered": "Continue; restrict; roll back the prompt",
        "evidence": [],
        "review_trigger": "Script defect rate under warning for two weeks",
        "agenda_block": "Quality and eval",
    }
    kwargs.update(overrides)
    return meeting.meeting_decision_record(**kwargs)


# --- the agenda and its clock -------------------------------------------------------------------


def test_agenda_blocks_carry_their_planned_minutes_and_kind(session):
    blocks = meeting.agenda_blocks(session)
    assert [(b.title, b.start_minute, b.end_minute, b.kind) for b in blocks[:3]] == [
        ("Decision requests", 0, 5, "decisions"),
        ("Adoption and workflow", 5, 15, "adoption"),
        ("Quality and eval", 15, 25, "quality"),
    ]
    assert [b.kind for b in blocks[3:]] == ["reliability", "risk", "cost", "releases", "actions"]
    assert meeting.block_kind("Business outcome") == "outcome"
    assert meeting.block_kind("Assumption ledger update") == ""


def test_the_clock_says_which_block_the_meeting_should_be_in_and_how_far_over_time(session):
    blocks = meeting.agenda_blocks(session)
    start = timezone.now()
    at = meeting.agenda_position(blocks, start, start + datetime.timedelta(minutes=17, seconds=30))
    assert (at.current.title, at.elapsed_seconds, at.over_seconds) == ("Quality and eval", 1050, 0)
    late = meeting.agenda_position(blocks, start, start + datetime.timedelta(minutes=81))
    assert late.current is None and late.over_seconds == 6 * 60


# --- decisions ------------------------------------------------------------------------------------


def test_a_decision_is_logged_against_the_session_and_listed_as_its_outcome(running, pm):
    record = decide(running, pm)
    record.refresh_from_db()
    assert (record.type, record.forum_session, record.owner_id) == ("restrict", running, pm.pk)
    outcome = SessionOutcome.objects.get(session=running)
    assert (outcome.kind, outcome.reference, outcome.agenda_block) == (
        "decision_recorded",
        record.readable_id,
        "Quality and eval",
    )


def test_decisions_are_recorded_only_while_the_meeting_is_in_progress(session, pm):
    with pytest.raises(TransitionNotAllowed):
        decide(session, pm)
    assert not Decision.objects.exists()


def test_a_forum_takes_only_its_own_decision_types(running, pm, weekly):
    with pytest.raises(DomainError) as refused:
        decide(running, pm, type="scale")
    assert refused.value.field == "type" and "Continue, Restrict, Rollback" in refused.value.message
    weekly.decision_types = []
    weekly.save()
    with pytest.raises(DomainError, match="no decision types"):
        decide(running, pm, type="continue")
    assert not Decision.objects.exists() and not SessionOutcome.objects.exists()


def test_a_decision_about_a_capability_outside_the_forums_scope_is_refused(running, pm, other_capability):
    with pytest.raises(DomainError) as refused:
        decide(running, pm, capability=other_capability)
    assert refused.value.field == "capability"


def test_a_bad_evidence_id_leaves_nothing_half_written(running, pm):
    with pytest.raises(DomainError) as refused:
        decide(running, pm, evidence=["ACT-9999"])
    assert refused.value.field == "evidence"
    assert not Decision.objects.exists() and not SessionOutcome.objects.exists()


def test_only_people_who_run_the_forum_record_its_decisions(running, viewer, risk_partner):
    for person in (viewer, risk_partner):
        with pytest.raises(PermissionDenied):
            decide(running, person, owner=running.forum.owner)


# --- actions ----------------------------------------------------------------------------------------


def test_an_action_raised_in_the_meeting_has_the_session_as_its_source(running, pm, ops, ba, capability):
    action = meeting.meeting_action_create(
        session=running,
        by=pm,
        capability=capability,
        action="Update the billing knowledge article",
        owner=ops,
        reviewer=ba,
        due_date=timezone.localdate() + datetime.timedelta(days=14),
        closure_criterion="Repeat contact under warning for two weeks",
        reopen_trigger={
            "kind": "recheck_date",
            "recheck_on": timezone.localdate() + datetime.timedelta(days=60),
        },
        agenda_block="Action closure",
    )
    action.refresh_from_db()
    assert (action.source_kind, action.source, action.forum) == ("forum_session", running, running)
    assert action.reopen_trigger.kind == "recheck_date"
    outcome = running.outcomes.get()
    assert (outcome.kind, outcome.reference) == ("action_created", action.readable_id)
    assert "owner" in outcome.summary and action.due_date.isoformat() in outcome.summary


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"owner": None}, "owner"),
        ({"due_date": None}, "due_date"),
        ({"closure_criterion": "  "}, "closure_criterion"),
        ({"reviewer": "owner"}, "reviewer"),
    ],
)
def test_an_action_needs_owner_due_date_closure_criterion_and_a_reviewer_who_is_not_the_owner(
    running, pm, ops, capability, change, field
):
    kwargs = {
        "session": running,
        "by": pm,
        "capability": capability,
        "action": "Sample 50 calls",
        "owner": ops,
        "due_date": timezone.localdate() + datetime.timedelta(days=7),
        "closure_criterion": "QA sample clean",
    }
    kwargs.update({key: ops if value == "owner" else value for key, value in change.items()})
    with pytest.raises(DomainError) as refused:
        meeting.meeting_action_create(**kwargs)
    assert refused.value.field == field
    assert not Action.objects.exists() and not SessionOutcome.objects.exists()


def test_closing_with_evidence_verifies_what_the_owner_submitted(running, pm, awaiting):
    meeting.meeting_action_move(
        session=running,
        by=pm,
        action=awaiting,
        move="verify",
        comment="Sample checked.",
        agenda_block="Action closure",
    )
    awaiting.refresh_from_db()
    assert awaiting.status == "closed" and awaiting.closed_at is not None
    assert awaiting.evidence.get().verdict == "accepted"
    outcome = running.outcomes.get()
    assert (outcome.kind, outcome.reference, outcome.agenda_block) == (
        "action_closed",
        awaiting.readable_id,
        "Action closure",
    )


def test_an_action_is_not_closed_without_submitted_evidence(running, pm, raise_action):
    action = raise_action()
    with pytest.raises(TransitionNotAllowed):
        meeting.meeting_action_move(session=running, by=pm, action=action, move="verify")
    action.refresh_from_db()
    assert action.status == "open" and not running.outcomes.exists()


def test_the_owner_may_not_verify_their_own_evidence_in_the_meeting(
    running, make_person, capability, awaiting, ops
):
    # Ops may run the weekly review (R) but owns the action: its reviewer verifies, never its owner.
    with pytest.raises(DomainError) as refused:
        meeting.meeting_action_move(session=running, by=ops, action=awaiting, move="verify")
    assert refused.value.field == "reviewer"
    awaiting.refresh_from_db()
    assert awaiting.status == "awaiting_verification" and not running.outcomes.exists()


def test_reopen_escalate_block_and_send_back_go_through_the_actions_own_rules(
    running, pm, ops, raise_action, awaiting, architect
):
    meeting.meeting_action_move(
        session=running, by=pm, action=awaiting, move="send_back", comment="Sample too small"
    )
    blocked = raise_action()
    meeting.meeting_action_move(
        session=running, by=pm, action=blocked, move="block", reason="Waiting for QA team"
    )
    meeting.meeting_action_move(
        session=running,
        by=pm,
        action=blocked,
        move="escalate",
        to=architect,
        reason="QA team has no capacity",
    )
    awaiting.refresh_from_db()
    blocked.refresh_from_db()
    assert awaiting.status == "in_progress"
    assert (blocked.status, blocked.escalated_to_id) == ("blocked", architect.pk)
    assert list(running.outcomes.values_list("kind", flat=True)) == [
        "action_sent_back",
        "action_blocked",
        "action_escalated",
    ]
    with pytest.raises(DomainError) as refused:
        meeting.meeting_action_move(session=running, by=pm, action=blocked, move="unblock")
    assert refused.value.field == "move"


def test_a_closed_action_is_reopened_in_the_meeting(running, pm, awaiting):
    meeting.meeting_action_move(session=running, by=pm, action=awaiting, move="verify")
    meeting.meeting_action_move(
        session=running, by=pm, action=awaiting, move="reopen", reason="Defects back up"
    )
    awaiting.refresh_from_db()
    assert (awaiting.status, awaiting.times_reopened) == ("reopened", 1)


def test_an_action_outside_the_forums_scope_is_not_moved_here(running, pm, other_capability, make_person):
    from actions.services import action_create

    other_pm = make_person("ai_pm", other_capability)
    other_owner = make_person("ops", other_capability)
    action = action_create(
        capability=other_capability,
        by=other_pm,
        action="Check KYC samples",
        owner=other_owner,
        due_date=timezone.localdate(),
        closure_criterion="Sample clean",
    )
    with pytest.raises(DomainError) as refused:
        meeting.meeting_action_move(session=running, by=pm, action=action, move="block", reason="x")
    assert refused.value.field == "action"


# --- releases ---------------------------------------------------------------------------------------


def test_a_risk_partner_approves_a_release_in_the_meeting(running, risk_partner, submitted):
    release = submitted(risk_tier="high")
    approval = meeting.meeting_release_approve(
        session=running, by=risk_partner, release=release, comment="Regression eval green."
    )
    release.refresh_from_db()
    assert release.state == "approved" and approval.decision is not None
    outcome = running.outcomes.get()
    assert (outcome.kind, outcome.reference) == ("release_approved", release.readable_id)
    assert approval.decision.readable_id in outcome.summary


def test_the_release_owner_never_approves_and_nothing_is_recorded(running, architect, submitted):
    release = submitted()
    with pytest.raises(DomainError):
        meeting.meeting_release_approve(session=running, by=architect, release=release, comment="Mine, fine.")
    release.refresh_from_db()
    assert release.state == "submitted" and not running.outcomes.exists()


def test_who_may_approve_is_asked_once_for_all_releases(running, pm, risk_partner, architect, submitted):
    first, second = submitted(), submitted(change="Knowledge refresh")
    assert meeting.meeting_inputs(running, user=risk_partner).approvable == {first.pk, second.pk}
    assert meeting.meeting_inputs(running, user=architect).approvable == set()


# --- starting, attendance and notes -----------------------------------------------------------------


def test_starting_lists_everyone_expected_with_the_person_who_started_present(session, pm, ops, ba):
    meeting.meeting_start(session=session, by=pm)
    session.refresh_from_db()
    assert session.state == SessionState.IN_PROGRESS and session.started_at is not None
    rows = {row.user.username: row.status for row in session.attendance_rows.select_related("user")}
    assert rows == {"pm": "present", "ops": "absent", "ba": "absent"}


def test_attendance_and_notes_are_kept_until_the_minutes_are_published(session, pm, ops):
    with pytest.raises(TransitionNotAllowed):
        meeting.meeting_attendance_set(session=session, by=pm, present=[pm.pk])
    meeting.meeting_start(session=session, by=pm)
    meeting.meeting_attendance_set(session=session, by=pm, present=[pm.pk, ops.pk])
    meeting.meeting_note_save(
        session=session, by=pm, block="Quality and eval", text="Defects up in **billing**."
    )
    meeting.session_end(session=session, by=pm)
    meeting.meeting_note_save(session=session, by=pm, block="Action closure", text="ACT-0001 closed.")
    session.refresh_from_db()
    assert session.notes == {
        "Quality and eval": "Defects up in **billing**.",
        "Action closure": "ACT-0001 closed.",
    }
    assert set(session.attendance_rows.filter(status="present").values_list("user__username", flat=True)) == {
        "pm",
        "ops",
    }
    meeting.session_publish_minutes(session=session, by=pm)
    with pytest.raises(TransitionNotAllowed):
        meeting.meeting_note_save(session=session, by=pm, block="Quality and eval", text="Rewritten")
    with pytest.raises(TransitionNotAllowed):
        meeting.meeting_attendance_set(session=session, by=pm, present=[])


def test_notes_belong_to_an_agenda_block_and_attendance_to_the_forums_people(running, pm, viewer):
    with pytest.raises(DomainError) as refused:
        meeting.meeting_note_save(session=running, by=pm, block="Gossip", text="…")
    assert refused.value.field == "block"
    with pytest.raises(DomainError) as refused:
        meeting.meeting_attendance_set(session=running, by=pm, present=[viewer.pk])
    assert refused.value.field == "present"
    with pytest.raises(PermissionDenied):
        meeting.meeting_note_save(session=running, by=viewer, block="Quality and eval", text="…")


# --- minutes --------------------------------------------------------------------------------------


def test_published_minutes_are_frozen_and_each_attendee_is_told_once(
    running, pm, ops, ba, awaiting, capability
):
    record = decide(running, pm)
    meeting.meeting_action_move(session=running, by=pm, action=awaiting, move="verify")
    meeting.meeting_note_save(session=running, by=pm, block="Action closure", text="Closed *with* proof.")
    meeting.meeting_attendance_set(session=running, by=pm, present=[pm.pk, ops.pk])
    with pytest.raises(TransitionNotAllowed):
        meeting.session_publish_minutes(session=running, by=pm)
    meeting.session_end(session=running, by=pm)
    Notification.objects.all().delete()

    meeting.session_publish_minutes(session=running, by=pm)

    running.refresh_from_db()
    minutes = running.minutes
    assert running.state == SessionState.MINUTES_PUBLISHED
    assert [(d["id"], d["type"]) for d in minutes["decisions"]] == [(record.readable_id, "restrict")]
    assert [(a["id"], a["event"]) for a in minutes["actions"]] == [(awaiting.readable_id, "action_closed")]
    assert {(p["username"], p["status"]) for p in minutes["attendance"]} == {
        ("pm", "present"),
        ("ops", "present"),
        ("ba", "absent"),
    }
    assert minutes["notes"] == [{"block": "Action closure", "text": "Closed *with* proof."}]
    assert minutes["recipients"] == 3 and minutes["published_by"]
    told = Notification.objects.filter(subject__startswith="Minutes:")
    assert sorted(told.values_list("recipient__username", flat=True)) == ["ba", "ops", "pm"]
    assert record.readable_id in told.first().body and awaiting.readable_id in told.first().body

    # Later changes to the records do not rewrite what was sent; a second publication is refused.
    Action.objects.filter(pk=awaiting.pk).update(action="Renamed afterwards")
    assert meeting.minutes_build(running)["actions"][0]["action"] == "Renamed afterwards"
    with pytest.raises(TransitionNotAllowed):
        meeting.session_publish_minutes(session=running, by=pm)
    running.refresh_from_db()
    assert running.minutes == minutes
    assert told.count() == 3


def test_a_session_move_goes_through_the_meetings_service(session, pm):
    meeting.session_move(session=session, by=pm, move="start")
    assert session.attendance_rows.filter(user=pm, status="present").exists()
    with pytest.raises(DomainError):
        meeting.session_move(session=session, by=pm, move="delete")


# --- live inputs --------------------------------------------------------------------------------------


def test_the_live_inputs_give_each_block_its_figures_and_records(
    running, pm, quality_contract, awaiting, raise_action, submitted
):
    from contracts.tests.factories import SignalFactory

    signal = SignalFactory(contract=quality_contract, level="breach", worst_level="breach")
    overdue = raise_action(due_date=timezone.localdate() - datetime.timedelta(days=3))
    release = submitted()

    inputs = meeting.meeting_inputs(running, user=pm)

    [figure] = inputs.for_block("quality")["figures"]
    assert (figure.value_text, figure.level, figure.delta_text, figure.improved) == (
        "16.2%",
        "breach",
        "+5.2 pts",
        False,
    )
    assert figure.alarming and figure.below_e3 and figure.signal == signal
    assert figure.cohorts_past_warning == [
        (
            "intent",
            [
                {
                    "cut": "intent=billing",
                    "value": "billing",
                    "value_text": "19.5%",
                    "level": "breach",
                    "level_label": "Breach",
                }
            ],
        )
    ]
    decisions = inputs.for_block("decisions")
    assert decisions["releases"] == [release] and decisions["signals"] == [signal]
    assert decisions["actions"] == [overdue]
    assert inputs.for_block("actions")["actions"] == [overdue, awaiting]
    assert inputs.for_block("adoption") == {"figures": [], "incidents": []}


def test_a_forum_without_scope_covers_what_the_person_may_read(pm, capability, other_capability):
    from forums.models import Forum

    forum = Forum.objects.create(
        name="Org-wide triage", cadence=Cadence.DAILY_SIGNAL_TRIAGE, owner=pm, time_of_day=datetime.time(9)
    )
    session = Session(forum=forum)
    assert meeting.in_scope(session, capability.pk, pm) is True
    assert meeting.in_scope(session, other_capability.pk, pm) is False
    assert meeting.scope_capabilities(session, pm) == [capability]
