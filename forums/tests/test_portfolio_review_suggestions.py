"""The scorecard's suggestions (playbook 9.2): one pure function per dimension over plain figures.
Planted figures in, the rating and the evidence text out; and when the data cannot speak, no
number at all."""

import pytest

from forums.portfolio_review import (
    AssumptionFigure,
    BacklogFigure,
    CapabilityFigures,
    ContractFigure,
    HoldFigure,
    IncidentFigure,
    SignalFigure,
    figures_window,
    is_capacity_contract,
    meets_target,
    quarter_bounds,
    quarter_of,
    review_date_of,
    suggest_adoption_durability,
    suggest_all,
    suggest_capacity_burden,
    suggest_evidence_maturity,
    suggest_net_value,
    suggest_platform_reuse,
    suggest_retirement_logic,
    suggest_risk_stability,
    suggest_strategic_fit,
    trend_of,
)
from productops.errors import DomainError


def contract(pk, metric_id, category, evidence="E3", **fields):
    return ContractFigure(pk=pk, metric_id=metric_id, category=category, evidence_level=evidence, **fields)


SEVEN = ["outcome", "adoption", "quality", "risk", "cost", "reliability", "learning"]


# --- quarters and small helpers -------------------------------------------------------------


def test_quarters_are_named_and_bounded_like_the_playbooks_output_row():
    import datetime

    assert quarter_of(datetime.date(2026, 11, 5)) == "2026-Q4"
    assert quarter_bounds("2026-q3") == (datetime.date(2026, 7, 1), datetime.date(2026, 9, 30))
    assert quarter_bounds("2026-Q4") == (datetime.date(2026, 10, 1), datetime.date(2026, 12, 31))
    with pytest.raises(DomainError) as refused:
        quarter_bounds("Q4 2026")
    assert refused.value.field == "quarter"


def test_a_quarters_figures_are_the_thirteen_weeks_before_the_review_or_the_quarters_end():
    import datetime

    assert figures_window("2026-Q4", datetime.date(2026, 10, 14)) == (
        datetime.date(2026, 7, 16),
        datetime.date(2026, 10, 14),
    )
    assert figures_window("2026-Q3", datetime.date(2026, 12, 1))[1] == datetime.date(2026, 9, 30)


def test_next_review_text_gives_a_review_date_when_it_names_a_quarter_or_a_day():
    import datetime

    assert review_date_of("2027-Q1 monthly value review") == datetime.date(2027, 1, 1)
    assert review_date_of("2027-02-10") == datetime.date(2027, 2, 10)
    assert review_date_of("after the audit") is None


def test_trend_reads_the_contracts_direction_and_ignores_noise():
    assert trend_of([10, 10, 11, 12, 13, 14], "lower") == "worse"
    assert trend_of([10, 10, 11, 12, 13, 14], "higher") == "better"
    assert trend_of([10, 10.2, 9.9, 10.1], "lower") == "steady"
    assert trend_of([10], "lower") == ""
    assert meets_target(9.0, 10.0, "lower") is True
    assert meets_target(9.0, 10.0, "higher") is False


def test_capacity_contracts_are_cost_contracts_and_review_queues_by_name():
    assert is_capacity_contract("cost", "aml.cost_per_alert", "Cost per alert")
    assert is_capacity_contract("outcome", "kyc.human_review_queue_hours", "Human review queue")
    assert is_capacity_contract("quality", "kyc_ai.rework_rate", "Reviewer rework")
    assert not is_capacity_contract("adoption", "cc.qualified_use_rate", "Qualified use")


# --- evidence maturity --------------------------------------------------------------------------


def test_evidence_maturity_is_the_median_level_capped_by_category_coverage():
    contracts = [contract(i, f"m.{category}", category, "E4") for i, category in enumerate(SEVEN)]
    contracts[5] = contract(5, "m.reliability", "reliability", "E2")
    suggestion = suggest_evidence_maturity(contracts)
    assert suggestion.rating == 4
    assert suggestion.evidence == (
        "7 active contracts, median E4 (E4 ×6, E2 ×1); 7 of 7 categories; below E3: m.reliability (E2)."
    )
    assert [cite["ref"] for cite in suggestion.cites] == ["m.reliability"]


def test_evidence_maturity_without_outcome_contract_is_at_most_two():
    suggestion = suggest_evidence_maturity(
        [
            contract(1, "m.a", "adoption", "E5"),
            contract(2, "m.r", "risk", "E5"),
            contract(3, "m.q", "quality", "E5"),
        ]
    )
    assert suggestion.rating == 2
    assert "missing: outcome, cost, reliability, learning" in suggestion.evidence
    assert "no outcome contract" in suggestion.evidence


def test_evidence_maturity_without_any_contract_suggests_nothing():
    suggestion = suggest_evidence_maturity([])
    assert suggestion.rating is None
    assert "No active metric contract" in suggestion.evidence


# --- risk stability -----------------------------------------------------------------------------


def test_risk_stability_is_one_while_a_stop_hold_stands():
    risk = [contract(1, "kyc.false_pass", "risk")]
    suggestion = suggest_risk_stability(
        risk,
        [SignalFigure(1, "kyc.false_pass", "stop", "entity_type=complex")],
        [HoldFigure(1, "kyc.false_pass"), HoldFigure(1, "kyc.false_pass")],
        [],
    )
    assert suggestion.rating == 1
    assert suggestion.evidence == (
        "Stop hold not lifted: kyc.false_pass ×2; open risk signals: kyc.false_pass "
        "[entity_type=complex] stop; no incident this quarter."
    )
    assert suggestion.cites == ({"kind": "contract", "id": 1, "ref": "kyc.false_pass"},)


def test_risk_stability_reads_incidents_by_severity_and_recurrence():
    risk = [contract(1, "cc.misleading", "risk")]
    one_sev2 = suggest_risk_stability(risk, [], [], [IncidentFigure(7, "INC-0007", "sev2")])
    assert one_sev2.rating == 3
    assert "incidents this quarter: Sev2 ×1 (INC-0007)" in one_sev2.evidence
    recurring = suggest_risk_stability(
        risk, [], [], [IncidentFigure(8, "INC-0008", "sev2", is_recurrence=True)]
    )
    assert recurring.rating == 2
    assert "recurring: INC-0008" in recurring.evidence
    assert suggest_risk_stability(risk, [], [], [IncidentFigure(9, "INC-0009", "sev1")]).rating == 1
    assert suggest_risk_stability(risk, [], [], [IncidentFigure(9, "INC-0009", "sev4")]).rating == 4
    calm = suggest_risk_stability(risk, [], [], [])
    assert calm.rating == 5
    assert calm.evidence == "1 risk contract, no open signal; no incident this quarter."


def test_a_warning_is_outside_appetite_on_a_critical_tier_capability():
    risk = [contract(1, "aml.missed_typology", "risk")]
    warning = [SignalFigure(1, "aml.missed_typology", "warning")]
    assert suggest_risk_stability(risk, warning, [], [], risk_tier="medium").rating == 3
    critical = suggest_risk_stability(risk, warning, [], [], risk_tier="critical")
    assert critical.rating == 2
    assert "critical risk tier: a warning is outside appetite" in critical.evidence


def test_signals_of_other_categories_do_not_move_risk_stability():
    risk = [contract(1, "cc.misleading", "risk")]
    signals = [SignalFigure(2, "cc.repeat_contact", "breach")]
    assert suggest_risk_stability(risk, signals, [], []).rating == 5


def test_without_a_risk_contract_incidents_can_show_instability_but_not_stability():
    only_minor = suggest_risk_stability([], [], [], [IncidentFigure(1, "INC-0001", "sev4")])
    assert only_minor.rating == 3
    assert "no risk contract" in only_minor.evidence
    nothing = suggest_risk_stability([], [], [], [])
    assert nothing.rating is None
    assert "No risk contract and no incident" in nothing.evidence


# --- capacity burden --------------------------------------------------------------------------


def test_capacity_burden_is_the_worst_queue_or_cost_level_one_lower_when_worsening():
    queue = contract(
        1, "kyc.human_review_queue", "cost", level="warning", latest_text="3.1 days", trend="worse"
    )
    cost = contract(
        2, "kyc.cost_per_application", "cost", "E5", level="ok", latest_text="17.1 GBP", trend="steady"
    )
    suggestion = suggest_capacity_burden([cost, queue])
    assert suggestion.rating == 2
    assert suggestion.evidence == (
        "kyc.human_review_queue (E3): warning 3.1 days worsening; kyc.cost_per_application (E5): ok 17.1 GBP."
    )
    assert [cite["ref"] for cite in suggestion.cites] == ["kyc.human_review_queue"]
    assert suggest_capacity_burden([cost]).rating == 5


def test_capacity_burden_without_a_queue_or_cost_contract_suggests_nothing():
    suggestion = suggest_capacity_burden([])
    assert suggestion.rating is None
    assert "No review-queue, capacity or cost contract" in suggestion.evidence
    unevaluated = suggest_capacity_burden([contract(1, "kyc.queue", "cost")])
    assert unevaluated.rating is None
    assert "kyc.queue: no evaluated figure this quarter." == unevaluated.evidence


# --- net value ------------------------------------------------------------------------------


def test_net_value_is_five_when_every_outcome_is_ok_and_at_target():
    outcome = [contract(1, "p.margin", "outcome", "E4", level="ok", latest_text="13.6 bps", at_target=True)]
    suggestion = suggest_net_value(outcome)
    assert suggestion.rating == 5
    assert suggestion.evidence == "Outcome: p.margin (E4): ok 13.6 bps."


def test_improvement_not_net_blocks_a_claim_of_net_value():
    aht = contract(
        1,
        "cc.aht_seconds",
        "outcome",
        level="ok",
        latest_text="379 seconds",
        at_target=True,
        improvement_not_net=True,
        not_net_reason="guardrail cc.repeat_contact at warning",
    )
    suggestion = suggest_net_value([aht], [], [aht])
    assert suggestion.rating == 2
    assert (
        "net improvement blocked: cc.aht_seconds (guardrail cc.repeat_contact at warning) flagged "
        "“improvement not net”" in suggestion.evidence
    )
    assert suggestion.cites == ({"kind": "contract", "id": 1, "ref": "cc.aht_seconds"},)


def test_net_value_falls_with_cost_pressure_and_weak_value_evidence():
    outcome = [
        contract(1, "o.cycle_time", "outcome", "E2", level="ok", latest_text="5 days", at_target=False)
    ]
    cost = [contract(2, "o.cost_per_case", "cost", level="warning")]
    suggestion = suggest_net_value(outcome, cost)
    assert suggestion.rating == 3
    assert "cost at o.cost_per_case warning" in suggestion.evidence
    assert "value evidence below E3 (o.cycle_time), not finance-supported" in suggestion.evidence
    assert suggest_net_value([contract(1, "o.x", "outcome", level="breach")]).rating == 2


def test_net_value_without_an_outcome_contract_suggests_nothing():
    assert suggest_net_value([]).rating is None
    assert "No outcome contract" in suggest_net_value([]).evidence
    assert suggest_net_value([contract(1, "o.x", "outcome")]).rating is None


# --- adoption durability ------------------------------------------------------------------------


def test_adoption_durability_is_the_share_of_periods_at_ok_over_the_quarter():
    use = contract(
        1,
        "cc.qualified_use",
        "adoption",
        level="ok",
        latest_text="62.7%",
        periods_ok=12,
        periods_evaluated=13,
    )
    suggestion = suggest_adoption_durability([use])
    assert suggestion.rating == 5
    assert suggestion.evidence == "12 of 13 periods at ok; cc.qualified_use (E3): ok 62.7%."
    half = contract(
        1, "cc.qualified_use", "adoption", level="warning", periods_ok=7, periods_evaluated=13, trend="worse"
    )
    assert suggest_adoption_durability([half]).rating == 2


def test_a_lagging_cohort_keeps_adoption_durability_at_three_or_less():
    use = contract(
        1,
        "kyc.coverage",
        "adoption",
        level="ok",
        periods_ok=13,
        periods_evaluated=13,
        lagging_cuts=("segment=business",),
    )
    suggestion = suggest_adoption_durability([use])
    assert suggestion.rating == 3
    assert "lagging cohorts: segment=business (kyc.coverage)" in suggestion.evidence


def test_adoption_durability_without_an_adoption_contract_suggests_nothing():
    assert suggest_adoption_durability([]).rating is None
    assert "No adoption contract" in suggest_adoption_durability([]).evidence


# --- platform reuse ----------------------------------------------------------------------------


def test_a_problem_shared_across_capabilities_is_a_platform_reuse_candidate():
    suggestion = suggest_platform_reuse(
        [BacklogFigure(3, "BLI-0003", problem_key="evidence-citation", shared_by=3)]
    )
    assert suggestion.rating == 5
    assert suggestion.evidence == (
        "“evidence-citation” shared with 3 capabilities (BLI-0003). A platform-reuse candidate (16.3)."
    )
    assert (
        suggest_platform_reuse([BacklogFigure(4, "BLI-0004", problem_key="reason-codes", shared_by=2)]).rating
        == 4
    )


def test_problems_nobody_else_raises_are_no_reuse_and_no_problem_keys_say_nothing():
    alone = suggest_platform_reuse([BacklogFigure(5, "BLI-0005", problem_key="local-form", shared_by=1)])
    assert alone.rating == 2
    assert "raised on no other capability" in alone.evidence
    nothing = suggest_platform_reuse([BacklogFigure(6, "BLI-0006", retirement=True)])
    assert nothing.rating is None
    assert "No open backlog item names a problem key" in nothing.evidence


# --- retirement logic ------------------------------------------------------------------------


def test_weak_value_high_risk_and_failed_assumptions_make_a_strong_case_to_retire():
    suggestion = suggest_retirement_logic(
        net_value=2,
        risk_stability=1,
        assumptions=[AssumptionFigure(5, "ASM-0005", "invalidated")],
    )
    assert suggestion.rating == 1
    assert suggestion.evidence == (
        "Weak value (net value 2); high risk (risk stability 1); invalidated assumptions: ASM-0005."
    )
    assert suggestion.cites == ({"kind": "assumption", "id": 5, "ref": "ASM-0005"},)


def test_a_retirement_item_in_the_backlog_weighs_like_weak_value():
    suggestion = suggest_retirement_logic(
        net_value=4,
        risk_stability=3,
        retirement_items=[BacklogFigure(18, "BLI-0018", "Retire the keyword classifier", retirement=True)],
    )
    assert suggestion.rating == 3
    assert (
        suggestion.evidence == "Retirement candidate in the backlog: BLI-0018 Retire the keyword classifier."
    )
    assert suggestion.cites == ({"kind": "backlog", "id": 18, "ref": "BLI-0018"},)


def test_no_case_to_retire_when_value_holds_and_risk_is_in_appetite():
    suggestion = suggest_retirement_logic(net_value=4, risk_stability=4)
    assert suggestion.rating == 5
    assert suggestion.evidence == "Value holds, risk is within appetite, no assumption failed."
    unread = suggest_retirement_logic(net_value=None, risk_stability=None)
    assert unread.rating is None


def test_strategic_fit_is_always_a_persons_call():
    assert suggest_strategic_fit().rating is None
    assert suggest_strategic_fit().evidence == "A person rates strategic fit: no data suggests it."


def test_suggest_all_gives_eight_dimensions_and_retirement_reads_the_suggested_value_and_risk():
    figures = CapabilityFigures(
        capability_id=1,
        risk_tier="medium",
        contracts=[
            contract(1, "cc.repeat_contact", "outcome", level="breach", latest_text="16%"),
            contract(2, "cc.misleading", "risk", level="ok"),
        ],
        incidents=[IncidentFigure(3, "INC-0003", "sev1")],
    )
    suggestions = suggest_all(figures)
    assert len(suggestions) == 8
    assert suggestions["net_value"].rating == 2
    assert suggestions["risk_stability"].rating == 1
    assert suggestions["retirement_logic"].rating == 2
    assert suggestions["strategic_fit"].rating is None
    assert suggestions["platform_reuse"].rating is None


def test_the_words_kept_per_language_follow_the_active_language():
    from django.utils import translation

    from forums.portfolio_review import suggestions

    # "Unknown" is in Django's own catalogue: a phrase kept for one language is never served in
    # another, whichever came first.
    for _round in range(2):
        with translation.override("zh-hans"):
            assert suggestions._("Unknown") == "未知"
        with translation.override("en"):
            assert suggestions._("Unknown") == "Unknown"
