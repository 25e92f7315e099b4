"""Demo experiments: the playbook's six example experiments (13.2), one per capability, judged on
the capability's demo contracts, with their arms in the telemetry.

Each experiment that has run gets observations tagged ``{"arm": "control"}`` and
``{"arm": "treatment"}`` for its window, for its primary metric, its guardrails and the
capability's cost contracts. They are drawn from the contracts demo's own rows of the same day
and cohort: each arm a fraction of the row's volume, control at that row's level less half the
experiment's effect and treatment at it plus half, with a little noise of their own. The two arms
differ by the effect and together average to the level the population showed, so the whole-population values and levels of the contracts demo, and its
planted stories (billing repeat contact after the prompt release, KYC complex-entity false
passes, AML cost creep), stand: experiments/tests/test_demo.py re-runs the evaluation with the
arm rows and checks it.

States: two decided (scale with the assumption confirmed; redesign with it weakened), two in
readout (one with too little data: a two-branch pilot), one running, one proposed. Everything
goes through the services and moves the pages use. Idempotent: an experiment is keyed on
(capability, title) and only moved forward; the arm rows come from a fixed random source and the
idempotent ingest, so a second run the same day writes nothing.
"""

import datetime
import math
import random

from django.utils import timezone

from assumptions.demo import LEDGERS
from assumptions.models import Assumption
from contracts.ingest import observations_ingest
from contracts.models import MetricContract, Observation
from experiments.choices import ExperimentState
from experiments.models import Experiment
from experiments.readout import cost_contracts
from experiments.services import experiment_create, experiment_decide

SEED = 20260703
SOURCE = "demo-experiments"
BATCH = 5_000
# Spread of the arms' levels around the row they are drawn from (relative), and of their volume.
ARM_NOISE = 0.02
VOLUME_NOISE = 0.05
ORDER = [ExperimentState.PROPOSED, ExperimentState.RUNNING, ExperimentState.READOUT, ExperimentState.DECIDED]

# Days are relative to today (negative: ahead). ``assumptions`` are indexes of beliefs in the
# capability's ledger (assumptions.demo.LEDGERS), best fit first: the first one still live is
# the tested assumption (the releases demo expires those a release changed). ``volume`` is each
# arm's share of a contracts-demo row's cases (``volumes``: per contract). ``effects`` are the
# difference treatment - control: absolute on a share contract (0.01 = one percentage point),
# relative on others (-0.07 = 7% lower); ``cohort_effects`` replace it for the cohorts named
# (``"intent=billing"``). ``only`` keeps the cohorts of a pilot.
EXPERIMENTS = [
    {
        "slug": "cc-agent-assist",
        "title": "Shorter, policy-cited suggestions",
        "hypothesis": "Shorter, policy-cited suggestions reduce AHT and edits.",
        "population": "Inbound billing, card, payments and account calls on both teams; "
        "team-leader groups randomised 50/50.",
        "treatment": "Suggestions capped at 60 words that cite the policy article they rest on "
        "(the prompt v12 candidate).",
        "control": "Current suggestions (prompt v11): uncapped, no citation.",
        "primary": "cc_agent_assist.aht_seconds",
        "guardrails": [
            "cc_agent_assist.repeat_contact_7d",
            "cc_agent_assist.script_defect_rate",
            "cc_agent_assist.misleading_fee_explanation_rate",
        ],
        "owner": "ai_pm",
        "assumptions": [0, 1, 2],
        "start": 98,
        "end": 64,
        "state": ExperimentState.DECIDED,
        "volume": 0.25,
        "effects": {
            "cc_agent_assist.aht_seconds": -0.08,
            "cc_agent_assist.script_defect_rate": -0.004,
            "cc_agent_assist.cost_per_assisted_call": -0.04,
        },
        "cohort_effects": {
            "cc_agent_assist.aht_seconds": {"intent=billing": -0.03},
            # The seed of the later story: billing repeat contact drifts up, not yet clearly.
            "cc_agent_assist.repeat_contact_7d": {"intent=billing": 0.006},
        },
        "decision": {
            "decision": "scale",
            "comment": "AHT fell about 7% and script defects fell; repeat contact rose slightly but stayed "
            "under its warning level, and fee explanations held. Scale as prompt v12 to every eligible "
            "intent (release calendar). Billing gained least and its repeat contact rose most: watch "
            "billing repeat contact after the release.",
            "assumption_status": "confirmed",
            "days_ago": 60,
        },
    },
    {
        "slug": "complaint-intelligence",
        "title": "Regulatory-first complaint taxonomy",
        "hypothesis": "A new taxonomy improves regulatory complaint routing.",
        "population": "Complaints on every product and channel; handler teams alternate weekly between "
        "the two taxonomies.",
        "treatment": "Two-level taxonomy with the regulatory branch first; classifier retrained on it.",
        "control": "Current taxonomy and classifier.",
        "primary": "complaint_intel.classification_accuracy_sample",
        "guardrails": [
            "complaint_intel.regulatory_false_negative_sample_rate",
            "complaint_intel.cycle_time_days",
        ],
        "owner": "ai_pm",
        "assumptions": [2, 1],
        "start": 84,
        "end": 50,
        "state": ExperimentState.DECIDED,
        "volume": 0.25,
        # The QA sample of regulatory misses: a rate near zero that cannot straddle the
        # population's level (see _arm_level), kept small so the population barely moves.
        "volumes": {"complaint_intel.regulatory_false_negative_sample_rate": 0.1},
        "effects": {
            "complaint_intel.classification_accuracy_sample": 0.03,
            "complaint_intel.regulatory_false_negative_sample_rate": 0.011,
            "complaint_intel.cycle_time_days": 0.02,
            "complaint_intel.cost_per_complaint": 0.03,
        },
        "decision": {
            "decision": "redesign",
            "comment": "Routing accuracy rose, but missed regulatory complaints passed their warning level "
            "in the treatment arm. Redesign the regulatory branch (backlog item) and test again; "
            "the current taxonomy stays meanwhile.",
            "assumption_status": "weakened",
            "days_ago": 45,
        },
    },
    {
        "slug": "kyc-onboarding",
        "title": "Document completeness assistant pilot",
        "hypothesis": "A document completeness assistant reduces customer chase.",
        "population": "Applications at the two pilot branches; assistant on and off on alternate days.",
        "treatment": "The assistant checks each uploaded document and asks for what is missing before "
        "the application is submitted.",
        "control": "Current upload journey: reviewers chase missing documents after submission.",
        "primary": "kyc_ai.customer_chase_rate",
        "guardrails": [
            "kyc_ai.document_false_pass_sample_rate",
            "kyc_ai.application_abandonment_rate",
            "kyc_ai.edd_escalation_miss_rate",
        ],
        "owner": "ai_pm",
        "assumptions": [0, 7],
        "start": 19,
        "end": 6,
        "state": ExperimentState.READOUT,
        # Two branches: too few applications for a readout (the page says so).
        "volume": 0.03,
        "only": {"channel": "branch"},
        "effects": {"kyc_ai.customer_chase_rate": -0.05},
    },
    {
        "slug": "collections-hardship",
        "title": "Vulnerability-aware arrangement guidance",
        "hypothesis": "Vulnerability-aware guidance improves arrangement suitability.",
        "population": "Hardship calls on credit cards, personal loans and overdrafts; agents split 50/50 "
        "within each team.",
        "treatment": "Guidance that adapts the suggested arrangement to the vulnerability flag and the "
        "income-and-expenditure answers.",
        "control": "Current arrangement guidance.",
        "primary": "collections_hardship.arrangement_suitability_pass_rate",
        "guardrails": [
            "collections_hardship.pressure_complaint_rate",
            "collections_hardship.broken_arrangement_rate_90d",
            "collections_hardship.vulnerability_flag_miss_rate",
        ],
        "owner": "analytics",
        "assumptions": [2, 0, 1],
        "start": 49,
        "end": 15,
        "state": ExperimentState.READOUT,
        "volume": 1.0,
        "effects": {
            "collections_hardship.arrangement_suitability_pass_rate": 0.005,
            "collections_hardship.broken_arrangement_rate_90d": -0.01,
            "collections_hardship.cost_per_arrangement": 0.04,
        },
        "cohort_effects": {
            "collections_hardship.arrangement_suitability_pass_rate": {"vulnerability=flagged": 0.055},
        },
    },
    {
        "slug": "aml-triage",
        "title": "Typology-aware retrieval for narratives",
        "hypothesis": "Typology-aware retrieval improves case narrative quality.",
        "population": "Alerts triaged by L1 and L2 analysts on every typology; alerts randomised 50/50 "
        "when they are created.",
        "treatment": "Retrieval filtered and ranked by the alert's typology before the narrative is drafted.",
        "control": "Current retrieval over the whole typology corpus.",
        "primary": "aml_triage.narrative_defect_sample_rate",
        "guardrails": [
            "aml_triage.escalation_audit_pass_rate",
            "aml_triage.missed_typology_sample_rate",
            "aml_triage.reviewer_edit_distance",
        ],
        "owner": "analytics",
        "assumptions": [1, 7],
        "start": 21,
        "end": -14,
        "state": ExperimentState.RUNNING,
        "volume": 0.2,
        "effects": {
            "aml_triage.narrative_defect_sample_rate": -0.015,
            "aml_triage.reviewer_edit_distance": -0.05,
            "aml_triage.cost_per_alert": 0.04,
        },
    },
    {
        "slug": "pricing-governance",
        "title": "Reason-code explanations at the branch desk",
        "hypothesis": "A reason-code explanation reduces branch overrides.",
        "population": "Personal loan and credit card quotes at branch desks; branches randomised 50/50.",
        "treatment": "Each recommended price shows its three main reason codes in plain words.",
        "control": "The recommended price alone, as today.",
        "primary": "pricing_gov.branch_override_rate",
        "guardrails": [
            "pricing_gov.segment_price_disparity_ratio",
            "pricing_gov.pricing_complaint_rate",
            "pricing_gov.margin_bps_vs_control",
        ],
        "owner": "ai_pm",
        "assumptions": [1, 0],
        "start": -7,
        "end": -42,
        "state": ExperimentState.PROPOSED,
    },
]


def _day(today: datetime.date, days_ago: int) -> datetime.date:
    return today - datetime.timedelta(days=days_ago)


def _assumption(capability, spec) -> Assumption | None:
    """The tested belief: the first of the spec's that the assumptions demo made and is live."""
    for index in spec["assumptions"]:
        statement = LEDGERS[spec["slug"]][index][1]
        found = Assumption.objects.filter(capability=capability, statement=statement).first()
        if found is not None and found.is_live:
            return found
    return None


def experiment_upsert(context, spec, today: datetime.date) -> Experiment:
    capability = context.capabilities[spec["slug"]]
    existing = Experiment.objects.filter(capability=capability, title=spec["title"]).first()
    if existing is not None:
        return existing
    contracts = {c.metric_id: c for c in MetricContract.objects.filter(capability=capability)}
    return experiment_create(
        capability=capability,
        by=context.owners[(spec["slug"], "ai_pm")],
        title=spec["title"],
        hypothesis=spec["hypothesis"],
        population=spec["population"],
        treatment=spec["treatment"],
        control_or_baseline=spec["control"],
        primary_metric=contracts[spec["primary"]],
        guardrails=[contracts[metric_id] for metric_id in spec["guardrails"]],
        start_date=_day(today, spec["start"]),
        planned_end_date=_day(today, spec["end"]),
        owner=context.owners[(spec["slug"], spec["owner"])],
        tested_assumption=_assumption(capability, spec),
    )


def _arm_levels(contract: MetricContract, level: float, effect: float) -> tuple[float, float]:
    """(control, treatment) levels that straddle the population's level: they differ by the
    effect and average to the level. A share near zero cannot go half an effect below it: the
    arm on the low side stops at half the level and the other takes the rest of the effect (the
    population then moves by that rest, diluted by the arms' volume)."""
    if not contract.unit.startswith("share"):
        return level * (1 - effect / 2), level * (1 + effect / 2)
    low_side = min(abs(effect) / 2, level / 2)
    low, high = level - low_side, level + abs(effect) - low_side
    return (low, high) if effect >= 0 else (high, low)


def _pair(contract: MetricContract, level: float, effect: float, size: int, rng: random.Random) -> list[dict]:
    """The two arms' fields for one contracts-demo row, each of ``size`` cases. Their noise is
    equal and opposite, and a share's two counts add up to the pair's expected total, so the
    pair keeps the average of the two levels: arm rows add cases, not noise, to the population."""
    control, treatment = _arm_levels(contract, level, effect)
    share = contract.unit.startswith("share")
    # Noise on a share's smaller side: 2% of 96.5% would swamp its 3.5% of failures.
    scale = min(level, 1 - level) if share else level
    noise = rng.gauss(0, ARM_NOISE) * scale
    control, treatment = control - noise, treatment + noise
    if not contract.is_ratio:
        return [{"value": round(control, 3)}, {"value": round(treatment, 3)}]
    if not share:  # money over cases
        amounts = [round(size * control, 2), round(size * treatment, 2)]
        return [{"value": amount / size, "numerator": amount, "denominator": size} for amount in amounts]
    total = math.floor(size * (min(1.0, max(0.0, control)) + min(1.0, max(0.0, treatment))) + rng.random())
    low = min(size, max(0, math.floor(size * min(1.0, max(0.0, control)) + rng.random())))
    counts = [low, min(size, max(0, total - low))]
    return [{"value": count / size, "numerator": count, "denominator": size} for count in counts]


def arm_rows(experiment: Experiment, spec: dict, rng: random.Random) -> list[dict]:
    """Control and treatment rows for the experiment's window (up to yesterday), drawn from the
    contracts demo's rows of the same day and cohort (see the module's docstring)."""
    if "volume" not in spec:
        return []
    start, end = experiment.window()
    end = min(end, timezone.localdate() - datetime.timedelta(days=1))
    guardrails = list(experiment.guardrails.all())
    contracts = [experiment.primary_metric, *guardrails, *cost_contracts(experiment, guardrails)]
    arms = (experiment.control_value, experiment.treatment_value)
    rows = []
    for contract in contracts:
        base = (
            Observation.objects.filter(contract=contract, grain="day", period_start__range=(start, end))
            .exclude(version_set__has_key=experiment.arm_key)
            .order_by("period_start", "cohort_key", "version_key")
            .values_list(
                "period_start", "cohort", "version_set", "value", "numerator", "denominator", "sample_size"
            )
        )
        volume = spec.get("volumes", {}).get(contract.metric_id, spec["volume"])
        effect = spec.get("effects", {}).get(contract.metric_id, 0.0)
        by_cohort = spec.get("cohort_effects", {}).get(contract.metric_id, {})
        for day, cohort, versions, value, numerator, denominator, size in base:
            # A pilot's cohorts: rows of another channel, say, are not in it (a contract without
            # that dimension is not cut by it).
            if any(dim in cohort and cohort[dim] != wanted for dim, wanted in spec.get("only", {}).items()):
                continue
            level = numerator / denominator if numerator is not None and denominator else value
            row_effect = next((amount for cut, amount in by_cohort.items() if _matches(cohort, cut)), effect)
            arm_size = max(1, round(size * volume * (1 + rng.gauss(0, VOLUME_NOISE))))
            for arm, fields in zip(arms, _pair(contract, level, row_effect, arm_size, rng), strict=True):
                rows.append(
                    {
                        "contract": contract.metric_id,
                        "period_start": day.isoformat(),
                        "grain": "day",
                        "cohort": cohort,
                        "version_set": {**versions, experiment.arm_key: arm},
                        "sample_size": arm_size,
                        **fields,
                    }
                )
    return rows


def _matches(cohort: dict, cut: str) -> bool:
    dimension, _sep, value = cut.partition("=")
    return str(cohort.get(dimension)) == value


def experiment_advance(context, experiment: Experiment, spec: dict, today: datetime.date) -> None:
    """Move the experiment forward to the state of its story (never back)."""
    pm = context.owners[(spec["slug"], "ai_pm")]
    target = ORDER.index(spec["state"])
    if ORDER.index(experiment.state) < ORDER.index(ExperimentState.RUNNING) <= target:
        experiment.start(by=pm)
    if ORDER.index(experiment.state) < ORDER.index(ExperimentState.READOUT) <= target:
        experiment.begin_readout(by=pm)
    if ORDER.index(experiment.state) < ORDER.index(ExperimentState.DECIDED) <= target:
        decision = spec["decision"]
        experiment_decide(
            experiment=experiment,
            by=pm,
            decision=decision["decision"],
            comment=decision["comment"],
            assumption_status=decision["assumption_status"] if experiment.tested_assumption_id else None,
            decided_on=_day(today, decision["days_ago"]),
        )


def seed(context) -> dict:
    """Register the six experiments, write their arms into the telemetry, move them to their
    states. Returns (and keeps on ``context.experiments_demo``) what it did."""
    today = timezone.localdate()
    rng = random.Random(SEED)
    experiments, rows = [], []
    for spec in EXPERIMENTS:
        experiment = experiment_upsert(context, spec, today)
        experiments.append((experiment, spec))
        rows += arm_rows(experiment, spec, rng)
    written = 0
    for start in range(0, len(rows), BATCH):
        written += observations_ingest(rows[start : start + BATCH], source=SOURCE, evaluate=False).written
    for experiment, spec in experiments:
        experiment_advance(context, experiment, spec, today)
    summary = {"experiments": len(experiments), "rows": len(rows), "written": written}
    context.experiments_demo = summary
    print(
        "Experiments demo: {experiments} experiments, {rows} arm observations ({written} written).".format(
            **summary
        )
    )
    return summary
