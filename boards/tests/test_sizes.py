"""The sized portfolio the boards' query-count tests build (boards/tests/sizes.py) holds what its
docstring promises, and a second call adds capabilities beside the first ones."""

import pytest
from django.utils import timezone

from actions.models import Action
from actions.querysets import closure_summary
from boards.tests.sizes import CATEGORIES, build_portfolio
from contracts.models import Evaluation, MetricContract, Observation, Signal
from decisions.models import EvidenceLink
from portfolio.models import Capability

pytestmark = pytest.mark.django_db


def test_each_capability_has_an_active_weekly_contract_of_every_category_with_its_owners():
    portfolio = build_portfolio(2)
    assert [sized.capability.slug for sized in portfolio.capabilities] == ["size-0", "size-1"]
    for sized in portfolio.capabilities:
        contracts = MetricContract.objects.filter(capability=sized.capability)
        assert sorted(contracts.values_list("category", flat=True)) == sorted(CATEGORIES)
        assert set(contracts.values_list("status", "grain")) == {("active", "week")}
        assert all(c.business_owner == sized.pm and c.risk_reviewer for c in contracts)
        assert dict(contracts.exclude(watch="").values_list("category", "watch")) == {
            "adoption": "qualified_use",
            "quality": "eval_pass_rate",
            "risk": "complaints",
            "cost": "cost_per_case",
            "reliability": "latency",
        }
        assert set(sized.capability.role_assignments.values_list("role", flat=True)) == {
            "ai_pm",
            "ops",
            "risk_compliance",
            "analytics",
        }


def test_evaluations_cover_every_period_and_intent_with_quality_at_warning_and_risk_at_breach():
    portfolio = build_portfolio(1, periods=6)
    sized = portfolio.capabilities[0]
    quality, risk = sized.contracts["quality"], sized.contracts["risk"]
    assert Evaluation.objects.filter(contract=quality).count() == 6 * 3  # whole, billing, cards
    whole = list(Evaluation.objects.filter(contract=risk, cut="").order_by("period_start"))
    assert [e.period_start for e in whole] == portfolio.periods
    assert [e.level for e in whole] == ["ok"] * 4 + ["breach"] * 2
    assert whole[-1].value > risk.breach  # lower is better: past breach means above it
    latest_quality = Evaluation.objects.get(contract=quality, cut="", period_start=portfolio.periods[-1])
    assert latest_quality.level == "warning" and quality.breach < latest_quality.value < quality.warning
    cards = Evaluation.objects.filter(contract=risk, cut="intent=cards").values_list("level", flat=True)
    assert set(cards) == {"ok"}
    assert portfolio.periods[-1] <= timezone.localdate() and portfolio.periods[-1].weekday() == 0


def test_observations_carry_two_intents_two_teams_and_the_prompt_versions_around_the_release():
    sized = build_portfolio(1, periods=6).capabilities[0]
    rows = Observation.objects.filter(contract=sized.contracts["outcome"])
    assert rows.count() == 6 * 2 * 2 * 2  # weeks x days x intents x teams
    assert set(rows.values_list("cohort_key", flat=True)) == {
        "intent=billing|team=north",
        "intent=billing|team=south",
        "intent=cards|team=north",
        "intent=cards|team=south",
    }
    assert set(rows.values_list("version_key", flat=True)) == {"prompt=v11", "prompt=v12"}
    released = sized.releases["released"]
    assert not rows.filter(version_key="prompt=v12", period_start__lt=released.deployed_date).exists()


def test_signals_raise_their_actions_and_the_closure_row_has_every_state_and_age():
    sized = build_portfolio(1).capabilities[0]
    open_signals = Signal.objects.filter(contract__capability=sized.capability, resolved_period__isnull=True)
    assert sorted(open_signals.values_list("contract__category", "level")) == [
        ("quality", "warning"),
        ("risk", "breach"),
    ]
    for signal in Signal.objects.filter(contract__capability=sized.capability):
        assert signal.action.source == signal
    closed = sized.actions["cost"]
    closed.refresh_from_db()
    assert closed.status == "closed" and closed.closed_at
    assert [e.verdict for e in closed.evidence.all()] == ["accepted"]
    assert [e.verdict for e in sized.actions["awaiting"].evidence.all()] == ["pending"]
    summary = closure_summary(Action.objects.filter(capability=sized.capability))
    assert summary["closed"] == 1 and summary["open"] == 6
    assert summary["overdue"] == 2 and summary["blocked"] == 1 and summary["reopened"] == 1
    assert summary["awaiting_verification"] == 1
    assert all(summary[key] >= 1 for key in ["age_0_7", "age_8_14", "age_15_30", "age_over_30"])


def test_releases_incidents_assumptions_and_a_decision_citing_the_outcome_contract():
    sized = build_portfolio(1).capabilities[0]
    released = sized.releases["released"]
    assert released.state == "impact_reviewed" and released.deployed_date
    assert list(released.impact_reviews.values_list("decision", flat=True)) == ["keep"]
    assert sized.releases["pending"].state == "submitted" and sized.releases["pending"].deployed_date is None
    assert {(i.severity, i.state) for i in sized.incidents.values()} == {
        ("sev2", "contained"),
        ("sev3", "closed"),
    }
    assert {a.status for a in sized.assumptions.values()} == {"confirmed", "invalidated"}
    link = EvidenceLink.objects.get(decision=sized.decision)
    assert link.target == sized.contracts["outcome"]


def test_a_second_call_adds_capabilities_and_the_reader_sees_them_all():
    first = build_portfolio(2)
    second = build_portfolio(3, prefix="more")
    assert first.reader == second.reader
    assert Capability.objects.count() == 5
    assert Capability.objects.visible_to(second.reader).count() == 5
    assert MetricContract.objects.count() == 5 * len(CATEGORIES)
    assert len(second.all_contracts()) == 3 * len(CATEGORIES)
