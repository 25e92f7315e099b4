import datetime

import pytest

from incidents.models import Incident
from incidents.services import incident_add_learning_item
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = pytest.mark.django_db


def test_it_refuses_closure_without_a_learning_item_and_with_open_actions(
    report, ops, to_learning, close_action
):
    incident = report(severity="sev2")
    action = to_learning(incident, learning_kind=None)
    with pytest.raises(TransitionNotAllowed):  # no closing before learning is recorded
        incident.close(by=ops)
    with pytest.raises(DomainError, match="learning item"):
        incident.record_learning(by=ops)
    assert "learning item" in " ".join(incident.close_blockers())
    incident_add_learning_item(incident=incident, by=ops, kind="policy_sop", text="Fee SOP updated")
    incident.record_learning(by=ops)
    incident.record_forum_review(by=ops, reviewed_on=datetime.date.today(), note="Incident review 12 May")
    with pytest.raises(DomainError, match="Corrective actions are not closed") as error:
        incident.close(by=ops)
    assert action.readable_id in str(error.value)
    close_action(action)
    incident.close(by=ops)
    assert Incident.objects.get(pk=incident.pk).state == "closed"


def test_learning_recorded_needs_an_item(report, ops, to_learning):
    incident = report(severity="sev2")
    to_learning(incident, learning_kind=None)
    with pytest.raises(DomainError, match="learning item"):
        incident.record_learning(by=ops)
    assert incident.state == "corrective_actions_agreed"


def test_sev1_notifies_executive_and_risk_at_once(
    report, make_person, capability, other_capability, executive, risk
):
    local_risk = make_person("risk_compliance", capability, username="localrisk")
    other_exec = make_person("executive", other_capability, username="otherexec")
    pm = make_person("ai_pm", capability, username="pm2")
    incident = report(severity="sev1")
    recipients = set(
        Notification.objects.filter(url=incident.get_absolute_url()).values_list(
            "recipient__username", flat=True
        )
    )
    assert recipients == {executive.username, risk.username, local_risk.username}
    assert other_exec.username not in recipients and pm.username not in recipients


def test_sev2_notifies_nobody_on_creation(report, executive, risk):
    incident = report(severity="sev2")
    assert not Notification.objects.filter(url=incident.get_absolute_url()).exists()


def test_sev1_is_contained_before_anything_else(report, ops, add_action):
    incident = report(severity="sev1")
    with pytest.raises(TransitionNotAllowed, match="contained first"):
        incident.record_root_causes(by=ops, causes=[("prompt", "")])
    with pytest.raises(TransitionNotAllowed):
        add_action(incident)
    with pytest.raises(DomainError, match="rollback or a restriction"):
        incident.contain(by=ops, immediate_action="Paused")
    incident.contain(by=ops, immediate_action="Paused", restriction="Fee intents to humans only")
    incident.record_root_causes(by=ops, causes=[("prompt", "Fee wording")])
    assert incident.state == "root_cause_found"


def test_containment_rollback_performs_the_release_rollback(report, architect, released, capability):
    release = released()
    capability.refresh_from_db()
    assert capability.current_version_set.get("prompt") == "v12"
    incident = report(severity="sev1", by=architect)
    incident.contain(by=architect, immediate_action="Rolled the prompt back", rollback_release=release)
    release.refresh_from_db()
    capability.refresh_from_db()
    assert release.state == "rolled_back"
    assert capability.current_version_set.get("prompt") == "v11"
    assert incident.rollback_release_id == release.pk
    assert list(incident.affected_releases.all()) == [release]


@pytest.mark.parametrize("severity", ["sev1", "sev2"])
def test_sev1_and_sev2_close_only_after_forum_review(report, ops, to_learning, close_action, severity):
    incident = report(severity=severity)
    close_action(to_learning(incident))
    with pytest.raises(DomainError, match="incident review forum"):
        incident.close(by=ops)
    incident.record_forum_review(by=ops, reviewed_on=datetime.date.today(), note="Weekly incident review")
    incident.close(by=ops)
    assert incident.state == "closed"


def test_sev3_needs_a_backlog_item(report, ops, to_learning, close_action, capability):
    from contracts.tests.factories import MetricContractFactory

    contract = MetricContractFactory(capability=capability)
    incident = report(severity="sev3")
    close_action(to_learning(incident))
    with pytest.raises(DomainError, match="Sev3 incident needs a backlog item"):
        incident.close(by=ops)
    item = incident_add_learning_item(
        incident=incident,
        by=ops,
        kind="backlog_item",
        backlog={
            "title": "Fee explanation quality fix",
            "item_class": "risk_control",
            "expected_metric": contract,
            "expected_direction": "down",
        },
    )
    assert item.record.incident_severity == "sev3"
    assert item.record.evidence_object_id == incident.pk
    incident.close(by=ops)
    assert incident.state == "closed"


def test_sev4_needs_a_watchlist_sample_size(report, ops, to_learning, close_action):
    incident = report(severity="sev4", source="monitoring", complaint_signal="")
    close_action(to_learning(incident))
    with pytest.raises(DomainError, match="watchlist"):
        incident.close(by=ops)
    with pytest.raises(DomainError):
        incident.set_watchlist(by=ops, sample_size=0)
    incident.set_watchlist(by=ops, sample_size=200)
    incident.close(by=ops)
    assert incident.state == "closed"


def test_recurrence_links_the_earlier_incident(report, ops, other_capability, make_person):
    first = report(title="Fee answer wrong", occurred_on=datetime.date(2026, 1, 5))
    first.record_root_causes(by=ops, causes=[("knowledge", "")])
    unrelated = report(title="Slow", occurred_on=datetime.date(2026, 1, 10))
    unrelated.record_root_causes(by=ops, causes=[("workflow", "")])
    second = report(title="Fee answer wrong again", occurred_on=datetime.date(2026, 2, 5))
    assert not second.is_recurrence
    second.record_root_causes(by=ops, causes=[("knowledge", "Same article"), ("prompt", "")])
    second.refresh_from_db()
    assert second.is_recurrence and second.recurrence_of_id == first.pk
    assert Incident.objects.recurrence_counts() == {first.capability_id: 1}
    # Another capability's incident with the same class is no recurrence of this one.
    other_ops = make_person("ops", other_capability, username="otherops")
    elsewhere = report(capability=other_capability, by=other_ops, occurred_on=datetime.date(2026, 3, 1))
    elsewhere.record_root_causes(by=other_ops, causes=[("knowledge", "")])
    assert not elsewhere.is_recurrence


@pytest.mark.parametrize(
    "signal,classes",
    [
        ("misleading_answer", {"prompt", "knowledge", "policy"}),
        ("inconsistent_treatment", {"data", "policy", "training"}),
        ("slow_resolution", {"workflow"}),
        ("unfair_outcome", {"policy", "monitoring", "model"}),
        ("customer_confusion", {"prompt", "workflow", "training"}),
        ("repeated_escalation", {"workflow", "training"}),
    ],
)
def test_complaint_signal_suggests_the_mapped_root_cause_classes(report, signal, classes):
    incident = report(complaint_signal=signal)
    assert {value for value, _label, _aspect in incident.suggested_root_causes()} == classes


def test_complaint_signal_only_on_complaints(report):
    with pytest.raises(DomainError):
        report(source="monitoring", complaint_signal="misleading_answer")


def test_agreeing_needs_a_corrective_action_with_a_reopen_trigger(report, ops, add_action):
    incident = report()
    incident.record_root_causes(by=ops, causes=[("prompt", "")])
    with pytest.raises(DomainError):
        incident.agree_corrective_actions(by=ops)
    from incidents.services import incident_add_corrective_action

    with pytest.raises(DomainError):
        incident_add_corrective_action(
            incident=incident,
            by=ops,
            action="x",
            owner=ops,
            due_date=datetime.date.today(),
            closure_criterion="y",
            reopen_trigger=None,
        )
    action = add_action(incident)
    assert action.source == incident and action.source_kind == "incident"
    incident.agree_corrective_actions(by=ops)
    assert incident.state == "corrective_actions_agreed"


def test_viewer_may_not_report(report, viewer):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        report(by=viewer)
