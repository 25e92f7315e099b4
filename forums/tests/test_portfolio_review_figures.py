"""What the portfolio figures read of a contract's evaluations in the quarter: only the periods
evaluated (a level other than "insufficient data", and a value), the latest of them formatted in
the contract's own unit, and the adoption cohorts lagging in that latest period."""

import datetime

from django.utils import timezone

from contracts.choices import SignalLevel
from contracts.tests.factories import EvaluationFactory, MetricContractFactory
from forums.portfolio_review import figures_window, portfolio_figures, quarter_of

OK, WARNING, BREACH, STOP = SignalLevel.OK, SignalLevel.WARNING, SignalLevel.BREACH, SignalLevel.STOP
INSUFFICIENT = SignalLevel.INSUFFICIENT_DATA


def weeks_back(count: int) -> list[datetime.date]:
    monday = timezone.localdate() - datetime.timedelta(days=timezone.localdate().weekday())
    return [monday - datetime.timedelta(weeks=k) for k in reversed(range(count))]


def contract(capability, metric_id, category, **fields):
    return MetricContractFactory(
        capability=capability, metric_id=metric_id, category=category, status="active", **fields
    )


def evaluate(contract, period, level, value, cut=""):
    EvaluationFactory(
        contract=contract, period_start=period, level=level, raw_level=level, value=value, cut=cut
    )


def figures_of(capability):
    today = timezone.localdate()
    start, end = figures_window(quarter_of(today), today)
    found = portfolio_figures([capability], start=start, end=end)[capability.pk]
    return {figure.metric_id: figure for figure in found.contracts}


def test_a_contract_reads_its_evaluated_periods_and_the_cohorts_lagging_in_the_latest(capability):
    weeks = weeks_back(5)
    adoption = contract(capability, "cc.qualified_use", "adoption", direction="higher", unit="%", target=50)
    evaluate(adoption, weeks[0], OK, 60.0)
    evaluate(adoption, weeks[1], WARNING, 45.0)
    evaluate(adoption, weeks[2], OK, None)  # no value: not an evaluated period
    evaluate(adoption, weeks[3], OK, 70.0)  # the latest evaluated period
    evaluate(adoption, weeks[4], INSUFFICIENT, 10.0)  # not evaluated
    evaluate(adoption, weeks[3], WARNING, 40.0, cut="team=a")
    evaluate(adoption, weeks[3], OK, 75.0, cut="team=b")
    evaluate(adoption, weeks[3], BREACH, 20.0, cut="team=c")
    evaluate(adoption, weeks[1], STOP, 5.0, cut="team=d")  # an earlier period: not lagging now
    evaluate(adoption, weeks[4], BREACH, 5.0, cut="team=e")  # a period without a level: not read

    figure = figures_of(capability)["cc.qualified_use"]

    assert (figure.level, figure.latest_text) == (OK, "70.0%")
    assert (figure.periods_evaluated, figure.periods_ok) == (3, 2)
    assert figure.trend == "better" and figure.at_target is True
    assert figure.lagging_cuts == ("team=a", "team=c")


def test_only_adoption_cohorts_lag_and_each_value_reads_in_its_own_unit(capability):
    (week,) = weeks_back(1)
    risk = contract(capability, "cc.misleading_answer", "risk", unit="share", target=0.02)
    evaluate(risk, week, WARNING, 0.031)
    evaluate(risk, week, BREACH, 0.2, cut="entity_type=complex")
    outcome = contract(capability, "cc.handle_time", "outcome", unit="min", target=5)
    evaluate(outcome, week, OK, 4.25)
    contract(capability, "cc.never_evaluated", "cost")

    figures = figures_of(capability)

    risk_figure = figures["cc.misleading_answer"]
    assert (risk_figure.level, risk_figure.latest_text, risk_figure.at_target) == (WARNING, "3.1%", False)
    assert risk_figure.lagging_cuts == ()
    assert (figures["cc.handle_time"].latest_text, figures["cc.handle_time"].at_target) == ("4.25 min", True)
    never = figures["cc.never_evaluated"]
    assert (never.level, never.latest_text, never.periods_evaluated, never.trend) == (
        INSUFFICIENT,
        "—",
        0,
        "",
    )
    assert never.at_target is None and never.lagging_cuts == ()
