"""The action closure rules, through the service and the model's moves (no HTTP)."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from actions.choices import MOVES, TRANSITIONS, ActionStatus
from actions.models import Action, ClosureEvidence, MoveNotPermitted
from actions.services import action_create, action_update
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("missing", "value"),
    [
        ("owner", None),
        ("due_date", None),
        ("closure_criterion", ""),
        ("closure_criterion", "   "),
        ("action", ""),
    ],
)
def test_an_action_is_refused_without_owner_due_date_or_closure_criterion(make_action, missing, value):
    with pytest.raises(DomainError) as error:
        make_action(**{missing: value})
    assert error.value.field == missing
    assert error.value.message
    assert not Action.objects.exists()


def test_the_reviewer_cannot_be_the_owner(make_action, owner):
    with pytest.raises(DomainError) as error:
        make_action(reviewer=owner)
    assert error.value.field == "reviewer"
    assert not Action.objects.exists()


def test_the_database_also_refuses_a_reviewer_who_is_the_owner(action):
    with pytest.raises(IntegrityError), transaction.atomic():
        Action.objects.filter(pk=action.pk).update(reviewer=action.owner)


def test_the_owner_must_be_able_to_work_on_the_capabilitys_actions(make_action, viewer, outsider):
    for person in (viewer, outsider):
        with pytest.raises(DomainError) as error:
            make_action(owner=person)
        assert error.value.field == "owner"
    with pytest.raises(DomainError) as error:
        make_action(reviewer=outsider)
    assert error.value.field == "reviewer"


def test_people_without_a_change_role_cannot_raise_actions(make_action, viewer, executive, outsider):
    for person in (viewer, executive, outsider):
        with pytest.raises(PermissionDenied):
            make_action(by=person)
    assert not Action.objects.exists()


def test_raising_an_action_gives_it_a_readable_id_history_and_tells_the_owner(action, pm, owner):
    assert action.readable_id == "ACT-0001"
    assert action.status == ActionStatus.OPEN
    created = action.history.get()
    assert created.history_user == pm
    assert created.history_change_reason == "Action raised"
    note = Notification.objects.get(recipient=owner)
    assert "ACT-0001" in note.subject
    assert note.url == "/actions/ACT-0001/"


def test_an_action_cannot_close_without_evidence(action, owner, reviewer):
    for state in ("open", "in_progress"):
        if state == "in_progress":
            action.start(by=owner)
        with pytest.raises(TransitionNotAllowed) as error:
            action.verify(by=reviewer)
        assert "closure evidence" in error.value.message
        action.refresh_from_db()
        assert action.status == state
    assert not ClosureEvidence.objects.exists()


def test_closure_evidence_needs_a_description(action, owner):
    with pytest.raises(DomainError) as error:
        action.submit_evidence(by=owner, text="  ")
    assert error.value.field == "text"
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN


def test_only_the_owner_submits_closure_evidence(action, pm, colleague):
    for person in (pm, colleague):
        with pytest.raises(MoveNotPermitted):
            action.submit_evidence(by=person, text="Done")
    assert not ClosureEvidence.objects.exists()


def test_the_owner_cannot_verify_their_own_action_even_as_the_ai_pm(make_action, pm, reviewer, bring_to):
    action = bring_to(make_action(owner=pm, reviewer=reviewer), "awaiting_verification")
    with pytest.raises(MoveNotPermitted) as error:
        action.verify(by=pm)
    assert "owner" in error.value.message
    action.refresh_from_db()
    assert action.status == ActionStatus.AWAITING_VERIFICATION


def test_only_the_named_reviewer_or_the_ai_pm_verifies(action, colleague, pm, bring_to):
    bring_to(action, "awaiting_verification")
    with pytest.raises(MoveNotPermitted):
        action.verify(by=colleague)
    action.verify(by=pm)
    assert action.status == ActionStatus.CLOSED


def test_without_a_named_reviewer_the_capabilitys_ai_pm_verifies(make_action, colleague, pm, bring_to):
    action = bring_to(make_action(reviewer=None), "awaiting_verification")
    with pytest.raises(MoveNotPermitted):
        action.verify(by=colleague)
    action.verify(by=pm)
    assert action.status == ActionStatus.CLOSED


def test_submitting_evidence_tells_the_reviewer(action, owner, reviewer):
    action.submit_evidence(by=owner, text="QA sample attached")
    assert Notification.objects.filter(
        recipient=reviewer, subject__contains="awaits your verification"
    ).exists()


def test_verification_closes_the_action_and_records_who_and_why(action, owner, reviewer, bring_to):
    bring_to(action, "awaiting_verification")
    action.verify(by=reviewer, comment="Sample is representative")
    action.refresh_from_db()
    assert action.status == ActionStatus.CLOSED
    assert action.closed_at is not None
    evidence = action.evidence.get()
    assert (evidence.verdict, evidence.reviewed_by, evidence.review_comment) == (
        "accepted",
        reviewer,
        "Sample is representative",
    )
    latest = action.history.latest()
    assert latest.history_user == reviewer
    assert latest.history_change_reason == "Closure verified: Sample is representative"
    reasons = list(action.history.order_by("history_id").values_list("history_change_reason", flat=True))
    assert reasons == [
        "Action raised",
        "Work started",
        "Closure evidence submitted",
        "Closure verified: Sample is representative",
    ]
    assert Notification.objects.filter(recipient=owner, subject="ACT-0001 closed").exists()


def test_sending_back_needs_a_comment_and_resumes_the_work(action, reviewer, bring_to):
    bring_to(action, "awaiting_verification")
    with pytest.raises(DomainError) as error:
        action.send_back(by=reviewer, comment="")
    assert error.value.field == "comment"
    action.send_back(by=reviewer, comment="Sample covers one site only")
    action.refresh_from_db()
    assert action.status == ActionStatus.IN_PROGRESS
    assert action.evidence.get().verdict == "sent_back"


def test_blocking_needs_a_reason_and_unblocking_clears_it(action, owner):
    with pytest.raises(DomainError) as error:
        action.block(by=owner, reason="")
    assert error.value.field == "reason"
    action.block(by=owner, reason="Waiting for the CRM vendor")
    assert (action.status, action.blocked_reason) == ("blocked", "Waiting for the CRM vendor")
    action.unblock(by=owner)
    action.refresh_from_db()
    assert (action.status, action.blocked_reason) == ("in_progress", "")


@pytest.mark.parametrize(
    ("state", "move", "kwargs"),
    [
        ("open", "unblock", {}),
        ("open", "reopen", {"reason": "x"}),
        ("in_progress", "start", {}),
        ("blocked", "submit_evidence", {"text": "x"}),
        ("awaiting_verification", "block", {"reason": "x"}),
        ("closed", "start", {}),
        ("closed", "verify", {}),
        ("closed", "escalate", {"to": None, "reason": "x"}),
        ("reopened", "reopen", {"reason": "x"}),
    ],
)
def test_an_illegal_move_gets_a_clear_error_and_changes_nothing(action, bring_to, pm, state, move, kwargs):
    bring_to(action, state)
    by = action.owner if move == "submit_evidence" else pm
    history_rows = action.history.count()
    with pytest.raises(TransitionNotAllowed) as error:
        getattr(action, move)(by=by, **kwargs)
    assert error.value.status_code == 409
    assert error.value.message
    action.refresh_from_db()
    assert action.status == state
    assert action.history.count() == history_rows


def test_a_viewer_cannot_move_an_action(action, viewer):
    with pytest.raises(PermissionDenied):
        action.start(by=viewer)
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN


def test_reopening_keeps_the_earlier_closure_evidence_and_records_the_reason(action, pm, bring_to):
    bring_to(action, "closed")
    with pytest.raises(DomainError) as error:
        action.reopen(by=pm, reason=" ")
    assert error.value.field == "reason"
    action.reopen(by=pm, reason="Repeat contact back above 15% for two weeks")
    action.refresh_from_db()
    assert action.status == ActionStatus.REOPENED
    assert action.closed_at is None
    assert action.times_reopened == 1
    evidence = action.evidence.get()
    assert evidence.verdict == "accepted"
    reopening = action.reopenings.get()
    assert (reopening.reason, reopening.reopened_by, reopening.by_trigger) == (
        "Repeat contact back above 15% for two weeks",
        pm,
        False,
    )
    assert (
        action.history.latest().history_change_reason
        == "Reopened: Repeat contact back above 15% for two weeks"
    )
    # The second closure adds evidence; the first stays.
    action.start(by=action.owner)
    action.submit_evidence(by=action.owner, text="Second QA sample")
    action.verify(by=action.reviewer)
    assert list(action.evidence.order_by("id").values_list("verdict", flat=True)) == ["accepted", "accepted"]


def test_escalation_records_and_tells_the_person_without_changing_the_state(
    action, owner, executive, outsider
):
    with pytest.raises(DomainError) as error:
        action.escalate(by=owner, to=outsider, reason="Needs a sponsor")
    assert error.value.field == "to"
    action.escalate(by=owner, to=executive, reason="Vendor has not answered in three weeks")
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    assert action.escalated_to == executive
    assert action.escalated_at is not None
    assert "Escalated to" in action.history.latest().history_change_reason
    assert Notification.objects.filter(recipient=executive, subject="ACT-0001 escalated to you").exists()


def test_the_system_may_move_an_action_and_history_says_no_person_did(action, bring_to):
    bring_to(action, "closed")
    action.reopen(by=None, reason="Scheduled re-check")
    assert action.history.latest().history_user is None
    assert action.reopenings.get().reopened_by is None


def test_a_job_may_raise_an_action_as_the_system(capability, owner):
    action = action_create(
        capability=capability,
        by=None,
        action="Investigate breach of repeat contact",
        owner=owner,
        due_date=timezone.localdate(),
        closure_criterion="Root cause recorded",
    )
    assert action.history.get().history_user is None
    assert Notification.objects.filter(recipient=owner).exists()


@pytest.mark.parametrize(
    ("trigger", "field"),
    [
        (
            {
                "kind": "contract_level",
                "contract_metric_id": "cc_agent_assist.repeat_contact_7d",
                "comparison": "at_or_above",
                "periods": 2,
            },
            "level",
        ),
        (
            {"kind": "contract_level", "level": "0.15", "periods": 2, "comparison": "at_or_above"},
            "contract_metric_id",
        ),
        (
            {
                "kind": "contract_level",
                "contract_metric_id": "repeat contact",
                "comparison": "at_or_above",
                "level": "0.15",
                "periods": 2,
            },
            "contract_metric_id",
        ),
        ({"kind": "recheck_date"}, "recheck_on"),
        ({"kind": "weekly"}, "trigger_kind"),
    ],
)
def test_a_reopen_trigger_must_be_complete_for_its_kind(make_action, trigger, field):
    with pytest.raises(DomainError) as error:
        make_action(reopen_trigger=trigger)
    assert error.value.field == field
    assert not Action.objects.exists()


def test_a_contract_reopen_trigger_is_stored_so_the_contracts_job_can_evaluate_it(make_action):
    action = make_action(
        reopen_trigger={
            "kind": "contract_level",
            "contract_metric_id": "cc_agent_assist.repeat_contact_7d",
            "comparison": "at_or_above",
            "level": "0.15",
            "periods": 2,
        }
    )
    trigger = Action.objects.get(pk=action.pk).reopen_trigger
    assert (trigger.contract_metric_id, trigger.comparison, trigger.level, trigger.periods) == (
        "cc_agent_assist.repeat_contact_7d",
        "at_or_above",
        Decimal("0.15"),
        2,
    )
    assert trigger.describe() == (
        "cc_agent_assist.repeat_contact_7d at or above 0.15 for 2 consecutive periods after closure"
    )


@pytest.mark.parametrize(
    ("name", "size", "message"),
    [("qa-sample.exe", 10, "must be one of"), ("qa-sample.csv", 10 * 1024 * 1024 + 1, "at most 10 MB")],
)
def test_evidence_files_are_limited_to_known_types_and_10_mb(action, owner, name, size, message):
    upload = SimpleUploadedFile(name, b"x" * size)
    with pytest.raises(DomainError) as error:
        action.submit_evidence(by=owner, text="Sample attached", file=upload)
    assert error.value.field == "file"
    assert message in error.value.message
    action.refresh_from_db()
    assert action.status == ActionStatus.OPEN
    assert not ClosureEvidence.objects.exists()


def test_an_evidence_file_is_stored_under_the_media_root(action, owner, settings):
    action.submit_evidence(
        by=owner, text="Sample attached", file=SimpleUploadedFile("qa sample.csv", b"case,defect\n1,0\n")
    )
    evidence = action.evidence.get()
    assert evidence.filename == "qa_sample.csv"
    assert (settings.MEDIA_ROOT / evidence.file.name).read_bytes() == b"case,defect\n1,0\n"


def test_editing_cannot_empty_the_closure_criterion_nor_change_it_after_closure(action, pm, bring_to):
    with pytest.raises(DomainError) as error:
        action_update(action=action, by=pm, fields={"closure_criterion": ""})
    assert error.value.field == "closure_criterion"
    action_update(
        action=action, by=pm, fields={"closure_criterion": "QA sample of 100 calls below 3% defects"}
    )
    bring_to(action, "closed")
    with pytest.raises(DomainError) as error:
        action_update(action=action, by=pm, fields={"closure_criterion": "Something easier"})
    assert error.value.field == "closure_criterion"
    action.refresh_from_db()
    assert action.closure_criterion == "QA sample of 100 calls below 3% defects"


def test_editing_checks_the_reviewer_rule_and_tells_a_new_owner(action, pm, owner, colleague):
    with pytest.raises(DomainError) as error:
        action_update(action=action, by=pm, fields={"reviewer": owner})
    assert error.value.field == "reviewer"
    action_update(
        action=action,
        by=pm,
        fields={"owner": colleague, "due_date": timezone.localdate() + datetime.timedelta(days=3)},
    )
    action.refresh_from_db()
    assert action.owner == colleague
    assert Notification.objects.filter(recipient=colleague, subject="ACT-0001 is now yours").exists()


def test_every_move_is_a_transition_of_the_state_machine():
    used = {(source, target) for steps in MOVES.values() for source, target in steps.items()}
    table = {(source, target) for source, targets in TRANSITIONS.items() for target in targets}
    assert used == table
    # The only way into "closed" is verification.
    assert [move for move, steps in MOVES.items() if "closed" in steps.values()] == ["verify"]


def test_allowed_moves_are_what_the_person_may_do_now(action, owner, reviewer, viewer, bring_to):
    assert action.allowed_moves(viewer) == []
    assert "submit_evidence" in action.allowed_moves(owner)
    assert "submit_evidence" not in action.allowed_moves(reviewer)
    bring_to(action, "awaiting_verification")
    assert set(action.allowed_moves(reviewer)) == {"verify", "send_back", "escalate"}
    assert "verify" not in action.allowed_moves(owner)
