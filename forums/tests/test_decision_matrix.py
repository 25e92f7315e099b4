"""The decision matrix of playbook 8.3 as a pure function: every row, the order the rows are
tried in, and the "improvement not net" guardrail that forbids a claim of net improvement."""

import pytest

from forums.memos import (
    FALLING,
    FLAT,
    HIGH,
    IMPROVED,
    LOW,
    MIXED,
    MODERATE,
    RISING,
    STABLE,
    UNKNOWN,
    WORSE,
    MatrixEvidence,
    MemoDecision,
    decision_matrix,
    evidence_with_judgments,
    options_considered,
)

# A month where everything holds: the outcome improves with its interval clear of zero, adoption
# is high and durable, risk stable, cost acceptable. Each test changes what its row needs.
HEALTHY = dict(
    outcome_movement=IMPROVED,
    adoption_level=HIGH,
    adoption_durable=True,
    complaints_trend=STABLE,
    risk_stable=True,
    cost_trend=STABLE,
    cost_acceptable=True,
    basis={"outcome_movement": "cc.aht (E3): -30 s vs baseline (95% CI -40 s … -20 s, improved)"},
)


def evidence(**changes) -> MatrixEvidence:
    return MatrixEvidence(**{**HEALTHY, **changes})


def fired_figures(result) -> dict:
    return {figure["name"]: figure["value"] for figure in result.figures}


def test_outcome_improving_with_durable_adoption_stable_risk_and_acceptable_cost_scales():
    result = decision_matrix(evidence())
    assert result.decision == MemoDecision.SCALE
    assert result.pattern == "Outcome improves, adoption durable, risk stable, cost acceptable"
    assert fired_figures(result) == {
        "outcome_movement": "improved",
        "adoption_durable": "yes",
        "risk_stable": "yes",
        "cost_acceptable": "yes",
    }
    figure = next(f for f in result.figures if f["name"] == "outcome_movement")
    assert "cc.aht (E3)" in figure["basis"]
    assert result.blocked == []


@pytest.mark.parametrize(
    "changes",
    [
        {"outcome_movement": FLAT},
        {"outcome_movement": MIXED},
        {"adoption_durable": False},
        {"adoption_durable": None},
        {"risk_stable": False},
        {"risk_stable": None},
        {"cost_acceptable": False},
        {"cost_acceptable": None},
    ],
)
def test_scale_needs_every_one_of_its_four_conditions(changes):
    assert decision_matrix(evidence(**changes)).decision != MemoDecision.SCALE


def test_outcome_improving_only_in_low_risk_cohorts_scales_selectively():
    result = decision_matrix(evidence(low_risk_cohort_only=True, risk_stable=False))
    assert result.decision == MemoDecision.SCALE_SELECTIVELY
    assert result.pattern == "Outcome improves only in low-risk cohort"
    assert fired_figures(result)["low_risk_cohort_only"] == "yes"


def test_high_usage_flat_outcome_and_rising_cost_means_redesign_or_restrict():
    result = decision_matrix(evidence(outcome_movement=FLAT, cost_trend=RISING))
    assert result.decision == MemoDecision.REDESIGN_OR_RESTRICT
    assert fired_figures(result) == {
        "adoption_level": "high",
        "outcome_movement": "flat",
        "cost_trend": "rising",
    }


def test_moderate_usage_with_flat_outcome_and_rising_cost_is_not_the_redesign_or_restrict_row():
    result = decision_matrix(evidence(outcome_movement=FLAT, cost_trend=RISING, adoption_level=MODERATE))
    assert result.decision == MemoDecision.CONTINUE


def test_outcome_improving_while_complaints_rise_means_restrict_and_investigate():
    result = decision_matrix(evidence(complaints_trend=RISING, risk_stable=False))
    assert result.decision == MemoDecision.RESTRICT_AND_INVESTIGATE
    assert result.pattern == "Outcome improves, complaints rise"
    assert fired_figures(result) == {"outcome_movement": "improved", "complaints_trend": "rising"}


def test_rising_complaints_restrict_even_when_the_outcome_does_not_improve():
    result = decision_matrix(evidence(outcome_movement=FLAT, complaints_trend=RISING))
    assert result.decision == MemoDecision.RESTRICT_AND_INVESTIGATE


def test_a_customer_harm_signal_at_breach_or_stop_restricts_and_names_the_signal():
    signal = "signal kyc_ai.document_false_pass_sample_rate [entity_type=complex_entity] at stop"
    result = decision_matrix(
        evidence(harm_signals=(signal,), risk_stable=False, basis={"harm_signals": signal})
    )
    assert result.decision == MemoDecision.RESTRICT_AND_INVESTIGATE
    assert result.pattern == "Customer-harm signal at breach or stop"
    harm = next(f for f in result.figures if f["name"] == "harm_signals")
    assert harm["value"] == "1 found"
    assert harm["basis"] == signal


def test_low_adoption_with_workflow_friction_means_product_workflow_redesign():
    result = decision_matrix(evidence(adoption_level=LOW, workflow_friction=True))
    assert result.decision == MemoDecision.PRODUCT_WORKFLOW_REDESIGN
    assert fired_figures(result) == {"adoption_level": "low", "workflow_friction": "yes"}


def test_low_adoption_with_a_weak_value_thesis_means_retire_or_park():
    result = decision_matrix(evidence(adoption_level=LOW, value_thesis_weak=True, outcome_movement=FLAT))
    assert result.decision == MemoDecision.RETIRE_OR_PARK
    assert fired_figures(result) == {"adoption_level": "low", "value_thesis_weak": "yes"}


def test_quality_defects_tied_to_a_recent_release_mean_rollback_or_hotfix():
    defect = "REL-2026-003: cc.qa_pass_rate (intent=billing)"
    result = decision_matrix(evidence(release_defects=(defect,), basis={"release_defects": defect}))
    assert result.decision == MemoDecision.ROLLBACK_OR_HOTFIX
    assert result.pattern == "Quality defects tied to recent release"
    assert result.figures[0]["basis"] == defect


def test_value_resting_on_review_load_that_cannot_scale_means_redesign_the_operating_model():
    result = decision_matrix(evidence(manual_review_unscalable=True))
    assert result.decision == MemoDecision.REDESIGN_OPERATING_MODEL
    assert fired_figures(result)["manual_review_unscalable"] == "yes"


def test_no_pattern_on_known_figures_continues_and_says_none_fired():
    result = decision_matrix(evidence(outcome_movement=FLAT))
    assert result.decision == MemoDecision.CONTINUE
    assert result.label == "Continue / insufficient evidence"
    assert result.missing == []
    assert "No pattern" in result.pattern


def test_unknown_essential_figures_continue_as_insufficient_evidence_naming_them():
    result = decision_matrix(MatrixEvidence())
    assert result.decision == MemoDecision.CONTINUE
    assert len(result.missing) == 4
    assert "Outcome movement (baseline → month, 95% CI)" in result.pattern
    assert "Cost acceptable" in result.pattern


# --- the order the rows are tried in -----------------------------------------------------------


def test_a_release_defect_comes_before_every_other_pattern():
    everything = evidence(
        release_defects=("REL-2026-003: cc.qa",),
        complaints_trend=RISING,
        harm_signals=("signal at stop",),
        manual_review_unscalable=True,
        adoption_level=LOW,
        value_thesis_weak=True,
        workflow_friction=True,
        low_risk_cohort_only=True,
    )
    result = decision_matrix(everything)
    assert result.decision == MemoDecision.ROLLBACK_OR_HOTFIX
    statuses = {row["pattern"]: row["status"] for row in result.rows}
    assert statuses["Outcome improves, complaints rise"] == "also_matches"
    assert statuses["Adoption low, value thesis weak"] == "also_matches"


def test_rising_complaints_come_before_scale_and_before_the_operating_model():
    result = decision_matrix(evidence(complaints_trend=RISING, manual_review_unscalable=True))
    assert result.decision == MemoDecision.RESTRICT_AND_INVESTIGATE


def test_an_unscalable_review_load_comes_before_scale_selectively_and_scale():
    result = decision_matrix(evidence(manual_review_unscalable=True, low_risk_cohort_only=True))
    assert result.decision == MemoDecision.REDESIGN_OPERATING_MODEL


def test_a_weak_value_thesis_comes_before_workflow_friction():
    result = decision_matrix(evidence(adoption_level=LOW, value_thesis_weak=True, workflow_friction=True))
    assert result.decision == MemoDecision.RETIRE_OR_PARK


def test_scale_selectively_comes_before_scale():
    assert decision_matrix(evidence(low_risk_cohort_only=True)).decision == MemoDecision.SCALE_SELECTIVELY


def test_rows_are_listed_in_the_order_tried_with_the_one_that_fired():
    result = decision_matrix(evidence(cost_trend=RISING, outcome_movement=FLAT))
    assert [row["decision"] for row in result.rows] == [
        "rollback_or_hotfix",
        "restrict_and_investigate",
        "restrict_and_investigate",
        "redesign_operating_model",
        "retire_or_park",
        "product_workflow_redesign",
        "redesign_or_restrict",
        "scale_selectively",
        "scale",
    ]
    assert [row["status"] for row in result.rows].count("fired") == 1


# --- the "improvement not net" guardrail ----------------------------------------------------------


def test_an_improvement_not_net_blocks_scale_and_says_which_contract_and_why():
    reason = "cc.aht improved to 379 against 431 while its guardrail cc.repeat_contact at warning."
    result = decision_matrix(evidence(not_net=("cc.aht",), basis={"not_net": reason}))
    assert result.decision != MemoDecision.SCALE
    assert result.decision == MemoDecision.CONTINUE
    [blocked] = result.blocked
    assert blocked["decision"] == "scale"
    assert blocked["contracts"] == ["cc.aht"]
    assert "not net" in blocked["reason"]
    assert blocked["basis"] == reason
    assert {row["decision"]: row["status"] for row in result.rows}["scale"] == "blocked"


def test_an_improvement_not_net_blocks_scale_selectively_too():
    result = decision_matrix(evidence(not_net=("kyc.cycle_time",), low_risk_cohort_only=True))
    assert result.decision == MemoDecision.CONTINUE
    assert [b["decision"] for b in result.blocked] == ["scale_selectively", "scale"]


def test_not_net_does_not_hide_the_cautious_patterns():
    result = decision_matrix(evidence(not_net=("cc.aht",), complaints_trend=RISING))
    assert result.decision == MemoDecision.RESTRICT_AND_INVESTIGATE
    assert result.blocked == []


def test_a_not_net_flag_on_a_month_where_scale_would_not_fire_blocks_nothing():
    result = decision_matrix(evidence(not_net=("cc.aht",), outcome_movement=MIXED))
    assert result.blocked == []


# --- judgments and the options considered ---------------------------------------------------------


def test_a_judgment_can_add_caution_but_never_clears_what_the_data_found():
    data = evidence(
        adoption_level=LOW, value_thesis_weak=True, basis={"value_thesis_weak": "ASM-0001 weakened"}
    )
    judged = evidence_with_judgments(data, {"workflow_friction": "Agents skip the panel on mobile"})
    assert judged.workflow_friction is True
    assert judged.basis["workflow_friction"] == "stated in the memo: Agents skip the panel on mobile"
    assert judged.value_thesis_weak is True
    assert evidence_with_judgments(data, {"value_thesis_weak": ""}).value_thesis_weak is True


def test_judgments_cannot_make_the_matrix_recommend_scaling():
    cautious = evidence(cost_acceptable=False)
    for key in ("workflow_friction", "value_thesis_weak", "manual_review_unscalable"):
        judged = evidence_with_judgments(cautious, {key: "stated"})
        assert decision_matrix(judged).decision not in (MemoDecision.SCALE, MemoDecision.SCALE_SELECTIVELY)


def test_options_considered_lists_every_row_with_its_status_and_figures():
    result = decision_matrix(evidence(not_net=("cc.aht",), basis={}))
    text = options_considered(result.as_dict())
    lines = text.splitlines()
    assert len(lines) == 9
    assert lines[-1].startswith(
        "- Scale (Outcome improves, adoption durable, risk stable, cost acceptable): blocked"
    )
    assert "cc.aht" in lines[-1]
    assert "Outcome movement (baseline → month, 95% CI): improved" in lines[-1]


@pytest.mark.parametrize("word", [RISING, FALLING, WORSE, UNKNOWN])
def test_the_matrix_reads_words_not_numbers(word):
    # Every figure arrives reduced to a word; an unexpected one never fires a row by accident.
    result = decision_matrix(evidence(outcome_movement=word, cost_trend=word, complaints_trend=STABLE))
    assert result.decision == MemoDecision.CONTINUE
