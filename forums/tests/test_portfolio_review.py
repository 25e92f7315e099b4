"""The quarterly portfolio review's services: opening a quarter (idempotent, suggestions from
the data, never stored as ratings), rating, deciding into the decision log (every 9.3 decision
alike, pause and retire included), superseding, and closing only when every row is decided."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from contracts.models import StopHold
from contracts.tests.factories import EvaluationFactory, MetricContractFactory, SignalFactory
from forums.choices import Cadence, Frequency, PortfolioDecision, PortfolioReviewState, Weekday
from forums.models import PortfolioReview, ScorecardRow, Session
from forums.portfolio_review import (
    DIMENSIONS,
    figures_window,
    portfolio_figures,
    portfolio_review_close,
    portfolio_review_open,
    quarter_of,
    scorecard_decide,
    scorecard_rate,
)
from forums.services import forum_create
from productops.errors import DomainError, TransitionNotAllowed


def today():
    return timezone.localdate()


QUARTER = quarter_of(datetime.date.today())


def weeks_back(count: int) -> list[datetime.date]:
    """The Mondays of the last ``count`` weeks, oldest first (all inside the review's window)."""
    monday = today() - datetime.timedelta(days=today().weekday())
    return [monday - datetime.timedelta(weeks=k) for k in reversed(range(count))]


def plant_contract(
    capability, metric_id, category, *, levels=("ok",) * 4, values=None, evidence="E3", **fields
):
    """An active contract with one whole-population evaluation per week at the given levels."""
    contract = MetricContractFactory(
        capability=capability,
        metric_id=metric_id,
        name=fields.pop("name", metric_id.split(".")[-1].replace("_", " ")),
        category=category,
        status="active",
        evidence_level=evidence,
        **fields,
    )
    values = values or [11.0] * len(levels)
    for period, level, value in zip(weeks_back(len(levels)), levels, values, strict=True):
        EvaluationFactory(contract=contract, period_start=period, value=value, level=level, raw_level=level)
    return contract


def plant_portfolio(capability, prefix="cc"):
    """One contract per category the suggestions read (outcome ok at target, adoption ok, risk
    ok, cost ok): a healthy capability."""
    return {
        "outcome": plant_contract(capability, f"{prefix}.repeat_contact", "outcome", values=[9.5] * 4),
        "adoption": plant_contract(
            capability,
            f"{prefix}.qualified_use",
            "adoption",
            direction="higher",
            target=50,
            warning=40,
            breach=30,
            values=[60.0] * 4,
        ),
        "risk": plant_contract(capability, f"{prefix}.misleading_answer", "risk"),
        "cost": plant_contract(capability, f"{prefix}.cost_per_call", "cost"),
    }


def make_incident(capability, severity, *, is_recurrence=False, days_ago=10):
    from incidents.models import Incident

    return Incident.objects.create(
        capability=capability,
        title=f"{severity} incident",
        source="monitoring",
        occurred_on=today() - datetime.timedelta(days=days_ago),
        severity=severity,
        is_recurrence=is_recurrence,
    )


def make_backlog_item(capability, contract, *, item_class="quality_fix", problem_key="", title="Fix it"):
    from portfolio.models import BacklogItem

    return BacklogItem.objects.create(
        capability=capability,
        title=title,
        item_class=item_class,
        expected_metric=contract,
        expected_direction="down",
        problem_key=problem_key,
    )


def rate_all(row, by):
    """Accept every suggestion; rate what the data cannot speak to 3, with a note."""
    for dimension in DIMENSIONS:
        if row.ratings[dimension]["suggested"] is not None:
            scorecard_rate(row=row, dimension=dimension, by=by, accept=True)
        else:
            scorecard_rate(row=row, dimension=dimension, by=by, rating=3, note="Core to the 2027 plan")
    return row


OUTPUT = {
    "evidence_basis": "Cycle time down in low-risk retail, EDD defects unchanged",
    "funding_change": "Fund 2 engineers for workflow integration",
    "platform_dependency": "Document extraction quality dashboard",
    "risk_condition": "No expansion to complex entity until the false-pass sample remains clean",
    "next_review": "2027-Q1 monthly value review",
}


@pytest.fixture
def finance(make_person):
    return make_person("finance", username="finance")


@pytest.fixture
def quarterly_session(executive):
    forum = forum_create(
        by=executive,
        name="Quarterly portfolio review",
        cadence=Cadence.QUARTERLY_PORTFOLIO_REVIEW,
        owner=executive,
        attendee_roles=["executive", "finance"],
        decision_types=["fund", "pause", "consolidate", "retire"],
        frequency=Frequency.QUARTERLY,
        weekday=Weekday.THURSDAY,
        time_of_day=datetime.time(10, 0),
        week_of_month=2,
        anchor_date=datetime.date(2026, 1, 5),
    )
    return Session.objects.create(
        forum=forum, scheduled_at=timezone.now(), decision_requested="Fund, pause or retire?"
    )


@pytest.fixture
def review(executive, capability, other_capability):
    plant_portfolio(capability)
    return portfolio_review_open(quarter=QUARTER, by=executive)


def row_of(review, capability) -> ScorecardRow:
    return ScorecardRow.objects.get(review=review, capability=capability)


# --- opening ------------------------------------------------------------------------------------


def test_opening_gives_every_capability_not_retired_a_row_with_suggestions_and_no_rating(
    executive, capability, other_capability
):
    from portfolio.tests.factories import CapabilityFactory

    CapabilityFactory(name="Legacy FAQ bot", lifecycle_status="retired")
    plant_portfolio(capability)
    review = portfolio_review_open(quarter=QUARTER.lower(), by=executive)

    assert review.quarter == QUARTER and review.state == PortfolioReviewState.DRAFT
    rows = {row.capability.name: row for row in review.rows.select_related("capability")}
    assert set(rows) == {capability.name, other_capability.name}
    net_value = rows[capability.name].ratings["net_value"]
    assert net_value["suggested"] == 5
    assert net_value["rating"] is None
    assert "cc.repeat_contact (E3): ok 9.5%" in net_value["evidence"]
    assert {"kind": "contract", "id": net_value["cites"][0]["id"], "ref": "cc.repeat_contact"} in net_value[
        "cites"
    ]
    # A capability without contracts: the data says it cannot speak, no number is invented.
    bare = rows[other_capability.name].ratings
    assert bare["net_value"]["suggested"] is None
    assert bare["net_value"]["evidence"].startswith("No outcome contract")
    assert all(bare[dimension]["rating"] is None for dimension in DIMENSIONS)


def test_opening_again_adds_new_capabilities_refreshes_suggestions_and_keeps_ratings(
    executive, capability, other_capability
):
    from portfolio.tests.factories import CapabilityFactory

    contracts = plant_portfolio(capability)
    review = portfolio_review_open(quarter=QUARTER, by=executive)
    row = row_of(review, capability)
    scorecard_rate(row=row, dimension="net_value", by=executive, rating=4, note="Finance sign-off pending")
    # The outcome falls to breach after the review opened, and a capability is added.
    contracts["outcome"].evaluations.filter(period_start=weeks_back(1)[0]).update(level="breach", value=16.0)
    newcomer = CapabilityFactory(name="AML triage assistant")

    again = portfolio_review_open(quarter=QUARTER, by=executive)

    assert again.pk == review.pk
    assert PortfolioReview.objects.count() == 1
    assert again.rows.count() == 3
    assert again.rows.filter(capability=newcomer).exists()
    net_value = row_of(again, capability).ratings["net_value"]
    assert net_value["rating"] == 4 and net_value["note"] == "Finance sign-off pending"
    assert net_value["suggested"] == 2
    assert "cc.repeat_contact (E3): breach 16.0%" in net_value["evidence"]


def test_opening_links_a_quarterly_session_and_refuses_another_cadence(
    executive, org_pm, capability, quarterly_session
):
    review = portfolio_review_open(quarter=QUARTER, session=quarterly_session, by=executive)
    assert review.session == quarterly_session
    weekly = forum_create(
        by=org_pm,
        name="Weekly ops review",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=org_pm,
        attendee_roles=["ai_pm"],
        decision_types=["continue"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
    )
    session = Session.objects.create(forum=weekly, scheduled_at=timezone.now())
    with pytest.raises(DomainError) as refused:
        portfolio_review_open(quarter="2027-Q1", session=session, by=executive)
    assert refused.value.field == "session"
    assert not PortfolioReview.objects.filter(quarter="2027-Q1").exists()


def test_opening_takes_an_organisation_wide_role_on_the_quarterly_review(pm, finance, capability):
    with pytest.raises(PermissionDenied):
        portfolio_review_open(quarter=QUARTER, by=pm)
    assert not PortfolioReview.objects.exists()
    assert portfolio_review_open(quarter=QUARTER, by=finance).rows.count() == 1


def test_a_quarter_typed_wrong_is_refused_naming_the_field(executive, capability):
    with pytest.raises(DomainError) as refused:
        portfolio_review_open(quarter="Q4-2026", by=executive)
    assert refused.value.field == "quarter"
    assert not PortfolioReview.objects.exists()


def test_the_figures_of_the_whole_portfolio_take_eight_queries_at_any_size(
    django_assert_num_queries, capability, other_capability
):
    from portfolio.tests.factories import CapabilityFactory

    start, end = figures_window(QUARTER, today())
    for index, subject in enumerate([capability, other_capability, CapabilityFactory()]):
        plant_portfolio(subject, prefix=f"small{index}")
    small = [capability, other_capability]
    with django_assert_num_queries(8):
        figures = portfolio_figures(small, start=start, end=end)
    assert len(figures[capability.pk].contracts) == 4
    many = [CapabilityFactory() for _ in range(10)]
    for index, subject in enumerate(many):
        plant_portfolio(subject, prefix=f"big{index}")
    with django_assert_num_queries(8):
        figures = portfolio_figures(small + many, start=start, end=end)
    assert len(figures) == 12 and all(len(found.contracts) == 4 for found in figures.values())


def test_figures_read_signals_holds_incidents_assumptions_and_shared_problems(capability, other_capability):
    from assumptions.tests.factories import AssumptionFactory

    start, end = figures_window(QUARTER, today())
    contracts = plant_portfolio(capability)
    signal = SignalFactory(
        contract=contracts["risk"], level="stop", worst_level="stop", cut="entity_type=complex"
    )
    StopHold.objects.create(capability=capability, signal=signal, reason="False passes past stop")
    make_incident(capability, "sev1")
    make_incident(capability, "sev2", days_ago=200)  # before the quarter: not read
    AssumptionFactory(capability=capability, status="invalidated")
    other = plant_contract(other_capability, "kyc.rework", "quality")
    make_backlog_item(capability, contracts["outcome"], problem_key="evidence-citation")
    make_backlog_item(other_capability, other, problem_key="evidence-citation")
    make_backlog_item(capability, contracts["outcome"], item_class="retirement", title="Retire the old rules")

    figures = portfolio_figures([capability], start=start, end=end)[capability.pk]

    assert [(s.metric_id, s.level, s.cut) for s in figures.signals] == [
        ("cc.misleading_answer", "stop", "entity_type=complex")
    ]
    assert [h.metric_id for h in figures.holds] == ["cc.misleading_answer"]
    assert [i.severity for i in figures.incidents] == ["sev1"]
    assert [a.status for a in figures.assumptions] == ["invalidated"]
    shared = [item for item in figures.backlog if item.problem_key]
    assert [(item.problem_key, item.shared_by) for item in shared] == [("evidence-citation", 2)]
    assert [item.title for item in figures.backlog if item.retirement] == ["Retire the old rules"]


# --- rating ------------------------------------------------------------------------------------


def test_accepting_a_suggestion_makes_it_the_rating(review, capability, executive):
    row = row_of(review, capability)
    scorecard_rate(row=row, dimension="net_value", by=executive, accept=True)
    row.refresh_from_db()
    assert row.ratings["net_value"]["rating"] == 5 == row.ratings["net_value"]["suggested"]
    assert row.history.first().history_change_reason == "Net value: 5 (suggestion accepted)"


def test_a_rating_other_than_the_suggestion_needs_a_note(review, capability, executive):
    row = row_of(review, capability)
    with pytest.raises(DomainError) as refused:
        scorecard_rate(row=row, dimension="net_value", by=executive, rating=3)
    assert refused.value.field == "note"
    assert "The data suggests 5" in refused.value.message
    row.refresh_from_db()
    assert row.ratings["net_value"]["rating"] is None
    scorecard_rate(
        row=row, dimension="net_value", by=executive, rating=3, note="Leakage not in the contract yet"
    )
    row.refresh_from_db()
    assert row.ratings["net_value"]["rating"] == 3
    assert row.ratings["net_value"]["note"] == "Leakage not in the contract yet"


def test_strategic_fit_has_nothing_to_accept_and_a_rating_needs_a_note(review, capability, executive):
    row = row_of(review, capability)
    with pytest.raises(DomainError) as refused:
        scorecard_rate(row=row, dimension="strategic_fit", by=executive, accept=True)
    assert refused.value.field == "rating"
    with pytest.raises(DomainError) as refused:
        scorecard_rate(row=row, dimension="strategic_fit", by=executive, rating=5)
    assert refused.value.field == "note"
    scorecard_rate(row=row, dimension="strategic_fit", by=executive, rating=5, note="客户体验战略的核心")
    row.refresh_from_db()
    assert row.ratings["strategic_fit"] == {
        **row.ratings["strategic_fit"],
        "rating": 5,
        "note": "客户体验战略的核心",
    }


@pytest.mark.parametrize(
    ("dimension", "rating", "field"),
    [("net_value", 6, "rating"), ("net_value", "x", "rating"), ("speed", 3, "dimension")],
)
def test_a_rating_outside_one_to_five_or_an_unknown_dimension_is_refused(
    review, capability, executive, dimension, rating, field
):
    with pytest.raises(DomainError) as refused:
        scorecard_rate(
            row=row_of(review, capability), dimension=dimension, by=executive, rating=rating, note="n"
        )
    assert refused.value.field == field


def test_a_pm_rates_their_capability_and_a_viewer_cannot(review, capability, pm, viewer):
    row = row_of(review, capability)
    scorecard_rate(row=row, dimension="risk_stability", by=pm, accept=True)
    with pytest.raises(PermissionDenied):
        scorecard_rate(row=row, dimension="adoption_durability", by=viewer, accept=True)
    row.refresh_from_db()
    assert row.ratings["adoption_durability"]["rating"] is None


# --- deciding ------------------------------------------------------------------------------------


def test_deciding_writes_the_decision_log_with_the_session_and_the_evidence_the_ratings_cite(
    executive, finance, capability, quarterly_session
):
    from assumptions.tests.factories import AssumptionFactory

    contracts = plant_portfolio(capability)
    SignalFactory(contract=contracts["risk"], level="breach", worst_level="breach")
    incident = make_incident(capability, "sev1")
    assumption = AssumptionFactory(capability=capability, status="invalidated")
    review = portfolio_review_open(quarter=QUARTER, session=quarterly_session, by=executive)
    row = rate_all(row_of(review, capability), finance)

    scorecard_decide(row=row, by=finance, decision=PortfolioDecision.RESTRICT, **OUTPUT)

    row.refresh_from_db()
    record = row.decision_logged
    assert row.decision == "restrict" and row.decided_by == finance
    assert row.funding_change == OUTPUT["funding_change"] and row.next_review == OUTPUT["next_review"]
    assert record.type == "restrict"
    assert record.capability == capability
    assert record.forum_session == quarterly_session
    assert record.owner == finance
    # Finance is only informed on the decision log: the system records, Finance owns it.
    assert record.recorded_by is None
    assert record.decision.startswith(
        f"{QUARTER} portfolio review — Restrict: Cycle time down in low-risk retail"
    )
    assert "Risk condition: No expansion to complex entity" in record.decision
    next_quarter = datetime.date(2027, 1, 1)
    assert record.review_date == (next_quarter if next_quarter >= today() else None)
    linked = {(link.content_type.model, link.object_id) for link in record.evidence_links.all()}
    assert ("metriccontract", contracts["risk"].pk) in linked
    assert ("incident", incident.pk) in linked
    assert ("assumption", assumption.pk) in linked
    assert record.details["ratings"]["risk_stability"] == 1
    assert record.details["funding_change"] == OUTPUT["funding_change"]


def test_an_executive_records_the_decision_in_their_own_name(review, capability, executive):
    row = rate_all(row_of(review, capability), executive)
    scorecard_decide(row=row, by=executive, decision=PortfolioDecision.FUND, **OUTPUT)
    assert row.decision_logged.recorded_by == executive


@pytest.mark.parametrize("decision", PortfolioDecision.values)
def test_every_portfolio_decision_pause_and_retire_included_is_logged_with_its_own_type(
    review, capability, executive, decision
):
    row = rate_all(row_of(review, capability), executive)
    scorecard_decide(row=row, by=executive, decision=decision, **OUTPUT)
    row.refresh_from_db()
    assert row.decision == decision
    assert row.decision_logged.type == decision
    assert row.decision_logged.details["portfolio_decision"] == decision


def test_deciding_needs_every_dimension_rated(review, capability, executive):
    row = row_of(review, capability)
    scorecard_rate(row=row, dimension="net_value", by=executive, accept=True)
    with pytest.raises(DomainError) as refused:
        scorecard_decide(row=row, by=executive, decision="retire", **OUTPUT)
    assert refused.value.field == "ratings"
    assert "adoption durability" in refused.value.message and "strategic fit" in refused.value.message
    row.refresh_from_db()
    assert row.decision == "" and row.decision_logged is None


@pytest.mark.parametrize("missing", ["evidence_basis", "funding_change", "risk_condition", "next_review"])
def test_deciding_needs_the_output_row_of_9_4(review, capability, executive, missing):
    from decisions.models import Decision

    row = rate_all(row_of(review, capability), executive)
    with pytest.raises(DomainError) as refused:
        scorecard_decide(row=row, by=executive, decision="pause", **{**OUTPUT, missing: "  "})
    assert refused.value.field == missing
    assert not Decision.objects.exists()


def test_an_unknown_decision_is_refused(review, capability, executive):
    row = rate_all(row_of(review, capability), executive)
    with pytest.raises(DomainError) as refused:
        scorecard_decide(row=row, by=executive, decision="expand", **OUTPUT)
    assert refused.value.field == "decision"


def test_a_decided_row_is_not_changed_silently_and_superseding_keeps_both_in_the_log(
    review, capability, executive
):
    from decisions.models import Decision

    row = rate_all(row_of(review, capability), executive)
    scorecard_decide(row=row, by=executive, decision="scale", **OUTPUT)
    first = row.decision_logged

    with pytest.raises(TransitionNotAllowed) as refused:
        scorecard_decide(row=row, by=executive, decision="retire", **OUTPUT)
    assert first.readable_id in refused.value.message and "supersede" in refused.value.message
    row.refresh_from_db()
    assert row.decision == "scale"

    scorecard_decide(
        row=row,
        by=executive,
        decision="retire",
        supersede=True,
        **{**OUTPUT, "funding_change": "Stop funding"},
    )
    row.refresh_from_db()
    assert row.decision == "retire" and row.funding_change == "Stop funding"
    assert row.decision_logged.supersedes == first
    assert Decision.objects.filter(capability=capability).count() == 2
    assert Decision.objects.get(pk=first.pk).type == "scale"  # the log keeps the first as recorded


def test_a_decided_rows_ratings_stand_with_its_decision(review, capability, executive):
    row = rate_all(row_of(review, capability), executive)
    scorecard_decide(row=row, by=executive, decision="fund", **OUTPUT)
    with pytest.raises(TransitionNotAllowed) as refused:
        scorecard_rate(row=row, dimension="net_value", by=executive, rating=1, note="changed my mind")
    assert refused.value.field == "rating"
    row.refresh_from_db()
    assert row.ratings["net_value"]["rating"] == 5


def test_opening_again_leaves_a_decided_rows_suggestions_as_its_decision_saw_them(
    review, capability, executive
):
    row = rate_all(row_of(review, capability), executive)
    scorecard_decide(row=row, by=executive, decision="fund", **OUTPUT)
    before = row_of(review, capability).ratings
    make_incident(capability, "sev1")
    portfolio_review_open(quarter=QUARTER, by=executive)
    assert row_of(review, capability).ratings == before


# --- closing ------------------------------------------------------------------------------------


def test_closing_needs_every_row_decided(review, capability, other_capability, executive):
    scorecard_decide(
        row=rate_all(row_of(review, capability), executive), by=executive, decision="retire", **OUTPUT
    )
    with pytest.raises(DomainError) as refused:
        portfolio_review_close(review=review, by=executive)
    assert refused.value.field == "rows"
    assert other_capability.name in refused.value.message
    review.refresh_from_db()
    assert review.state == PortfolioReviewState.DRAFT

    scorecard_decide(
        row=rate_all(row_of(review, other_capability), executive), by=executive, decision="pause", **OUTPUT
    )
    portfolio_review_close(review=review, by=executive)
    review.refresh_from_db()
    assert review.state == PortfolioReviewState.DECIDED and review.decided_at is not None


def test_a_closed_review_takes_no_more_ratings_and_opening_it_changes_nothing(
    review, capability, other_capability, executive
):
    from portfolio.tests.factories import CapabilityFactory

    for subject in (capability, other_capability):
        scorecard_decide(
            row=rate_all(row_of(review, subject), executive), by=executive, decision="fund", **OUTPUT
        )
    portfolio_review_close(review=review, by=executive)
    CapabilityFactory(name="Arrived late")
    again = portfolio_review_open(quarter=QUARTER, by=executive)
    assert again.rows.count() == 2
    with pytest.raises(TransitionNotAllowed):
        scorecard_decide(
            row=row_of(review, capability), by=executive, decision="retire", supersede=True, **OUTPUT
        )


def test_closing_takes_an_organisation_wide_role(review, capability, pm):
    with pytest.raises(PermissionDenied):
        portfolio_review_close(review=review, by=pm)
