"""The readout (playbook 13.3), checked against hand computations on small data: the effect with
its 95% interval for a mean and for a ratio, thin data refused with the reason, the effect per
cohort, guardrail status per arm and the cost contracts."""

import math

import pytest

from experiments.choices import GuardrailStatus, Verdict
from experiments.services import experiment_readout
from experiments.tests.conftest import days_ago

pytestmark = pytest.mark.django_db

Z = 1.959964


def sample_variance(values):
    mean = sum(values) / len(values)
    return sum((v - mean) ** 2 for v in values) / (len(values) - 1)


def test_a_mean_metric_gives_the_difference_and_interval_of_a_hand_computation(experiment, aht, observe):
    observe(aht, "control", [400, 410, 420, 430])
    observe(aht, "treatment", [380, 385, 390, 395])

    primary = experiment_readout(experiment).primary

    # Equal samples: the means, and each mean's variance s^2 / n.
    control_mean, treatment_mean = 415.0, 387.5
    se = math.sqrt(sample_variance([400, 410, 420, 430]) / 4 + sample_variance([380, 385, 390, 395]) / 4)
    assert primary.sufficient and primary.reason == ""
    assert primary.control.value == pytest.approx(control_mean)
    assert primary.treatment.value == pytest.approx(treatment_mean)
    assert (primary.control.rows, primary.control.sample_size) == (4, 40)
    assert (primary.treatment.rows, primary.treatment.sample_size) == (4, 40)
    assert primary.difference == pytest.approx(-27.5)
    assert primary.ci_low == pytest.approx(-27.5 - Z * se)
    assert primary.ci_high == pytest.approx(-27.5 + Z * se)
    assert primary.relative_change == pytest.approx(-27.5 / 415)
    assert primary.significant and primary.verdict == Verdict.BETTER  # lower is better
    assert primary.difference_display == "−27.5 seconds"
    assert primary.relative_display == "-6.6%"


def test_a_ratio_metric_is_pooled_from_numerators_and_denominators(experiment, aht, repeat, observe):
    from experiments.services import experiment_update

    experiment_update(
        experiment=experiment, by=experiment.owner, fields={"primary_metric": repeat, "guardrails": []}
    )
    observe(repeat, "control", [(10, 100), (12, 100), (14, 100)])
    observe(repeat, "treatment", [(20, 100), (24, 100), (22, 100)])

    primary = experiment_readout(experiment).primary

    # Ratio estimator: R = sum n / sum d; residuals n_i - R d_i are (-2, 0, 2) in both arms,
    # s^2 = 8 / 2 = 4, variance = s^2 / (rows * mean denominator^2).
    variance = 4 / (3 * 100**2)
    assert primary.control.value == pytest.approx(36 / 300)
    assert primary.treatment.value == pytest.approx(66 / 300)
    assert primary.difference == pytest.approx(0.10)
    assert primary.ci_low == pytest.approx(0.10 - Z * math.sqrt(2 * variance))
    assert primary.ci_high == pytest.approx(0.10 + Z * math.sqrt(2 * variance))
    assert primary.relative_change == pytest.approx(0.10 / 0.12)
    assert primary.verdict == Verdict.WORSE
    assert primary.control.sample_size == 300
    assert primary.difference_display == "+10.00 pp"
    assert primary.control.display == "12.0%"


def test_only_rows_of_the_window_tagged_with_the_experiments_arms_count(experiment, aht, observe):
    observe(aht, "control", [400, 410, 420, 430])
    observe(aht, "treatment", [380, 385, 390, 395])
    # Before the start, after the planned end, another arm, no arm tag at all, another tag key.
    observe(aht, "treatment", [100, 100, 100], first_day=days_ago(40))
    observe(aht, "treatment", [100, 100, 100], first_day=days_ago(5))
    observe(aht, "holdout", [100, 100, 100])
    observe(aht, "", [100, 100, 100], version_set={"prompt": "v12"})
    observe(aht, "", [100, 100, 100], version_set={"variant": "treatment"})

    primary = experiment_readout(experiment).primary
    assert primary.treatment.rows == 4
    assert primary.treatment.value == pytest.approx(387.5)


def test_the_arm_tags_are_the_experiments_own(make_experiment, aht, observe):
    experiment = make_experiment(arm_key="variant", treatment_value="b", control_value="a")
    observe(aht, "", [400, 410, 420, 430], version_set={"variant": "a", "model": "m1"})
    observe(aht, "", [380, 385, 390, 395], version_set={"variant": "b", "model": "m1"})
    observe(aht, "treatment", [100, 100, 100])
    primary = experiment_readout(experiment).primary
    assert primary.difference == pytest.approx(-27.5)


def test_too_few_observations_give_the_reason_and_no_number(experiment, aht, observe):
    observe(aht, "control", [400, 410])
    observe(aht, "treatment", [380, 385])
    primary = experiment_readout(experiment).primary
    assert not primary.sufficient
    assert primary.difference is None and primary.ci_low is None and primary.ci_high is None
    assert primary.control.value is None and primary.treatment.value is None
    assert primary.control.display == "—"
    assert primary.reason == "Too few observations: 2 in control and 2 in treatment; at least 3 each."
    assert primary.verdict == Verdict.INSUFFICIENT


def test_a_sample_under_the_contracts_minimum_gives_the_reason(experiment, aht, observe):
    aht.min_sample_size = 1000
    aht.save()
    observe(aht, "control", [400, 410, 420, 430])
    observe(aht, "treatment", [380, 385, 390, 395])
    primary = experiment_readout(experiment).primary
    assert not primary.sufficient and primary.difference is None
    assert (
        primary.reason == "Sample below the contract's minimum of 1,000: 40 in control and 40 in treatment."
    )


def test_no_tagged_observation_at_all_says_so(experiment):
    readout = experiment_readout(experiment)
    assert not readout.sufficient
    assert readout.primary.reason == "No observation in the window carries the arm tags."
    assert readout.cohorts == [readout.cohorts[0]] and readout.cohorts[0].effects == []


def test_the_effect_is_computed_per_cohort_of_the_required_cuts(experiment, aht, observe):
    billing, card = {"intent": "billing", "team": "north"}, {"intent": "card", "team": "north"}
    observe(aht, "control", [400, 410, 420, 430], cohort=billing)
    observe(aht, "treatment", [350, 355, 360, 365], cohort=billing)
    observe(aht, "control", [400, 404, 408, 412], cohort=card)
    observe(aht, "treatment", [401, 405, 409, 413], cohort=card)

    readout = experiment_readout(experiment)
    (group,) = readout.cohorts
    assert group.dimension == "intent"
    effects = {effect.label: effect for effect in group.effects}
    assert set(effects) == {"intent=billing", "intent=card"}
    # Billing alone, by hand: 415 -> 357.5.
    se = math.sqrt(sample_variance([400, 410, 420, 430]) / 4 + sample_variance([350, 355, 360, 365]) / 4)
    assert effects["intent=billing"].difference == pytest.approx(-57.5)
    assert effects["intent=billing"].ci_low == pytest.approx(-57.5 - Z * se)
    assert effects["intent=card"].difference == pytest.approx(1.0)
    assert effects["intent=card"].verdict == Verdict.NO_CLEAR_CHANGE
    # The two effects differ far beyond their standard errors: the cohorts responded differently.
    assert group.differs and readout.cohorts_differ
    assert "Cohorts responded differently by intent." in readout.summary()


def test_a_thin_cohort_says_so_while_the_others_have_figures(experiment, aht, observe):
    observe(aht, "control", [400, 410, 420, 430], cohort={"intent": "billing"})
    observe(aht, "treatment", [380, 385, 390, 395], cohort={"intent": "billing"})
    observe(aht, "control", [400], cohort={"intent": "card"})
    observe(aht, "treatment", [390], cohort={"intent": "card"})
    effects = {effect.label: effect for effect in experiment_readout(experiment).cohorts[0].effects}
    assert effects["intent=billing"].sufficient
    assert not effects["intent=card"].sufficient and effects["intent=card"].difference is None
    assert effects["intent=card"].reason.startswith("Too few observations: 1 in control and 1 in treatment")


def test_a_guardrail_that_worsens_past_warning_in_the_treatment_arm_is_flagged(experiment, repeat, observe):
    observe(repeat, "control", [(10, 100), (11, 100), (12, 100)])
    observe(repeat, "treatment", [(14, 100), (15, 100), (16, 100)])  # 15%: past the 13% warning
    readout = experiment_readout(experiment)
    (guardrail,) = readout.guardrails
    assert guardrail.control.level == "ok" and guardrail.treatment.level == "warning"
    assert guardrail.status == GuardrailStatus.WORSE_PAST_WARNING
    assert guardrail.difference == pytest.approx(0.04)
    assert readout.guardrails_held is False
    assert "Repeat contact within 7 days worse, past warning" in readout.summary()


def test_a_guardrail_within_its_thresholds_held(experiment, repeat, observe):
    observe(repeat, "control", [(10, 100), (11, 100), (12, 100)])
    observe(repeat, "treatment", [(11, 100), (12, 100), (10, 100)])
    readout = experiment_readout(experiment)
    assert readout.guardrails[0].status == GuardrailStatus.OK
    assert readout.guardrails_held is True


def test_a_guardrail_past_warning_in_both_arms_is_flagged_but_not_blamed_on_the_treatment(
    experiment, repeat, observe
):
    observe(repeat, "control", [(16, 100), (17, 100), (18, 100)])
    observe(repeat, "treatment", [(14, 100), (15, 100), (14, 100)])
    guardrail = experiment_readout(experiment).guardrails[0]
    assert guardrail.status == GuardrailStatus.PAST_WARNING_IN_BOTH


def test_a_guardrail_with_too_little_data_is_insufficient_not_ok(experiment, repeat, observe):
    observe(repeat, "control", [(10, 100)])
    observe(repeat, "treatment", [(11, 100)])
    readout = experiment_readout(experiment)
    assert readout.guardrails[0].status == GuardrailStatus.INSUFFICIENT
    assert readout.guardrails_held is None


def test_the_capabilitys_cost_contract_answers_the_cost_question(experiment, cost, observe):
    observe(cost, "control", [(40.0, 100), (42.0, 100), (44.0, 100)])
    observe(cost, "treatment", [(45.0, 100), (47.0, 100), (49.0, 100)])
    (effect,) = experiment_readout(experiment).costs
    assert effect.metric_id == "cc_agent_assist.cost_per_assisted_call"
    assert effect.difference == pytest.approx(0.05)
    assert effect.relative_change == pytest.approx(0.05 / 0.42)
    assert effect.verdict == Verdict.WORSE


def test_the_readout_is_one_query_for_the_observations(
    experiment, aht, repeat, cost, observe, django_assert_num_queries
):
    observe(aht, "control", [400, 410, 420, 430])
    observe(aht, "treatment", [380, 385, 390, 395])
    experiment.refresh_from_db()
    experiment.primary_metric  # noqa: B018 - loaded as the page's access helper does
    # guardrails, cost contracts, observations
    with django_assert_num_queries(3):
        experiment_readout(experiment)


def test_the_readout_as_a_dict_is_json_for_the_snapshot(experiment, aht, observe):
    import json

    observe(aht, "control", [400, 410, 420, 430])
    observe(aht, "treatment", [380, 385, 390, 395])
    data = json.loads(json.dumps(experiment_readout(experiment).as_dict()))
    assert data["primary"]["difference"] == pytest.approx(-27.5)
    assert data["window_start"] == days_ago(20).isoformat()
    assert data["window_end"] == days_ago(6).isoformat()


def test_the_chart_plots_each_readable_cohort_with_its_interval(experiment, aht, observe):
    from experiments.charts import cohort_effects_figure

    observe(aht, "control", [400, 410, 420, 430], cohort={"intent": "billing"})
    observe(aht, "treatment", [380, 385, 390, 395], cohort={"intent": "billing"})
    observe(aht, "control", [400], cohort={"intent": "card"})
    observe(aht, "treatment", [390], cohort={"intent": "card"})
    readout = experiment_readout(experiment).as_dict()
    (trace,) = cohort_effects_figure(readout).data
    # The whole population and billing; card has too little data and is left out.
    assert list(trace.y) == ["intent=billing", "Whole population"]
    billing = readout["cohorts"][0]["effects"][0]
    assert trace.x[0] == pytest.approx(billing["difference"])
    assert trace.error_x.array[0] == pytest.approx(billing["ci_high"] - billing["difference"])


def test_there_is_no_chart_without_a_readable_comparison(experiment):
    from experiments.charts import cohort_effects_figure

    assert cohort_effects_figure(experiment_readout(experiment).as_dict()) is None
