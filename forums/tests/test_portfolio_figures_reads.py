"""What ``portfolio_figures`` reads, and leaves out, for the quarterly portfolio review and the
portfolio board: only active contracts, only evaluations at each contract's own grain (a contract
whose grain changed keeps rows that no longer speak for it), lagging cohorts of adoption
contracts only, open signals, stop holds not lifted, incidents inside the window, weakened and
invalidated assumptions, and the open backlog items that name a shared problem or a retirement."""

import datetime

from django.utils import timezone

from contracts.choices import SignalLevel
from contracts.models import StopHold
from contracts.tests.factories import EvaluationFactory, MetricContractFactory, SignalFactory
from forums.portfolio_review import figures_window, portfolio_figures, quarter_of
from portfolio.tests.factories import CapabilityFactory

OK, WARNING, BREACH = SignalLevel.OK, SignalLevel.WARNING, SignalLevel.BREACH


def window():
    today = timezone.localdate()
    return figures_window(quarter_of(today), today)


def figures_of(*capabilities):
    start, end = window()
    return portfolio_figures(list(capabilities), start=start, end=end)


def contract(capability, metric_id, category, grain="week", status="active", **fields):
    return MetricContractFactory(
        capability=capability, metric_id=metric_id, category=category, grain=grain, status=status, **fields
    )


def evaluate(contract, period, grain, level, value, cut=""):
    EvaluationFactory(
        contract=contract,
        period_start=period,
        grain=grain,
        level=level,
        raw_level=level,
        value=value,
        cut=cut,
    )


def mondays(count: int) -> list[datetime.date]:
    """The last ``count`` Mondays of the window, oldest first."""
    _start, end = window()
    monday = end - datetime.timedelta(days=end.weekday())
    return [monday - datetime.timedelta(weeks=k) for k in reversed(range(count))]


def month_starts() -> list[datetime.date]:
    """The first days of the months starting inside the window, oldest first."""
    start, end = window()
    firsts, day = [], end.replace(day=1)
    while day >= start:
        firsts.insert(0, day)
        day = (day - datetime.timedelta(days=1)).replace(day=1)
    return firsts


def test_only_evaluations_at_each_contracts_own_grain_are_read(capability):
    weeks = mondays(3)
    months = month_starts()
    weekly = contract(capability, "cc.qualified_use", "adoption", direction="higher", unit="%", target=50)
    monthly = contract(capability, "cc.handle_time", "outcome", grain="month", unit="min", target=5)
    for week, value in zip(weeks, (40.0, 50.0, 60.0), strict=True):
        evaluate(weekly, week, "week", OK, value)
        # Rows of the same contract at another grain (its grain was changed): never read.
        evaluate(weekly, week, "month", BREACH, 1.0)
        evaluate(weekly, week, "day", BREACH, 1.0)
    evaluate(weekly, weeks[-1], "week", WARNING, 30.0, cut="team=a")
    evaluate(weekly, weeks[-1], "month", BREACH, 30.0, cut="team=b")
    # A cohort at breach of a contract that is not an adoption contract does not lag.
    risk = contract(capability, "cc.misleading_answer", "risk", unit="share", target=0.02)
    evaluate(risk, weeks[-1], "week", WARNING, 0.031)
    evaluate(risk, weeks[-1], "week", BREACH, 0.2, cut="entity_type=complex")
    for month in months:
        # The same day at both grains: only the month's row counts for the monthly contract.
        evaluate(monthly, month, "month", OK, 4.25)
        evaluate(monthly, month, "week", BREACH, 99.0)

    found = {figure.metric_id: figure for figure in figures_of(capability)[capability.pk].contracts}

    adoption = found["cc.qualified_use"]
    assert (adoption.level, adoption.latest_text, adoption.periods_evaluated, adoption.periods_ok) == (
        OK,
        "60.0%",
        3,
        3,
    )
    assert (adoption.trend, adoption.at_target, adoption.lagging_cuts) == ("better", True, ("team=a",))
    assert (found["cc.misleading_answer"].latest_text, found["cc.misleading_answer"].lagging_cuts) == (
        "3.1%",
        (),
    )
    outcome = found["cc.handle_time"]
    assert (outcome.level, outcome.latest_text, outcome.periods_evaluated) == (OK, "4.25 min", len(months))
    assert (outcome.trend, outcome.at_target, outcome.lagging_cuts) == ("steady", True, ())


def test_contracts_are_the_active_ones_in_category_then_id_order(capability, other_capability):
    week = mondays(1)[0]
    retired = contract(capability, "cc.old_rule_rate", "quality", status="retired")
    evaluate(retired, week, "week", BREACH, 50.0)
    contract(capability, "cc.draft_metric", "quality", status="draft")
    contract(capability, "cc.zz_cost", "cost")
    contract(capability, "cc.aa_cost", "cost")
    contract(
        capability,
        "cc.escalations",
        "adoption",
        improvement_not_net=True,
        improvement_not_net_reason="Shifted",
    )
    contract(other_capability, "kyc.rework", "quality")

    figures = figures_of(capability)

    assert list(figures) == [capability.pk]
    mine = figures[capability.pk]
    assert (mine.name, mine.risk_tier) == (capability.name, capability.risk_tier)
    assert [figure.metric_id for figure in mine.contracts] == ["cc.escalations", "cc.aa_cost", "cc.zz_cost"]
    escalations = mine.contracts[0]
    assert escalations.improvement_not_net is True and escalations.not_net_reason == "Shifted"
    assert mine.contracts[1].improvement_not_net is False
    assert mine.contracts[1].level == SignalLevel.INSUFFICIENT_DATA and mine.contracts[1].latest_text == "—"


def test_open_signals_of_active_contracts_and_holds_not_lifted(capability):
    risk = contract(capability, "cc.misleading_answer", "risk")
    retired = contract(capability, "cc.old_risk", "risk", status="retired")
    older = SignalFactory(contract=risk, level=BREACH, cut="team=a", opened_period=datetime.date(2026, 1, 5))
    newer = SignalFactory(contract=risk, level="stop", cut="", opened_period=datetime.date(2026, 2, 2))
    SignalFactory(
        contract=risk,
        level=WARNING,
        cut="team=b",
        opened_period=datetime.date(2026, 3, 2),
        resolved_period=datetime.date(2026, 3, 9),
    )
    SignalFactory(contract=retired, level=BREACH, opened_period=datetime.date(2026, 3, 2))
    StopHold.objects.create(capability=capability, signal=newer, reason="Stop level crossed")
    StopHold.objects.create(
        capability=capability,
        signal=older,
        reason="Breach held",
        lifted_at=timezone.now(),
        lift_comment="Fixed",
    )

    figures = figures_of(capability)[capability.pk]

    # The newest opened first.
    assert [(s.metric_id, s.level, s.cut, s.where) for s in figures.signals] == [
        ("cc.misleading_answer", "stop", "", "cc.misleading_answer"),
        ("cc.misleading_answer", BREACH, "team=a", "cc.misleading_answer [team=a]"),
    ]
    assert [(hold.contract_pk, hold.metric_id) for hold in figures.holds] == [
        (risk.pk, "cc.misleading_answer")
    ]


def test_incidents_assumptions_and_backlog_items_read_for_the_quarter(capability, other_capability):
    from assumptions.tests.factories import AssumptionFactory
    from incidents.models import Incident
    from portfolio.models import BacklogItem

    start, end = window()

    def incident(severity, day, **fields):
        return Incident.objects.create(
            capability=capability,
            title=f"{severity} on {day}",
            source="monitoring",
            occurred_on=day,
            severity=severity,
            **fields,
        )

    late_sev2 = incident("sev2", end)
    early_sev2 = incident("sev2", start)
    sev1 = incident("sev1", end - datetime.timedelta(days=3), is_recurrence=True)
    incident("sev1", start - datetime.timedelta(days=1))  # before the window
    weakened = AssumptionFactory(capability=capability, status="weakened")
    invalidated = AssumptionFactory(capability=capability, status="invalidated")
    AssumptionFactory(capability=capability, status="confirmed")
    AssumptionFactory(capability=other_capability, status="invalidated")

    metric = contract(capability, "cc.repeat_contact", "outcome")
    other_metric = contract(other_capability, "kyc.rework", "quality")

    def item(subject, problem_key="", item_class="quality_fix", status="proposed", expected=metric):
        return BacklogItem.objects.create(
            capability=subject,
            title=f"{item_class} {problem_key}",
            item_class=item_class,
            expected_metric=expected,
            expected_direction="down",
            problem_key=problem_key,
            status=status,
        )

    shared = item(capability, problem_key="evidence-citation")
    item(capability, problem_key="evidence-citation", status="ready")  # the same capability counts once
    item(other_capability, problem_key="evidence-citation", status="in_progress", expected=other_metric)
    item(other_capability, problem_key="evidence-citation", status="done", expected=other_metric)
    alone = item(capability, problem_key="prompt-drift")
    item(other_capability, problem_key="prompt-drift", status="dropped", expected=other_metric)
    retire = item(capability, item_class="retirement")
    item(capability, item_class="retirement", status="done")
    item(capability)  # neither a shared problem nor a retirement: not read

    figures = figures_of(capability)[capability.pk]

    assert [(i.pk, i.severity, i.is_recurrence) for i in figures.incidents] == [
        (sev1.pk, "sev1", True),
        (early_sev2.pk, "sev2", False),
        (late_sev2.pk, "sev2", False),
    ]
    assert [i.readable_id for i in figures.incidents] == [
        sev1.readable_id,
        early_sev2.readable_id,
        late_sev2.readable_id,
    ]
    # By readable id: the weakened one was recorded first.
    assert weakened.readable_id < invalidated.readable_id
    assert [(a.pk, a.readable_id, a.status) for a in figures.assumptions] == [
        (weakened.pk, weakened.readable_id, "weakened"),
        (invalidated.pk, invalidated.readable_id, "invalidated"),
    ]
    read = {backlog.pk: backlog for backlog in figures.backlog}
    assert [backlog.readable_id for backlog in figures.backlog] == sorted(
        backlog.readable_id for backlog in read.values()
    )
    assert (read[shared.pk].problem_key, read[shared.pk].shared_by, read[shared.pk].retirement) == (
        "evidence-citation",
        2,
        False,
    )
    assert (read[alone.pk].shared_by, read[retire.pk].shared_by, read[retire.pk].retirement) == (1, 0, True)
    assert read[retire.pk].title == "retirement "
    assert len(read) == 4  # shared (two open items of it), alone, retire


def test_the_figures_take_at_most_eight_statements_and_a_capability_without_contracts_reads_empty(
    django_assert_max_num_queries, capability
):
    empty = CapabilityFactory()
    contract(capability, "cc.never_evaluated", "cost")
    with django_assert_max_num_queries(8):
        figures = figures_of(capability, empty)
    assert list(figures) == [capability.pk, empty.pk]
    assert [figure.metric_id for figure in figures[capability.pk].contracts] == ["cc.never_evaluated"]
    assert not figures[empty.pk].contracts and not figures[empty.pk].signals
    start, end = window()
    assert portfolio_figures([], start=start, end=end) == {}
