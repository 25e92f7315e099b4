"""Threshold signals: one action per signal, escalation on worsening, the stop rule and its hold,
guardrail flags, reopen triggers, and closure proved from the data."""

import datetime

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from actions.models import Action, ClosureEvidence, Reopening
from contracts.evaluation import evaluate_contract
from contracts.models import MetricContract, Signal, StopHold
from contracts.services import capability_held, closure_data_check, stop_hold_lift
from contracts.tests.evaluation_helpers import TODAY, W1, W2, W3, W4, W5, W6, make_contract, weekly
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = pytest.mark.django_db

CARDS = {"intent": "cards", "team": "north"}


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def today_plus(days):
    return TODAY.date() + datetime.timedelta(days=days)


def test_a_breach_opens_one_signal_and_one_action_over_several_runs_and_breach_periods(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.05, 0.172, 0.18, 0.17])

    for _ in range(3):
        evaluate_contract(contract.pk)

    signal = Signal.objects.get()
    assert (signal.cut, signal.level, signal.worst_level) == ("", "breach", "breach")
    assert (signal.opened_period, signal.last_period, signal.resolved_period) == (W2, W4, None)
    assert round(signal.observed_value, 3) == 0.17
    assert signal.threshold_crossed == 0.16
    action = Action.objects.get()
    assert signal.action == action
    assert action.source == signal
    assert (action.source_kind, action.owner, action.status) == ("signal", pm, "open")
    assert action.action == "Hold prompt releases for billing and review the knowledge article"
    assert (
        action.source_signal
        == "cc_agent_assist.repeat_contact_7d at 0.172 ≥ breach 0.16 in week of 2026-06-08"
    )
    assert action.due_date == today_plus(7)
    # The breach rule has no closure criterion: the data criterion stands in.
    assert action.closure_criterion == "Back under warning for 2 periods"
    assert Notification.objects.filter(recipient=pm, subject="ACT-0001: new action for you").count() == 1


def test_each_cut_has_its_own_signal_named_in_the_source_signal(capability, pm):
    contract = make_contract(capability)
    weekly(contract, [0.172], n=100)  # billing
    weekly(contract, [0.02], n=300, cohort=CARDS)  # keeps the whole population under warning

    evaluate_contract(contract.pk)

    signal = Signal.objects.get()
    assert signal.cut == "intent=billing"
    assert signal.action.source_signal == (
        "cc_agent_assist.repeat_contact_7d [intent=billing] at 0.172 ≥ breach 0.16 in week of 2026-06-01"
    )


def test_worsening_escalates_the_same_signal_and_brings_the_due_date_forward(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.13])
    evaluate_contract(contract.pk)
    action = Action.objects.get()
    assert (action.action, action.due_date) == ("Sample 50 billing calls for QA", today_plus(14))
    assert action.closure_criterion == "QA sample shows repeat contact back under warning"

    weekly(contract, [None, 0.18])
    evaluate_contract(contract.pk, since=W2)
    evaluate_contract(contract.pk, since=W2)

    signal = Signal.objects.get()
    assert (signal.level, signal.worst_level, signal.opened_period, signal.last_period) == (
        "breach",
        "breach",
        W1,
        W2,
    )
    assert signal.history.latest().history_change_reason.startswith("Worsened to breach:")
    action = Action.objects.get()
    assert action.due_date == today_plus(7)
    assert action.history.latest().history_change_reason == (
        f"Due date brought forward from {today_plus(14)} to {today_plus(7)}: signal worsened to breach "
        "(cc_agent_assist.repeat_contact_7d at 0.18 ≥ breach 0.16 in week of 2026-06-08)"
    )
    worsened = Notification.objects.filter(recipient=pm, subject="ACT-0001: signal worsened to breach")
    assert worsened.count() == 1
    assert f"now due {today_plus(7)}" in worsened.get().body


def test_back_to_warning_does_not_escalate_again(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.13, 0.18, 0.13, 0.18])
    evaluate_contract(contract.pk)

    signal = Signal.objects.get()
    assert (signal.level, signal.worst_level, signal.last_period) == ("breach", "breach", W4)
    assert Notification.objects.filter(subject__contains="signal worsened").count() == 1
    assert Action.objects.count() == 1


def test_a_stop_holds_the_capability_once_and_tells_the_risk_reviewer(capability, pm, risk, make_person):
    partner = make_person("risk_compliance", capability, username="partner")
    contract = make_contract(
        capability, required_cuts=[], stop_level=0.25, risk_reviewer=risk, stop_rule="Pause the prompt."
    )
    weekly(contract, [0.13, 0.30, 0.31])

    evaluate_contract(contract.pk)
    evaluate_contract(contract.pk)

    signal = Signal.objects.get()
    assert (signal.level, signal.worst_level) == ("stop", "stop")
    hold = StopHold.objects.get()
    assert (hold.capability, hold.signal, hold.lifted_at) == (capability, signal, None)
    assert hold.reason == (
        "Stop rule fired: cc_agent_assist.repeat_contact_7d at 0.3 ≥ stop 0.25 in week of 2026-06-08. "
        "Pause the prompt."
    )
    assert capability_held(capability)
    for person in (risk, partner):
        assert (
            Notification.objects.filter(recipient=person, subject__startswith="Stop rule fired").count() == 1
        )
    assert Action.objects.count() == 1


def test_only_risk_lifts_a_stop_hold_and_only_with_a_comment(capability, pm, risk):
    contract = make_contract(capability, required_cuts=[], stop_level=0.25, risk_reviewer=risk)
    weekly(contract, [0.30])
    evaluate_contract(contract.pk)
    hold = StopHold.objects.get()

    with pytest.raises(PermissionDenied):
        stop_hold_lift(hold=hold, by=pm, comment="I own the product")
    with pytest.raises(DomainError) as error:
        stop_hold_lift(hold=hold, by=risk, comment="  ")
    assert error.value.field == "comment"
    assert capability_held(capability)

    stop_hold_lift(hold=hold, by=risk, comment="Prompt rolled back to v11; QA sample clean.")

    hold.refresh_from_db()
    assert (hold.lifted_by, hold.lift_comment) == (risk, "Prompt rolled back to v11; QA sample clean.")
    assert (
        hold.history.latest().history_change_reason == "Lifted: Prompt rolled back to v11; QA sample clean."
    )
    assert hold.history.latest().history_user == risk
    assert not capability_held(capability)
    with pytest.raises(TransitionNotAllowed):
        stop_hold_lift(hold=hold, by=risk, comment="again")
    # The same signal staying at stop does not hold the capability again.
    weekly(contract, [None, 0.31])
    evaluate_contract(contract.pk)
    assert StopHold.objects.count() == 1


def test_an_improvement_while_a_guardrail_is_past_warning_is_not_net_until_the_guardrail_recovers(
    capability, pm
):
    contract = make_contract(capability, required_cuts=[])
    guardrail = make_contract(
        capability,
        metric_id="cc_agent_assist.complaint_rate",
        required_cuts=[],
        target=0.01,
        warning=0.02,
        breach=0.03,
    )
    contract.guardrails.add(guardrail)
    weekly(contract, [0.11, 0.11, 0.11, 0.11, 0.09])  # baseline 0.11, latest 0.09: better
    weekly(guardrail, [0.01, 0.01, 0.01, 0.01, 0.035])
    evaluate_contract(guardrail.pk)
    evaluate_contract(contract.pk)

    contract.refresh_from_db()
    assert contract.improvement_not_net
    assert contract.improvement_not_net_reason == (
        "cc_agent_assist.repeat_contact_7d improved to 0.09 in week of 2026-06-29 against a baseline of 0.11 "
        "(mean of its first 4 periods) while its guardrail cc_agent_assist.complaint_rate at breach "
        "(0.035 in week of 2026-06-29)."
    )

    # The guardrail comes back under warning: evaluating it clears the flag of what it guards.
    weekly(guardrail, [0.01], start=W6)
    evaluate_contract(guardrail.pk, since=W6)
    contract.refresh_from_db()
    assert (contract.improvement_not_net, contract.improvement_not_net_reason) == (False, "")


def test_no_flag_without_an_improvement_over_the_baseline(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    guardrail = make_contract(capability, metric_id="cc_agent_assist.complaint_rate", required_cuts=[])
    contract.guardrails.add(guardrail)
    weekly(contract, [0.11, 0.11, 0.11, 0.11, 0.115])
    weekly(guardrail, [0.20])
    evaluate_contract(guardrail.pk)
    evaluate_contract(contract.pk)
    contract.refresh_from_db()
    assert not contract.improvement_not_net


def test_a_reopen_trigger_reopens_a_closed_action_once(capability, pm, make_person):
    from actions.services import action_create

    contract = make_contract(capability, required_cuts=[])
    reviewer = make_person("risk_compliance", capability, username="reviewer")
    with time_machine.travel(datetime.datetime(2026, 6, 3, 12, 0, tzinfo=datetime.UTC), tick=False):
        action = action_create(
            capability=capability,
            by=pm,
            action="Update the billing knowledge article",
            owner=pm,
            reviewer=reviewer,
            due_date=datetime.date(2026, 6, 10),
            closure_criterion="Article published",
            reopen_trigger={
                "kind": "contract_level",
                "contract_metric_id": contract.metric_id,
                "comparison": "at_or_above",
                "level": "0.16",
                "periods": 2,
            },
        )
        action.submit_evidence(by=pm, text="Published")
        action.verify(by=reviewer)
    # Week 1 started before the closure (3 June): it does not count, so week 2 stands alone.
    # Week 5 is at the level, but not yet for two periods.
    weekly(contract, [0.20, 0.17, 0.10, 0.10, 0.18])
    evaluate_contract(contract.pk, since=W1)
    action.refresh_from_db()
    assert action.status == "closed"

    weekly(contract, [0.19], start=W6)
    evaluate_contract(contract.pk, since=W6)
    evaluate_contract(contract.pk, since=W6)

    action.refresh_from_db()
    assert (action.status, action.times_reopened) == ("reopened", 1)
    reopening = Reopening.objects.get()
    assert reopening.by_trigger
    assert reopening.reason.startswith(
        "cc_agent_assist.repeat_contact_7d at or above 0.16 for 2 periods after closure: "
        "week of 2026-06-29 0.18, week of 2026-07-06 0.19 — signal: cc_agent_assist.repeat_contact_7d at 0.19"
    )


def test_back_under_warning_for_the_closure_periods_attaches_the_data_check_and_awaits_verification(
    capability, pm
):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.18, 0.11])
    evaluate_contract(contract.pk)
    action = Action.objects.get()

    check = closure_data_check(action)
    assert not check.passed
    assert check.periods == [(W1, 0.18, "breach"), (W2, 0.11, "ok")]
    assert check.summary == (
        "Data check failing: needs 2 periods in a row below warning; "
        "latest: week of 2026-06-01 0.18 (breach), week of 2026-06-08 0.11."
    )
    assert action.status == "open" and not ClosureEvidence.objects.exists()

    weekly(contract, [None, None, 0.10])
    evaluate_contract(contract.pk, since=W3)
    evaluate_contract(contract.pk, since=W3)

    signal = Signal.objects.get()
    assert signal.resolved_period == W3
    action.refresh_from_db()
    assert action.status == "awaiting_verification"
    evidence = ClosureEvidence.objects.get()
    assert (evidence.submitted_by, evidence.verdict) == (None, "pending")
    assert evidence.text == (
        "Data check passed: 2 periods below warning (values week of 2026-06-08 0.11, week of 2026-06-15 0.1)."
    )
    assert closure_data_check(action).passed
    assert closure_data_check(Action(pk=10_000)) is None


def test_a_failing_period_breaks_the_run_and_the_check_shows_its_level(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.18, 0.11, 0.13])
    evaluate_contract(contract.pk)

    check = closure_data_check(Action.objects.get())
    assert not check.passed
    assert check.periods == [(W2, 0.11, "ok"), (W3, 0.13, "warning")]
    assert "week of 2026-06-15 0.13 (warning)" in check.summary
    assert Signal.objects.get().resolved_period is None


def test_an_insufficient_period_does_not_open_a_signal(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.30, 0.40], n=10)  # breaches on ten cases: insufficient data
    evaluate_contract(contract.pk)
    assert not Signal.objects.exists()
    assert not Action.objects.exists()


def test_an_insufficient_period_breaks_the_run_back_under_warning(capability, pm):
    contract = make_contract(capability, required_cuts=[], min_sample_size=50)
    weekly(contract, [0.30, 0.05], n=100)
    weekly(contract, [None, None, 0.05], n=10)
    weekly(contract, [None, None, None, 0.05, 0.05], n=100)
    evaluate_contract(contract.pk)
    # W2 ok, W3 insufficient, W4 ok, W5 ok: resolved at W5, not at W4.
    assert Signal.objects.get().resolved_period == W5


def test_after_a_signal_resolves_a_new_breach_opens_a_new_signal_and_action(capability, pm):
    contract = make_contract(capability, required_cuts=[])
    weekly(contract, [0.18, 0.05, 0.05, 0.18])
    evaluate_contract(contract.pk)
    evaluate_contract(contract.pk)

    first, second = Signal.objects.order_by("opened_period")
    assert (first.opened_period, first.resolved_period) == (W1, W3)
    assert (second.opened_period, second.resolved_period) == (W4, None)
    assert Action.objects.count() == 2
    assert first.action != second.action


def test_the_action_owner_is_the_rule_role_on_the_capability_before_the_organisation(
    capability, pm, make_person
):
    analyst = make_person("analytics", capability, username="analyst")
    make_person("analytics", None, username="org-analyst")
    contract = make_contract(capability, required_cuts=[], breach_action_owner_role="analytics")
    weekly(contract, [0.18])
    evaluate_contract(contract.pk)
    assert Action.objects.get().owner == analyst


def test_without_a_role_holder_the_business_owner_owns_the_action(capability, make_person):
    owner = make_person("business_analyst", capability, username="business-owner")
    contract = make_contract(
        capability, required_cuts=[], business_owner=owner, breach_action_owner_role="finance"
    )
    weekly(contract, [0.18])
    evaluate_contract(contract.pk)
    assert Action.objects.get().owner == owner
    assert MetricContract.objects.get().signals.get().action.owner == owner


def test_cuts_at_warning_join_the_whole_populations_action_and_a_worse_cut_gets_its_own(capability, pm):
    """One problem seen through several cuts is one action; a cut worse than the rest is another."""
    from contracts.choices import SignalLevel
    from contracts.models import Evaluation
    from contracts.services import signals_record

    contract = make_contract(capability, business_owner=pm)
    periods = [W1, W2]

    def rows(cut, levels):
        made = []
        for period, level in zip(periods, levels, strict=True):
            made.append(
                Evaluation.objects.create(
                    contract=contract,
                    period_start=period,
                    grain=contract.grain,
                    cut=cut,
                    value=0.5,
                    sample_size=500,
                    raw_level=level,
                    level=level,
                    threshold_crossed=None,
                )
            )
        return made

    evaluations = {
        "team=north": rows("team=north", [SignalLevel.WARNING, SignalLevel.WARNING]),
        "intent=billing": rows("intent=billing", [SignalLevel.BREACH, SignalLevel.BREACH]),
        "": rows("", [SignalLevel.WARNING, SignalLevel.WARNING]),
    }
    signals_record(contract=contract, evaluations=evaluations)
    signals = {signal.cut: signal for signal in Signal.objects.filter(contract=contract)}
    assert set(signals) == {"", "team=north", "intent=billing"}
    assert signals["team=north"].action_id == signals[""].action_id
    assert signals["intent=billing"].action_id != signals[""].action_id
    assert Action.objects.filter(capability=contract.capability).count() == 2


@time_machine.travel(TODAY, tick=False)
def test_the_action_page_shows_the_data_check_of_a_signals_action(capability, pm, client_for):
    contract = make_contract(capability, business_owner=pm, required_cuts=[])
    weekly(contract, [0.05, 0.18, 0.19])
    evaluate_contract(contract.pk)
    signal = Signal.objects.get(contract=contract)
    page = client_for(pm).get(signal.action.get_absolute_url()).content.decode()
    assert 'data-testid="data-check"' in page
    assert "Data check failing" in page
