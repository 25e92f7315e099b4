"""The monthly decision memo (playbook 8.4) built from planted data, and its services: the
figures equal the observations, the "not net" guardrail blocks scaling, drafts are edited and
regenerated, a sent memo is kept as sent, and the forum's decision writes the decision log and
the assumption ledger (rule 6.2)."""

import datetime
import math
import zoneinfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied

from assumptions.models import AssumptionReview
from assumptions.tests.factories import AssumptionFactory
from contracts.models import Evaluation, MetricContract, Observation, cohort_key
from contracts.stats import Z_95
from contracts.tests.factories import MetricContractFactory
from decisions.models import Decision
from forums.choices import Cadence, Frequency, OutcomeKind, SessionState, Weekday, WeekOfMonth
from forums.memos import (
    SECTIONS,
    MemoDecision,
    memo_decide,
    memo_generate,
    memo_send,
    memo_text,
    memo_update,
)
from forums.models import Session, SessionOutcome, ValueMemo
from forums.services import forum_create, forum_rule_findings
from productops.errors import DomainError, TransitionNotAllowed
from productops.models import Notification

pytestmark = pytest.mark.django_db

LONDON = zoneinfo.ZoneInfo("Europe/London")
MONTH = datetime.date(2026, 3, 1)
NOW = datetime.datetime(2026, 4, 1, 15, 0, tzinfo=LONDON)
SESSION_AT = datetime.datetime(2026, 4, 1, 14, 0, tzinfo=LONDON)
BASELINE_WEEKS = [datetime.date(2026, 1, 5) + datetime.timedelta(weeks=n) for n in range(4)]
MARCH_WEEKS = [datetime.date(2026, 3, 2) + datetime.timedelta(weeks=n) for n in range(5)]

OUTCOME = "cc_agent_assist.repeat_contact_7d"


@pytest.fixture(autouse=True)
def _april_first():
    with time_machine.travel(NOW, tick=False):
        yield


def days(start: datetime.date, count: int) -> list[datetime.date]:
    return [start + datetime.timedelta(days=n) for n in range(count)]


def plant_ratio(contract, dates, numerators, denominator=100, cohort=None):
    """One daily observation per date: numerator (cycled) over ``denominator``."""
    cohort = cohort or {}
    Observation.objects.bulk_create(
        Observation(
            contract=contract,
            period_start=day,
            grain="day",
            cohort=cohort,
            cohort_key=cohort_key(cohort),
            version_set={},
            version_key="",
            value=numerators[n % len(numerators)] / denominator,
            numerator=numerators[n % len(numerators)],
            denominator=denominator,
            sample_size=denominator,
        )
        for n, day in enumerate(dates)
    )


def plant_values(contract, dates, values, sample=100):
    Observation.objects.bulk_create(
        Observation(
            contract=contract,
            period_start=day,
            grain="day",
            cohort={},
            cohort_key="",
            version_set={},
            version_key="",
            value=values[n % len(values)],
            sample_size=sample,
        )
        for n, day in enumerate(dates)
    )


def evaluate(contract, weeks, value, level="ok", cut=""):
    Evaluation.objects.bulk_create(
        Evaluation(
            contract=contract,
            period_start=week,
            grain="week",
            cut=cut,
            value=value,
            sample_size=700,
            raw_level=level,
            level=level,
        )
        for week in weeks
    )


def contract(capability, metric_id, category, **fields):
    defaults = {
        "capability": capability,
        "metric_id": metric_id,
        "name": metric_id.split(".")[1].replace("_", " ").capitalize(),
        "category": category,
        "status": "active",
        "unit": "share",
        "cohort_dimensions": [],
        "required_cuts": [],
        "min_sample_size": 30,
    }
    defaults.update(fields)
    return MetricContractFactory(**defaults)


@pytest.fixture
def world(capability, pm, executive):
    return build_world(capability, pm, executive)


def build_world(capability, pm, executive) -> dict:
    """A month (March 2026) where scaling holds on every figure:

    - outcome: repeat contact (lower is better) 12% over the first four weeks of January, 10% in
      March, both from daily observations (11/13 and 9/11 out of 100, alternating);
    - adoption: qualified use 70% in February and March, target 60%;
    - risk: complaint rate 1.5% both months, warning 2%;
    - cost: 1.00 GBP per case both months (0.90/1.10), warning 1.50;
    - quality: a QA defect sample at E2 (below E3).
    """
    outcome = contract(
        capability, OUTCOME, "outcome", direction="lower", target=0.10, warning=0.13, breach=0.16
    )
    plant_ratio(outcome, days(datetime.date(2026, 1, 5), 28), [11, 13])
    plant_ratio(outcome, days(MONTH, 30), [9, 11])
    plant_ratio(outcome, [datetime.date(2026, 3, 31)], [10])
    evaluate(outcome, BASELINE_WEEKS, 0.12)
    evaluate(outcome, MARCH_WEEKS, 0.10)

    adoption = contract(
        capability,
        "cc_agent_assist.qualified_use_rate",
        "adoption",
        direction="higher",
        target=0.60,
        warning=0.50,
        breach=0.40,
    )
    complaints = contract(
        capability,
        "cc_agent_assist.complaint_rate",
        "risk",
        direction="lower",
        target=0.01,
        warning=0.02,
        breach=0.03,
    )
    cost = contract(
        capability,
        "cc_agent_assist.cost_per_case",
        "cost",
        unit="GBP",
        is_ratio=False,
        direction="lower",
        target=1.0,
        warning=1.5,
        breach=2.0,
        evidence_level="E5",
    )
    quality = contract(
        capability,
        "cc_agent_assist.qa_defect_sample_rate",
        "quality",
        direction="lower",
        target=0.02,
        warning=0.04,
        breach=0.06,
        evidence_level="E2",
    )
    february = days(datetime.date(2026, 2, 1), 28)
    march = days(MONTH, 31)
    for row, numerators in [(adoption, [69, 71]), (complaints, [1, 2]), (quality, [2, 3])]:
        plant_ratio(row, february + march, numerators)
    plant_values(cost, february + march, [0.9, 1.1])
    for row, value in [(adoption, 0.70), (complaints, 0.015), (cost, 1.0), (quality, 0.025)]:
        evaluate(row, MARCH_WEEKS, value)

    forum = forum_create(
        by=pm,
        scope=[capability],
        attendees=[pm, executive],
        name="Monthly value review",
        cadence=Cadence.MONTHLY_VALUE_REVIEW,
        owner=pm,
        attendee_roles=[],
        decision_types=[
            "scale",
            "scale_selectively",
            "restrict",
            "redesign",
            "retire",
            "continue",
            "rollback",
        ],
        frequency=Frequency.MONTHLY,
        weekday=Weekday.WEDNESDAY,
        time_of_day=datetime.time(14, 0),
        week_of_month=WeekOfMonth.FIRST,
    )
    session = Session.objects.create(
        forum=forum, scheduled_at=SESSION_AT, decision_requested="Scale or hold?"
    )
    value = AssumptionFactory(
        capability=capability,
        owner=pm,
        type="value",
        statement="Agent assist cuts repeat contact without pushing calls elsewhere.",
        tested_by_contracts=[OUTCOME],
    )
    untested = AssumptionFactory(
        capability=capability,
        owner=pm,
        type="adoption",
        statement="Agents use suggestions when citations are visible.",
        tested_by_contracts=["cc_agent_assist.citation_click_rate"],
    )
    return {
        "capability": capability,
        "outcome": outcome,
        "adoption": adoption,
        "complaints": complaints,
        "cost": cost,
        "quality": quality,
        "forum": forum,
        "session": session,
        "value_assumption": value,
        "untested_assumption": untested,
    }


def generate(world, by, **kwargs):
    kwargs.setdefault("session", world["session"])
    return memo_generate(capability=world["capability"], month=MONTH, by=by, **kwargs)


def figure(memo, section, metric_id):
    return next(f for f in memo.fields["figures"][section] if f["metric_id"] == metric_id)


# --- the figures ------------------------------------------------------------------------------------


def test_memo_figures_equal_the_planted_observations(world, pm):
    memo = generate(world, pm)
    outcome = figure(memo, "outcome", OUTCOME)
    assert outcome["baseline"] == pytest.approx(0.12)
    assert outcome["current"] == pytest.approx(0.10)
    assert outcome["baseline_periods"] == "first 4 weeks from 2026-01-05"
    movement = outcome["movement"]
    # Ratio estimator by hand: residuals of ±1 case per 100 around 12% (28 days) and 10% (31 days).
    half = Z_95 * math.sqrt(1 / 270_000 + 1 / 310_000)
    assert movement["difference"] == pytest.approx(-0.02)
    assert movement["ci_low"] == pytest.approx(-0.02 - half)
    assert movement["ci_high"] == pytest.approx(-0.02 + half)
    assert movement["moved"] == "improved"
    assert (movement["before_rows"], movement["after_rows"]) == (28, 31)
    lines = memo.fields["outcome"]
    assert f"{OUTCOME} (E3): 12.0% (first 4 weeks from 2026-01-05)" in lines["baseline"]
    assert f"{OUTCOME} (E3): 10.0% in 2026-03 (ok)" in lines["current"]
    assert f"{OUTCOME} (E3): -2.0 pts (improved)" in lines["movement"]
    assert "95% CI -2.5 pts … -1.5 pts (28 baseline and 31 month observations)" in lines["confidence"]

    cost = figure(memo, "cost", "cc_agent_assist.cost_per_case")
    # March starts on 0.90: sixteen days at 0.90 and fifteen at 1.10.
    assert cost["current"] == pytest.approx((16 * 0.9 + 15 * 1.1) / 31)
    assert cost["previous"] == pytest.approx(1.0)
    assert cost["trend"]["moved"] == "flat"
    assert cost["line"] == "cost_per_case"
    assert (
        "cc_agent_assist.cost_per_case (E5): 0.997 GBP in 2026-03 (ok)"
        in memo.fields["cost"]["cost_per_case"]
    )


def test_every_figure_names_its_contract_and_evidence_level_and_below_e3_is_marked(world, pm):
    memo = generate(world, pm)
    quality = figure(memo, "risk", "cc_agent_assist.qa_defect_sample_rate")
    assert quality["evidence_level"] == "E2"
    assert quality["below_e3"] is True
    assert quality["line"] == "quality_control"
    assert memo.fields["below_e3"] == ["cc_agent_assist.qa_defect_sample_rate"]
    assert "cc_agent_assist.qa_defect_sample_rate (E2, below E3)" in memo.fields["risk"]["quality_control"]
    for section in ("outcome", "adoption", "risk", "cost"):
        for row in memo.fields["figures"][section]:
            assert row["metric_id"] and row["evidence_level"]
    assert memo.fields["cost"]["human_review_load"] == (
        "No metric contract measures the human review load: an evidence gap."
    )


def test_the_memo_keeps_the_json_shape_its_model_documents(world, pm):
    # ValueMemo: ``fields`` holds the sections and lines of 8.4 ({"outcome": {"baseline": ...}}),
    # ``matrix`` the recommended decision, the pattern, its figures and what blocked a net claim.
    # The monthly pack (forums.packs) reads both.
    memo = generate(world, pm)
    for key, _heading, lines in SECTIONS:
        assert set(memo.fields[key]) == {line for line, _label in lines}
    assert {"decision", "label", "pattern", "figures", "blocked", "missing", "rows", "evidence"} <= set(
        memo.matrix
    )
    assert memo.matrix["decision"] == memo.recommendation


def test_a_healthy_month_recommends_scale_on_the_figures_of_the_data(world, pm):
    memo = generate(world, pm)
    assert memo.recommendation == MemoDecision.SCALE
    result = memo.matrix
    assert result["pattern"] == "Outcome improves, adoption durable, risk stable, cost acceptable"
    figures = {f["name"]: f for f in result["figures"]}
    assert figures["outcome_movement"]["value"] == "improved"
    assert (
        f"{OUTCOME} (E3): -2.0 pts vs baseline (95% CI -2.5 pts … -1.5 pts, improved)"
        in (figures["outcome_movement"]["basis"])
    )
    assert (
        "cc_agent_assist.cost_per_case (E5): 0.997 GBP (ok; warning 1.5 GBP)"
        in figures["cost_acceptable"]["basis"]
    )
    assert memo.fields["decision_requested"]["recommendation"].startswith("Scale — pattern:")


def test_an_improvement_flagged_not_net_blocks_scale_and_the_memo_says_why(world, pm):
    reason = f"{OUTCOME} improved while its guardrail cc_agent_assist.aht_seconds at breach."
    MetricContract.objects.filter(pk=world["outcome"].pk).update(
        improvement_not_net=True, improvement_not_net_reason=reason
    )
    memo = generate(world, pm)
    assert memo.recommendation != MemoDecision.SCALE
    assert memo.recommendation == MemoDecision.CONTINUE
    [blocked] = memo.matrix["blocked"]
    assert blocked["decision"] == "scale"
    assert blocked["contracts"] == [OUTCOME]
    assert blocked["basis"] == reason
    assert memo.fields["not_net"] == [
        {"metric_id": OUTCOME, "reason": reason, "url": world["outcome"].get_absolute_url()}
    ]
    assert f"NOT NET: {reason}" in memo.fields["outcome"]["movement"]
    assert "Scale is blocked" in memo.fields["decision"]["decision"]


def test_a_regression_after_a_recent_release_recommends_rollback_or_hotfix(world, pm):
    from releases.models import ImpactReview, Release

    release = Release.objects.create(
        capability=world["capability"],
        planned_date=datetime.date(2026, 3, 10),
        object_type="prompt",
        change="Shorter billing suggestions",
        version_from="v11",
        version_to="v12",
        risk_tier="medium",
        owner=pm,
        state="released",
        deployed_date=datetime.date(2026, 3, 10),
    )
    figures = {
        "contracts": [
            {
                "metric_id": "cc_agent_assist.qa_defect_sample_rate",
                "category": "quality",
                "whole": {"cut": "", "regression": True},
                "cuts": [
                    {"cut": "intent=billing", "regression": True},
                    {"cut": "intent=card", "regression": False},
                ],
            }
        ]
    }
    ImpactReview.objects.create(
        release=release,
        reviewer=pm,
        periods=4,
        expected_effect="Fewer edits",
        decision="hotfix",
        comment="Billing suggestions cite the wrong fee",
        figures=figures,
        regressions=["cc_agent_assist.qa_defect_sample_rate"],
    )
    memo = generate(world, pm)
    assert memo.recommendation == MemoDecision.ROLLBACK_OR_HOTFIX
    [defect] = memo.matrix["evidence"]["release_defects"]
    assert defect == (
        f"{release.readable_id}: cc_agent_assist.qa_defect_sample_rate (whole population, intent=billing)"
    )
    assert memo.fields["citations"]["releases"] == [release.readable_id]
    assert (
        f"{release.readable_id} prompt: Shorter billing suggestions, v11 → v12"
        in (memo.fields["releases"]["recent_releases"])
    )


def test_the_session_date_is_the_deadline_and_the_forum_owner_owns_the_decision(world, pm):
    memo = generate(world, pm)
    assert memo.session == world["session"]
    assert memo.fields["decision_requested"]["deadline"] == "2026-04-01 14:00"
    assert memo.fields["meta"]["owner_id"] == pm.pk
    assert memo.fields["capability"]["product"] == "Contact-centre agent assist (medium risk, production)"


def test_the_ledger_update_proposes_statuses_from_the_contracts_that_test_each_assumption(world, pm):
    memo = generate(world, pm)
    proposals = {p["id"]: p for p in memo.fields["assumption_update"]}
    value = proposals[world["value_assumption"].readable_id]
    assert value["proposed"] == "confirmed"
    assert f"{OUTCOME} (E3): 10.0% in 2026-03 (ok), baseline 12.0%" in value["evidence"]
    untested = proposals[world["untested_assumption"].readable_id]
    assert untested["proposed"] == "needs_evidence"
    assert "cc_agent_assist.citation_click_rate: no active contract" in untested["evidence"]
    assert world["value_assumption"].readable_id in memo.fields["assumptions"]["confirmed"]


def test_a_breach_that_worsened_since_the_baseline_proposes_invalidating_the_assumption(world, pm):
    Evaluation.objects.filter(contract=world["outcome"], period_start__gte=MONTH).update(level="breach")
    Observation.objects.filter(contract=world["outcome"], period_start__gte=MONTH).update(
        numerator=17, value=0.17
    )
    memo = generate(world, pm)
    proposals = {p["id"]: p["proposed"] for p in memo.fields["assumption_update"]}
    assert proposals[world["value_assumption"].readable_id] == "invalidated"
    assert memo.matrix["evidence"]["value_thesis_weak"] is True


# --- drafts -----------------------------------------------------------------------------------------


def test_regenerating_a_draft_replaces_it_edits_included(world, pm):
    memo = generate(world, pm)
    memo_update(
        memo=memo, by=pm, lines={"adoption": {"work_as_done": "Agents paste suggestions into notes."}}
    )
    Evaluation.objects.filter(contract=world["cost"], period_start__gte=MONTH).update(level="warning")
    again = generate(world, pm)
    assert again.pk == memo.pk
    assert ValueMemo.objects.count() == 1
    assert again.fields["adoption"]["work_as_done"].startswith("Not recorded")
    assert again.matrix["evidence"]["cost_acceptable"] is False
    assert again.recommendation != MemoDecision.SCALE


def test_editing_a_draft_keeps_the_lines_and_runs_the_matrix_again_on_the_judgments(world, pm):
    memo = generate(world, pm)
    memo_update(
        memo=memo,
        by=pm,
        lines={"adoption": {"work_as_done": "两名坐席在移动端跳过了建议面板。"}},
        judgments={"manual_review_unscalable": "Every suggestion on hardship calls is checked by a QA lead."},
    )
    memo.refresh_from_db()
    assert memo.fields["adoption"]["work_as_done"] == "两名坐席在移动端跳过了建议面板。"
    assert memo.recommendation == MemoDecision.REDESIGN_OPERATING_MODEL
    fired = {f["name"]: f for f in memo.matrix["figures"]}
    assert fired["manual_review_unscalable"]["basis"] == (
        "stated in the memo: Every suggestion on hardship calls is checked by a QA lead."
    )
    assert memo.fields["decision_requested"]["recommendation"].startswith(
        "Redesign operating model before expansion"
    )
    assert memo.fields["meta"]["edited_by"]


def test_the_recommendation_is_the_matrix_and_cannot_be_typed(world, pm):
    memo = generate(world, pm)
    with pytest.raises(DomainError) as error:
        memo_update(memo=memo, by=pm, lines={"decision_requested": {"recommendation": "Scale everywhere"}})
    assert error.value.field == "decision_requested.recommendation"
    memo.refresh_from_db()
    assert memo.fields["decision_requested"]["recommendation"].startswith("Scale — pattern:")


@pytest.mark.parametrize(
    ("lines", "field"),
    [
        ({"outcome": {"baseline": "   "}}, "outcome.baseline"),
        ({"outcome": {"fairness": "x"}}, "outcome.fairness"),
        ({"leakage": {"rework": "x"}}, "lines"),
    ],
)
def test_an_empty_or_unknown_line_is_refused_naming_it(world, pm, lines, field):
    memo = generate(world, pm)
    before = dict(memo.fields["outcome"])
    with pytest.raises(DomainError) as error:
        memo_update(memo=memo, by=pm, lines=lines)
    assert error.value.field == field
    memo.refresh_from_db()
    assert memo.fields["outcome"] == before


def test_a_viewer_cannot_generate_or_edit(world, pm, viewer):
    with pytest.raises(PermissionDenied):
        generate(world, viewer)
    memo = generate(world, pm)
    with pytest.raises(PermissionDenied):
        memo_update(memo=memo, by=viewer, lines={"adoption": {"work_as_done": "x"}})


def test_a_month_not_yet_begun_cannot_be_reviewed(world, pm):
    with pytest.raises(DomainError) as error:
        memo_generate(capability=world["capability"], month=datetime.date(2026, 5, 1), by=pm)
    assert error.value.field == "month"


def test_a_memo_belongs_to_a_monthly_value_review_session(world, pm):
    weekly = forum_create(
        by=pm,
        scope=[world["capability"]],
        name="Weekly ops review",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=pm,
        decision_types=["continue"],
        frequency=Frequency.WEEKLY,
        time_of_day=datetime.time(10, 0),
    )
    session = Session.objects.create(forum=weekly, scheduled_at=SESSION_AT)
    with pytest.raises(DomainError) as error:
        generate(world, pm, session=session)
    assert error.value.field == "session"
    assert not ValueMemo.objects.exists()


# --- sending: kept as sent ------------------------------------------------------------------------


def test_sending_freezes_the_memo_and_tells_the_attendees_with_its_text(world, pm, executive):
    memo = generate(world, pm)
    memo_send(memo=memo, by=pm)
    memo.refresh_from_db()
    assert memo.state == "sent"
    assert memo.sent_by == pm
    assert memo.sent_at == NOW
    rows = Notification.objects.filter(subject__startswith="Monthly value memo")
    assert {row.recipient for row in rows} == {pm, executive}
    body = rows.first().body
    assert body.startswith("# Monthly AI Value Review Decision Memo")
    assert f"{OUTCOME} (E3): -2.0 pts (improved)" in body
    assert rows.first().url == memo.get_absolute_url()


def test_a_sent_memo_refuses_edits_and_regeneration_and_stays_as_sent(world, pm):
    memo = generate(world, pm)
    memo_send(memo=memo, by=pm)
    memo.refresh_from_db()
    kept = (memo.fields, memo.matrix, memo.recommendation, memo.generated_at)
    Evaluation.objects.filter(contract=world["cost"], period_start__gte=MONTH).update(level="breach")
    with pytest.raises(TransitionNotAllowed):
        memo_update(memo=memo, by=pm, lines={"adoption": {"work_as_done": "Changed afterwards"}})
    with pytest.raises(TransitionNotAllowed):
        generate(world, pm)
    with pytest.raises(TransitionNotAllowed):
        memo_send(memo=memo, by=pm)
    memo.refresh_from_db()
    assert (memo.fields, memo.matrix, memo.recommendation, memo.generated_at) == kept
    assert Notification.objects.filter(subject__startswith="Monthly value memo").count() == 2


def test_a_memo_without_a_session_goes_to_the_monthly_forums_covering_the_capability(world, pm, executive):
    memo = memo_generate(capability=world["capability"], month=MONTH, by=pm)
    memo_send(memo=memo, by=pm)
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"pm", "exec"}


# --- deciding ----------------------------------------------------------------------------------------


def sent_memo(world, pm):
    memo = generate(world, pm)
    memo_send(memo=memo, by=pm)
    memo.refresh_from_db()
    return memo


def test_deciding_writes_the_decision_log_with_the_session_and_the_memo_evidence(world, pm):
    memo = sent_memo(world, pm)
    record = memo_decide(
        memo=memo,
        by=pm,
        decision=MemoDecision.SCALE,
        text="Scale agent assist to the card intents.",
        owner=pm,
    )
    assert record.type == "scale"
    assert record.decision == "Scale agent assist to the card intents."
    assert record.forum_session == world["session"]
    assert record.owner == pm
    assert record.details["recommended"] == "scale"
    assert record.details["value_memo"] == memo.pk
    cited = set(record.evidence_links.values_list("label", flat=True))
    assert {OUTCOME, "cc_agent_assist.cost_per_case", "cc_agent_assist.qualified_use_rate"} <= cited
    assert (
        "- Scale (Outcome improves, adoption durable, risk stable, cost acceptable): fired"
        in record.options_considered
    )
    memo.refresh_from_db()
    assert memo.decision == record
    assert SessionOutcome.objects.filter(
        session=world["session"], kind=OutcomeKind.DECISION_RECORDED, reference=record.readable_id
    ).exists()


def test_deciding_writes_one_assumption_review_per_status_the_forum_confirms(world, pm):
    memo = sent_memo(world, pm)
    record = memo_decide(memo=memo, by=pm, decision=MemoDecision.SCALE, text="Scale.", owner=pm)
    reviews = list(AssumptionReview.objects.order_by("assumption__readable_id"))
    assert [(r.assumption, r.previous_status, r.new_status) for r in reviews] == [
        (world["value_assumption"], "needs_evidence", "confirmed"),
        (world["untested_assumption"], "needs_evidence", "needs_evidence"),
    ]
    assert reviews[0].source == record
    assert reviews[0].reviewed_by == pm
    assert reviews[0].roadmap_impact == f"{record.readable_id}: Scale."
    assert OUTCOME in reviews[0].new_evidence
    world["value_assumption"].refresh_from_db()
    assert world["value_assumption"].status == "confirmed"


def test_the_forum_can_change_a_proposed_status_before_it_is_written(world, pm):
    memo = sent_memo(world, pm)
    asm = world["value_assumption"]
    memo_decide(
        memo=memo,
        by=pm,
        decision=MemoDecision.CONTINUE,
        text="Hold at the current intents for one more month.",
        owner=pm,
        assumption_reviews=[
            {"assumption": asm.pk, "status": "weakened", "evidence": "Billing QA found fee errors."}
        ],
    )
    [review] = AssumptionReview.objects.all()
    assert (review.assumption, review.new_status, review.new_evidence) == (
        asm,
        "weakened",
        "Billing QA found fee errors.",
    )
    assert Decision.objects.get().type == "continue"


def test_deciding_without_updating_the_ledger_is_refused_rule_6_2(world, pm):
    memo = sent_memo(world, pm)
    with pytest.raises(DomainError) as error:
        memo_decide(
            memo=memo, by=pm, decision=MemoDecision.SCALE, text="Scale.", owner=pm, assumption_reviews=[]
        )
    assert error.value.field == "assumptions"
    assert not Decision.objects.exists()
    memo.refresh_from_db()
    assert memo.decision is None


def test_deciding_satisfies_rule_6_2_for_the_held_session(world, pm):
    Session.objects.filter(pk=world["session"].pk).update(state=SessionState.HELD)
    rule = "Every monthly value review updates the assumption ledger: the last one left no assumption review."
    assert rule in forum_rule_findings(world["forum"], now=NOW)
    memo_decide(memo=sent_memo(world, pm), by=pm, decision=MemoDecision.SCALE, text="Scale.", owner=pm)
    assert rule not in forum_rule_findings(world["forum"], now=NOW)


def test_an_assumption_the_ledger_refuses_leaves_nothing_written(world, pm):
    memo = sent_memo(world, pm)
    asm = world["value_assumption"]
    with pytest.raises(DomainError) as error:
        memo_decide(
            memo=memo,
            by=pm,
            decision=MemoDecision.SCALE,
            text="Scale.",
            owner=pm,
            assumption_reviews=[{"assumption": asm.pk, "status": "confirmed", "evidence": "   "}],
        )
    assert error.value.field == f"assumption_{asm.pk}"
    assert asm.readable_id in error.value.message
    assert not Decision.objects.exists()
    assert not AssumptionReview.objects.exists()


def test_a_draft_cannot_be_decided_and_a_decided_memo_not_twice(world, pm):
    memo = generate(world, pm)
    with pytest.raises(TransitionNotAllowed):
        memo_decide(memo=memo, by=pm, decision=MemoDecision.SCALE, text="Scale.", owner=pm)
    memo_send(memo=memo, by=pm)
    memo_decide(memo=memo, by=pm, decision=MemoDecision.SCALE, text="Scale.", owner=pm)
    with pytest.raises(TransitionNotAllowed) as error:
        memo_decide(memo=memo, by=pm, decision=MemoDecision.CONTINUE, text="Continue.", owner=pm)
    assert error.value.field == "decision"
    assert Decision.objects.count() == 1


def test_the_decision_type_follows_the_8_3_decision_and_the_forums_decision_types(world, pm):
    memo = sent_memo(world, pm)
    with pytest.raises(DomainError) as error:
        memo_decide(memo=memo, by=pm, decision=MemoDecision.SCALE, type="retire", text="x", owner=pm)
    assert error.value.field == "type"
    with pytest.raises(DomainError) as error:
        memo_decide(
            memo=memo, by=pm, decision=MemoDecision.RETIRE_OR_PARK, type="pause", text="Park it.", owner=pm
        )
    assert error.value.field == "type"  # the forum takes retire, not pause
    record = memo_decide(memo=memo, by=pm, decision=MemoDecision.RETIRE_OR_PARK, text="Retire it.", owner=pm)
    assert record.type == "retire"


def test_an_executive_decides_but_cannot_write_the_ledger_they_are_only_informed_of(world, pm, executive):
    memo = sent_memo(world, pm)
    with pytest.raises(PermissionDenied):
        memo_decide(memo=memo, by=executive, decision=MemoDecision.SCALE, text="Scale.", owner=pm)
    assert not Decision.objects.exists()


# --- the export -------------------------------------------------------------------------------------


def test_the_markdown_export_has_the_8_4_headings_in_order_and_the_matrix(world, pm):
    memo = generate(world, pm)
    text = memo_text(memo)
    headings = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    assert headings == [str(heading) for _key, heading, _lines in SECTIONS]
    assert "- Pattern: Outcome improves, adoption durable, risk stable, cost acceptable" in text
    assert "> Evidence below E3: cc_agent_assist.qa_defect_sample_rate" in text


def test_memos_of_other_capabilities_are_not_read(world, pm, other_capability):
    other = contract(
        other_capability, "kyc_ai.cycle_time", "outcome", direction="lower", target=1, warning=2, breach=3
    )
    plant_ratio(other, days(MONTH, 31), [50])
    memo = generate(world, pm)
    assert "kyc_ai.cycle_time" not in memo.fields["citations"]["contracts"]
