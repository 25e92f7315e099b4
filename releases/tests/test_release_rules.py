"""The release rules of playbook 12.1 and 12.3, through the model methods and services every
page, API call and job uses."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from assumptions.tests.factories import AssumptionFactory
from contracts.models import StopHold
from contracts.services import stop_hold_lift
from contracts.tests.factories import MetricContractFactory, SignalFactory
from decisions.models import Decision
from productops.errors import DomainError, TransitionNotAllowed
from releases.choices import EVIDENCE_ITEMS
from releases.models import MoveNotPermitted, Release, ReleaseHeld
from releases.services import release_update

pytestmark = pytest.mark.django_db


def keys(release):
    return list(release.evidence_items.values_list("key", flat=True))


# --- the evidence checklist follows the object type -------------------------------------------


@pytest.mark.parametrize(
    "object_type, expected",
    [
        ("model", ["quality_comparison", "latency_comparison", "cost_comparison", "rollback_test"]),
        ("tool", ["authorization", "side_effects", "audit", "dual_control"]),
        ("policy", ["legal_compliance_review", "frontline_communication", "eval_update"]),
        ("data", ["lineage", "privacy", "bias", "validation"]),
        ("knowledge", ["freshness", "authority", "retrieval_quality"]),
        ("prompt", ["regression_eval"]),
        ("workflow", ["adoption", "capacity", "control_impact"]),
        ("dashboard", ["metric_owner_approval"]),
    ],
)
def test_the_evidence_checklist_is_derived_from_the_object_type(make_release, object_type, expected):
    release = make_release(object_type=object_type, version_from="a", version_to="b")
    assert keys(release) == expected
    assert [key for key, _label, _help in EVIDENCE_ITEMS[object_type]] == expected
    assert all(not item.is_attested for item in release.evidence_items.all())


def test_a_high_risk_prompt_also_needs_a_policy_review(make_release):
    assert keys(make_release(risk_tier="medium")) == ["regression_eval"]
    assert keys(make_release(risk_tier="high", change="Other")) == ["regression_eval", "policy_review"]


def test_the_risk_tier_defaults_to_the_capability_and_the_version_from_to_its_version_set(
    make_release, capability
):
    capability.risk_tier = "critical"
    capability.current_version_set = {"prompt": "v10"}
    capability.save()
    release = make_release(version_from="")
    assert release.risk_tier == "critical"
    assert release.version_from == "v10"
    assert release.readable_id == f"REL-{timezone.localdate().year}-001"
    assert make_release(change="Second").readable_id == f"REL-{timezone.localdate().year}-002"


def test_changing_the_object_type_of_a_draft_changes_its_checklist_and_keeps_shared_attestations(
    make_release, architect, analyst
):
    release = make_release(object_type="policy", version_from="a", version_to="b")
    release.attest(by=analyst, item="eval_update", link="https://evidence.example/eval")
    release_update(release=release, by=architect, fields={"object_type": "knowledge"})
    assert keys(release) == ["freshness", "authority", "retrieval_quality"]
    release_update(release=release, by=architect, fields={"object_type": "policy"})
    assert keys(release) == ["legal_compliance_review", "frontline_communication", "eval_update"]
    assert not release.evidence_items.get(key="eval_update").is_attested  # dropped, then new


def test_a_submitted_release_is_not_edited(submitted, architect):
    release = submitted()
    with pytest.raises(TransitionNotAllowed):
        release_update(release=release, by=architect, fields={"change": "Something else"})


def test_creation_checks_the_fields_and_the_person(make_release, viewer, capability, make_person):
    with pytest.raises(ValidationError) as error:
        make_release(version_to="v11")
    assert "version_to" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        make_release(owner=viewer)
    assert "owner" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        make_release(by=make_person("risk_compliance", capability))
    assert not Release.objects.exists()


def test_attesting_needs_a_link_or_a_file_and_records_who_and_when(make_release, analyst, viewer):
    release = make_release()
    with pytest.raises(DomainError) as error:
        release.attest(by=analyst, item="regression_eval", note="Trust me")
    assert error.value.field == "link"
    with pytest.raises(PermissionDenied):
        release.attest(by=viewer, item="regression_eval", link="https://evidence.example/x")
    item = release.attest(by=analyst, item="regression_eval", link="https://evidence.example/eval")
    assert item.attested_by == analyst and item.attested_at is not None
    assert item.history.latest().history_user == analyst


# --- submission -------------------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["rollback_plan", "post_release_review_date"])
def test_a_release_is_not_submitted_without_a_rollback_plan_and_a_review_date(make_release, missing):
    release = make_release(**{missing: "" if missing == "rollback_plan" else None})
    with pytest.raises(DomainError) as error:
        release.submit(by=release.owner)
    assert error.value.field == missing
    release.refresh_from_db()
    assert release.state == "draft"


def test_submitting_opens_an_approval_round_and_tells_the_approvers(submitted, risk_partner, platform):
    from productops.models import Notification

    release = submitted()
    assert (release.state, release.approval_round) == ("submitted", 1)
    told = set(
        Notification.objects.filter(subject__contains="awaits your approval").values_list(
            "recipient", flat=True
        )
    )
    assert {risk_partner.pk, platform.pk} <= told and release.owner_id not in told


# --- approvals --------------------------------------------------------------------------------


def test_the_owner_never_approves_their_own_release(submitted, architect):
    release = submitted()
    with pytest.raises(MoveNotPermitted) as error:
        release.approve(by=architect, comment="Looks fine to me")
    assert error.value.field == "approver"
    release.refresh_from_db()
    assert release.state == "submitted" and not release.approvals.exists()


def test_an_approval_needs_a_comment(submitted, risk_partner):
    release = submitted()
    with pytest.raises(DomainError) as error:
        release.approve(by=risk_partner, comment="  ")
    assert error.value.field == "comment"


def test_approval_is_refused_while_an_evidence_item_is_open(make_release, risk_partner):
    release = make_release(object_type="model", version_from="m-1", version_to="m-2")
    release.attest(by=risk_partner, item="quality_comparison", link="https://evidence.example/q")
    release.submit(by=release.owner)
    with pytest.raises(DomainError) as error:
        release.approve(by=risk_partner, comment="Go")
    assert error.value.field == "evidence"
    assert "Latency comparison" in error.value.message and "Rollback test" in error.value.message
    assert Release.objects.get(pk=release.pk).state == "submitted"


def test_approval_records_a_release_approval_decision_linked_both_ways(submitted, pm, risk_partner):
    release = submitted()
    approval = release.approve(by=pm, comment="Eval green on 120 cases.")
    release.refresh_from_db()
    assert (release.state, release.approval_scope) == ("approved", "full")
    decision = release.decisions.get()
    assert decision.type == "release_approval" and approval.decision == decision
    assert decision.recorded_by == pm and decision.owner == pm  # the AI PM writes the decision log
    assert [link.reference for link in decision.evidence_links.all()] == [release.readable_id]
    assert release.history.latest().history_user == pm

    other = submitted(change="Another prompt")
    other.approve(by=risk_partner, comment="Fine.")
    # Risk / Compliance is only consulted on the decision log: the system records it, owned by them.
    recorded = other.decisions.get()
    assert recorded.recorded_by is None and recorded.owner == risk_partner


def test_a_tool_change_needs_two_distinct_approvers(submitted, pm, platform):
    release = submitted(object_type="tool", version_from="", version_to="crm-write-v1")
    release.approve(by=pm, comment="Side effects reviewed.")
    release.refresh_from_db()
    assert release.state == "submitted" and release.approval_scope == ""
    assert "waiting for a second approver" in release.history.latest().history_change_reason
    with pytest.raises(MoveNotPermitted):
        release.approve(by=pm, comment="Approving again")
    assert not Decision.objects.exists()
    release.approve(by=platform, comment="Audit trail checked.")
    release.refresh_from_db()
    assert release.state == "approved"
    assert sorted(release.decisions.get().details["approvals"], key=lambda a: a["approver"])[0][
        "approver"
    ] in (
        pm.username,
        platform.username,
    )


def test_a_high_risk_release_needs_an_approver_holding_risk_compliance(submitted, pm, risk_partner):
    release = submitted(risk_tier="high")
    with pytest.raises(MoveNotPermitted) as error:
        release.approve(by=pm, comment="Fine from product.")
    assert "Risk / Compliance" in error.value.message
    release.approve(by=risk_partner, comment="Policy review attached.")
    release.refresh_from_db()
    assert release.state == "approved"


def test_a_critical_tool_change_takes_a_product_approval_then_a_risk_one(
    submitted, pm, platform, risk_partner
):
    release = submitted(object_type="tool", risk_tier="critical", version_from="", version_to="t-1")
    release.approve(by=pm, comment="Product is fine.")
    with pytest.raises(MoveNotPermitted):
        release.approve(by=platform, comment="Platform is fine.")  # would complete without risk
    release.approve(by=risk_partner, comment="Risk signs off.")
    release.refresh_from_db()
    assert release.state == "approved"


def test_a_stop_hold_blocks_approval_until_risk_lifts_it(submitted, capability, risk_partner, pm):
    release = submitted()
    contract = MetricContractFactory(capability=capability)
    hold = StopHold.objects.create(
        capability=capability, signal=SignalFactory(contract=contract, level="stop"), reason="False passes"
    )
    with pytest.raises(ReleaseHeld) as error:
        release.approve(by=risk_partner, comment="Go")
    assert error.value.status_code == 409 and error.value.field == "stop_hold"
    with pytest.raises(PermissionDenied):
        stop_hold_lift(hold=hold, by=pm, comment="Not mine to lift")
    stop_hold_lift(hold=hold, by=risk_partner, comment="Sample clean again")
    release.approve(by=risk_partner, comment="Go")
    assert Release.objects.get(pk=release.pk).state == "approved"


def test_hold_request_changes_and_reject_are_verdicts_with_comments(submitted, risk_partner, pm):
    release = submitted()
    release.hold(by=risk_partner, comment="Wait for the complaint review")
    assert release.state == "on_hold"
    release.request_changes(by=risk_partner, comment="Add the vulnerable-customer cases to the eval")
    assert release.state == "changes_requested"
    release.submit(by=release.owner)
    assert release.approval_round == 2
    release.reject(by=pm, comment="Superseded by the knowledge fix")
    assert release.state == "rejected"
    assert list(release.approvals.values_list("verdict", flat=True)) == ["hold", "request_changes", "reject"]


def test_approvals_of_an_earlier_round_do_not_count(submitted, pm, platform):
    release = submitted(object_type="tool", version_from="", version_to="t-1")
    release.approve(by=pm, comment="First")
    release.request_changes(by=platform, comment="Add the audit sample")
    release.submit(by=release.owner)
    release.approve(by=platform, comment="Now fine")
    assert Release.objects.get(pk=release.pk).state == "submitted"  # pm's earlier approval is gone


def test_a_viewer_may_not_approve(submitted, viewer):
    release = submitted()
    with pytest.raises(PermissionDenied):
        release.approve(by=viewer, comment="I like it")


# --- deployment, version set, rollback ----------------------------------------------------------


def test_deploying_updates_the_version_set_and_expires_assumptions_resting_on_the_object(
    submitted, risk_partner, capability
):
    assumption = AssumptionFactory(capability=capability, depends_on_object_types=["prompt"])
    untouched = AssumptionFactory(capability=capability, depends_on_object_types=["model"])
    capability.current_version_set = {"model": "m-2026-05", "prompt": "v11"}
    capability.save()
    release = submitted()
    release.approve(by=risk_partner, comment="Fine")
    release.deploy(by=release.owner, to="released")
    release.refresh_from_db()
    capability.refresh_from_db()
    assert (release.state, release.deployed_date) == ("released", timezone.localdate())
    assert capability.current_version_set == {"model": "m-2026-05", "prompt": "v12"}
    assert release.readable_id in capability.history.latest().history_change_reason
    assumption.refresh_from_db()
    untouched.refresh_from_db()
    assert assumption.status == "expired" and untouched.status != "expired"


def test_approved_for_canary_deploys_to_canary_only_until_a_full_approval(
    submitted, risk_partner, pm, capability
):
    release = submitted()
    release.approve_for_canary(by=risk_partner, comment="Canary on the north team")
    with pytest.raises(TransitionNotAllowed):
        release.deploy(by=release.owner, to="released")
    release.deploy(by=release.owner, to="canary")
    assert release.state == "canary"
    capability.refresh_from_db()
    assert capability.current_version_set["prompt"] == "v12"
    with pytest.raises(TransitionNotAllowed):
        release.deploy(by=release.owner, to="released")
    release.approve(by=pm, comment="Canary held up for a week")
    assert (release.state, release.approval_scope) == ("canary", "full")
    release.deploy(by=release.owner, to="released")
    assert release.state == "released"


def test_rollback_restores_the_previous_version_and_logs_a_decision(released, capability, architect):
    capability.current_version_set = {"prompt": "v11"}
    capability.save()
    release = released()
    with pytest.raises(DomainError) as error:
        release.rollback(by=architect, reason=" ")
    assert error.value.field == "reason"
    decision = release.rollback(by=architect, reason="Billing repeat contact past breach")
    release.refresh_from_db()
    capability.refresh_from_db()
    assert release.state == "rolled_back" and release.rollback_reason == "Billing repeat contact past breach"
    assert capability.current_version_set == {"prompt": "v11"}
    assert decision.type == "rollback" and decision in release.decisions.all()
    assert decision.details["restored_version"] == "v11"


def test_a_release_is_not_rolled_back_over_a_later_one(released, capability, architect):
    first = released()
    second = released(change="Next prompt", version_from="v12", version_to="v13")
    with pytest.raises(DomainError) as error:
        first.rollback(by=architect, reason="Regression")
    assert error.value.field == "version_to"
    second.rollback(by=architect, reason="Regression")
    first.rollback(by=architect, reason="Regression")
    capability.refresh_from_db()
    assert capability.current_version_set == {"prompt": "v11"}


def test_deploying_is_refused_under_a_stop_hold(submitted, risk_partner, capability):
    release = submitted()
    release.approve(by=risk_partner, comment="Fine")
    StopHold.objects.create(
        capability=capability,
        signal=SignalFactory(contract=MetricContractFactory(capability=capability)),
        reason="x",
    )
    with pytest.raises(ReleaseHeld):
        release.deploy(by=release.owner)
    assert Release.objects.get(pk=release.pk).deployed_date is None


def test_a_deployment_is_not_dated_in_the_future(submitted, risk_partner):
    release = submitted()
    release.approve(by=risk_partner, comment="Fine")
    with pytest.raises(DomainError) as error:
        release.deploy(by=release.owner, on=timezone.localdate() + datetime.timedelta(days=1))
    assert error.value.field == "deployed_date"


@pytest.mark.parametrize(
    "move, kwargs",
    [
        ("deploy", {}),
        ("approve", {"comment": "x"}),
        ("rollback", {"reason": "x"}),
        ("record_impact_review", {"expected_effect": "x", "decision": "keep", "comment": "x"}),
    ],
)
def test_moves_from_the_wrong_state_are_refused(make_release, risk_partner, move, kwargs):
    release = make_release()
    by = risk_partner if move == "approve" else release.owner
    with pytest.raises(TransitionNotAllowed):
        getattr(release, move)(by=by, **kwargs)
    assert Release.objects.get(pk=release.pk).state == "draft"
