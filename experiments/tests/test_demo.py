"""The demo registry: the playbook's six example experiments, one per capability, their arms in
the telemetry, every state, a thin readout, decisions logged, idempotent, and the contracts
demo's planted stories still standing once the arm rows are evaluated too.

Seeded once for the module (inside a transaction rolled back at the end).
"""

import datetime
from collections import Counter

import pytest
from django.db import transaction
from django.utils import timezone

from assumptions.models import AssumptionReview
from contracts import demo as contracts_demo
from contracts.choices import ContractStatus, SignalLevel
from contracts.evaluation import evaluate_contract
from contracts.models import Evaluation, MetricContract, Observation, Signal, StopHold
from decisions.models import Decision
from experiments import demo as experiments_demo
from experiments.models import Experiment
from experiments.services import experiment_readout
from productops.demo_people import DemoContext

# The django_db mark also makes pytest-django create the test database when this module runs
# alone (it sets databases up only for the aliases marked tests ask for).
pytestmark = pytest.mark.django_db

BUILDERS = ["portfolio.demo", "assumptions.demo", "contracts.demo"]


def whole_population_levels():
    return {
        (contract_id, period): level
        for contract_id, period, level in Evaluation.objects.filter(cut="").values_list(
            "contract_id", "period_start", "level"
        )
    }


def _values_and_bands():
    """(evaluation id, whole-population value, |warning - target| of its contract)."""
    rows = Evaluation.objects.filter(cut="", value__isnull=False).values_list(
        "id", "value", "contract__warning", "contract__target"
    )
    return [(pk, value, abs(warning - target)) for pk, value, warning, target in rows]


def open_signals():
    return set(Signal.objects.open().values_list("contract__metric_id", "cut", "level"))


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    import importlib

    with django_db_blocker.unblock():
        with transaction.atomic():
            context = DemoContext(seed=20260701, password="demo")
            for name in BUILDERS:
                importlib.import_module(name).seed(context)
            context.before = {
                "levels": whole_population_levels(),
                "signals": open_signals(),
                "values": {pk: (value, band) for pk, value, band in _values_and_bands()},
            }
            experiments_demo.seed(context)
            yield context
            transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _db(demo, django_db_blocker):
    with django_db_blocker.unblock():
        yield


def arm_rows():
    return Observation.objects.filter(version_set__has_key="arm")


def test_six_experiments_one_per_capability_from_the_playbook(demo):
    assert Experiment.objects.count() == 6
    assert set(Experiment.objects.values_list("capability__slug", flat=True)) == set(demo.capabilities)
    hypotheses = set(Experiment.objects.values_list("hypothesis", flat=True))
    assert "Shorter, policy-cited suggestions reduce AHT and edits." in hypotheses
    assert "A reason-code explanation reduces branch overrides." in hypotheses
    for experiment in Experiment.objects.select_related("capability", "primary_metric"):
        assert experiment.primary_metric.capability == experiment.capability
        assert experiment.guardrails.count() >= 2
        assert set(experiment.guardrails.values_list("capability", flat=True)) == {experiment.capability_id}
        assert experiment.readable_id.startswith("EXP-") and len(experiment.readable_id) == 7


def test_the_states_are_spread_as_the_story_needs(demo):
    states = Counter(Experiment.objects.values_list("state", flat=True))
    assert states == {"decided": 2, "readout": 2, "running": 1, "proposed": 1}
    decisions = dict(Experiment.objects.decided().values_list("decision", "tested_assumption__status"))
    assert decisions == {"scale": "confirmed", "redesign": "weakened"}


def test_the_decided_experiments_wrote_the_decision_log_and_the_assumption_reviews(demo):
    for experiment in Experiment.objects.decided().select_related("decision_record", "assumption_review"):
        decision = experiment.decision_record
        assert decision.type == experiment.decision
        assert decision.evidence_links.filter(reference=experiment.readable_id).exists()
        assert (
            decision.details == experiment.readout_snapshot
            and experiment.readout_snapshot["primary"]["sufficient"]
        )
        assert decision.decided_on < timezone.localdate()
        review = experiment.assumption_review
        assert review.source == decision and review.new_status == experiment.tested_assumption.status
        assert experiment.result.startswith("Readout ")
    assert Decision.objects.filter(evidence_links__reference__startswith="EXP-").count() == 2
    assert AssumptionReview.objects.filter(source_id__in=Decision.objects.values("pk")).count() == 2


def test_the_arms_are_in_the_telemetry_for_every_experiment_that_ran(demo):
    assert arm_rows().exists()
    for experiment in Experiment.objects.exclude(state="proposed"):
        start, end = experiment.window()
        contracts = [experiment.primary_metric_id, *experiment.guardrails.values_list("pk", flat=True)]
        tagged = arm_rows().filter(contract_id__in=contracts, period_start__range=(start, end))
        assert {row["arm"] for row in tagged.values_list("version_set", flat=True)} == {
            "control",
            "treatment",
        }
        # Only inside the window.
        assert not arm_rows().filter(contract_id__in=contracts, period_start__lt=start).exists()
    proposed = Experiment.objects.get(state="proposed")
    assert not arm_rows().filter(contract=proposed.primary_metric).exists()


def test_the_readouts_tell_the_stories(demo):
    by_slug = {e.capability.slug: e for e in Experiment.objects.select_related("capability")}
    assist = by_slug["cc-agent-assist"].readout_snapshot
    assert assist["primary"]["verdict"] == "better" and assist["guardrails_held"] is True
    assert assist["cohorts_differ"]  # billing gained least
    taxonomy = by_slug["complaint-intelligence"].readout_snapshot
    assert taxonomy["primary"]["verdict"] == "better"
    flagged = {g["metric_id"]: g["status"] for g in taxonomy["guardrails"]}
    assert flagged["complaint_intel.regulatory_false_negative_sample_rate"] == "worse_past_warning"
    # The two-branch KYC pilot: too little data, said in words.
    thin = experiment_readout(by_slug["kyc-onboarding"])
    assert not thin.sufficient and thin.primary.difference is None
    assert thin.primary.reason.startswith("Sample below the contract's minimum of 200")
    hardship = experiment_readout(by_slug["collections-hardship"])
    assert hardship.sufficient and hardship.primary.verdict == "better" and hardship.guardrails_held
    vulnerability = next(group for group in hardship.cohorts if group.dimension == "vulnerability")
    assert vulnerability.differs
    assert experiment_readout(by_slug["aml-triage"]).primary.control.rows > 0


def test_the_demo_loads_twice_without_changes(demo):
    def snapshot():
        return (
            Experiment.objects.count(),
            Experiment.history.count(),
            Observation.objects.count(),
            Decision.objects.count(),
            AssumptionReview.objects.count(),
            list(Experiment.objects.order_by("pk").values_list("state", "updated_at")),
            list(arm_rows().order_by("pk").values_list("value", "sample_size", "ingested_at")),
        )

    before = snapshot()
    summary = experiments_demo.seed(demo)
    assert summary["written"] == 0 and summary["rows"] > 0
    assert snapshot() == before


def test_the_contracts_stories_stand_once_the_arm_rows_are_evaluated(demo):
    """The arm rows are extra rows of the same cohorts: re-evaluating every contract with them
    must leave the planted signals (and every whole-population level) as they were."""
    for contract in MetricContract.objects.filter(status=ContractStatus.ACTIVE):
        evaluate_contract(contract.pk)
    assert open_signals() == demo.before["signals"]
    assert whole_population_levels() == demo.before["levels"]
    # Each control/treatment pair averages to the level of the row it is drawn from, so values
    # move by rounding noise (a partial week's few cases), and where a rate near zero could not
    # straddle (complaint regulatory misses) by a diluted part of the effect: never half the way
    # from the contract's target to its warning level.
    after = {pk: (value, band) for pk, value, band in _values_and_bands()}
    moved = [abs(after[pk][0] - value) / after[pk][1] for pk, (value, _band) in demo.before["values"].items()]
    assert max(moved) < 1 / 2
    # The stories the contracts demo plants, as its own tests read them.
    billing = Signal.objects.open().get(
        contract__metric_id="cc_agent_assist.repeat_contact_7d", cut="intent=billing"
    )
    assert billing.level == SignalLevel.BREACH
    assert MetricContract.objects.get(metric_id="cc_agent_assist.aht_seconds").improvement_not_net
    complex_entity = Signal.objects.open().get(
        contract__metric_id="kyc_ai.document_false_pass_sample_rate", cut="entity_type=complex_entity"
    )
    assert complex_entity.level == SignalLevel.STOP
    assert StopHold.objects.filter(signal=complex_entity, lifted_at__isnull=True).exists()
    assert (
        Signal.objects.open().get(contract__metric_id="aml_triage.cost_per_alert", cut="").level
        == SignalLevel.WARNING
    )
    # The experiments' windows end before the prompt release: its before/after stays clean.
    release = contracts_demo.release_day(timezone.localdate())
    assist = Experiment.objects.get(capability__slug="cc-agent-assist")
    assert assist.window()[1] < release - datetime.timedelta(days=7)


def test_seed_demo_runs_the_experiments_builder_after_the_ones_it_reads():
    from productops.management.commands.seed_demo import DEMO_BUILDERS

    position = DEMO_BUILDERS.index("experiments.demo")
    for earlier in ("portfolio.demo", "assumptions.demo", "contracts.demo"):
        assert DEMO_BUILDERS.index(earlier) < position
    if "releases.demo" in DEMO_BUILDERS:  # it expires assumptions the experiments then skip
        assert DEMO_BUILDERS.index("releases.demo") < position
