"""Runs store findings and a score; a severe finding reaches the PM once; waivers are logged
decisions taken by the accountable role, and an expired waiver brings the finding back."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from actions.tests.factories import ActionFactory
from decisions.models import Decision
from hygiene.checks import CHECKS
from hygiene.models import Finding, Run, SevereNotice, Waiver
from hygiene.services import hygiene_run, score_of, waiver_grant
from productops.errors import DomainError
from productops.models import Notification

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


def total_weight():
    return sum({"high": 3, "medium": 2, "low": 1}[spec.severity] for spec in CHECKS.values())


def test_a_clean_capability_scores_100(capability, healthy):
    run = hygiene_run(capability=capability)
    assert (run.score, run.high, run.medium, run.low) == (100, 0, 0, 0)
    assert run.findings.count() == 0


def test_the_score_is_the_weighted_share_of_passing_checks(capability, healthy, make_contract, pm, today):
    make_contract(business_owner=None)  # metric without owner: high, 3
    ActionFactory(capability=capability, owner=pm, due_date=today - DAY)  # overdue: medium, 2
    ActionFactory(capability=capability, owner=pm, due_date=today - 2 * DAY)  # same check again
    run = hygiene_run(capability=capability)
    assert run.score == round(100 * (total_weight() - 5) / total_weight())
    assert (run.high, run.medium, run.low) == (1, 2, 0)
    assert sorted(run.failing_checks) == ["metric_without_owner", "overdue_actions"]
    assert set(Finding.objects.filter(run=run).values_list("check_id", flat=True)) == set(run.failing_checks)


@pytest.fixture
def severe(capability, healthy, make_contract):
    return make_contract(business_owner=None)


def test_a_new_severe_finding_tells_the_pm_once(capability, severe, pm):
    hygiene_run(capability=capability)
    hygiene_run(capability=capability)
    [notice] = Notification.objects.filter(recipient=pm)
    assert severe.metric_id in notice.body
    assert notice.url == f"/hygiene/{capability.slug}/"
    assert SevereNotice.objects.filter(capability=capability).count() == 1


def test_a_medium_finding_tells_nobody(capability, healthy, pm, today):
    ActionFactory(capability=capability, owner=pm, due_date=today - DAY)
    hygiene_run(capability=capability)
    assert not Notification.objects.filter(recipient=pm).exists()


def finding_of(run, check_id):
    return run.findings.get(check_id=check_id)


def test_the_pm_waives_a_finding_as_a_logged_risk_acceptance(capability, severe, pm, today):
    run = hygiene_run(capability=capability)
    finding = finding_of(run, "metric_without_owner")
    waiver = waiver_grant(
        finding=finding, by=pm, reason="Owner hired next month", expires_on=today + 14 * DAY
    )
    decision = Decision.objects.get(pk=waiver.decision_id)
    assert decision.type == "risk_acceptance"
    assert decision.owner == pm and decision.review_date == today + 14 * DAY
    assert "Owner hired next month" in decision.decision
    assert [link.object_id for link in decision.evidence_links.all()] == [severe.pk]
    rerun = hygiene_run(capability=capability)
    assert rerun.score == 100 and rerun.waived == 1 and rerun.high == 0
    assert finding_of(rerun, "metric_without_owner").waiver == waiver


def test_an_expired_waiver_brings_the_finding_back(capability, severe, pm, today):
    finding = finding_of(hygiene_run(capability=capability), "metric_without_owner")
    waiver_grant(finding=finding, by=pm, reason="Owner hired next month", expires_on=today + 14 * DAY)
    assert hygiene_run(capability=capability, today=today + 14 * DAY).high == 0  # its last day
    with time_machine.travel(timezone.now() + 15 * DAY):
        back = hygiene_run(capability=capability)
    assert back.high == 1 and back.waived == 0 and back.score < 100
    assert finding_of(back, "metric_without_owner").waiver is None


@pytest.mark.parametrize(
    ("role", "check_id", "allowed"),
    [
        ("ai_pm", "metric_without_owner", True),
        ("business_analyst", "metric_without_owner", False),  # R on metric contracts, not A
        ("viewer", "metric_without_owner", False),
        ("ai_architect", "release_invisibility", True),
        ("ai_pm", "release_invisibility", False),  # C on the release calendar
        ("risk_compliance", "incident_amnesia", True),
    ],
)
def test_only_the_accountable_role_of_the_check_may_waive(
    capability, make_person, role, check_id, allowed, today
):
    person = make_person(role, capability)
    run = Run.objects.create(capability=capability, as_of=today, trigger="manual", score=90)
    finding = Finding.objects.create(
        run=run, check_id=check_id, severity=CHECKS[check_id].severity, key=f"{check_id}:x", text="t", fix="f"
    )
    if allowed:
        assert waiver_grant(finding=finding, by=person, reason="Accepted", expires_on=today + DAY).pk
    else:
        with pytest.raises(PermissionDenied):
            waiver_grant(finding=finding, by=person, reason="Accepted", expires_on=today + DAY)
        assert not Waiver.objects.exists() and not Decision.objects.exists()


@pytest.mark.parametrize(
    ("reason", "days", "field"),
    [("", 10, "reason"), ("Accepted", 0, "expires_on"), ("Accepted", 181, "expires_on")],
)
def test_a_waiver_needs_a_reason_and_an_expiry_within_180_days(
    capability, severe, pm, today, reason, days, field
):
    finding = finding_of(hygiene_run(capability=capability), "metric_without_owner")
    with pytest.raises(DomainError) as error:
        waiver_grant(finding=finding, by=pm, reason=reason, expires_on=today + days * DAY)
    assert error.value.field == field
    assert not Waiver.objects.exists() and not Decision.objects.exists()


def test_a_finding_is_waived_once(capability, severe, pm, today):
    finding = finding_of(hygiene_run(capability=capability), "metric_without_owner")
    waiver_grant(finding=finding, by=pm, reason="Accepted", expires_on=today + DAY)
    with pytest.raises(DomainError) as error:
        waiver_grant(finding=finding, by=pm, reason="Again", expires_on=today + 2 * DAY)
    assert error.value.field == "key"
    assert Waiver.objects.count() == 1


def test_score_of_ignores_waived_keys():
    from hygiene.checks import FindingData

    finding = FindingData("contracts_past_review", "low", "t", "f", [{"model": "m", "pk": 1}])
    assert score_of([finding], set())[0] < 100
    assert score_of([finding], {finding.key}) == (100, [])
