"""The review pack engine: snapshot sections and figures, and the PDF read back with pypdf."""

import datetime
import io
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pypdf import PdfReader

from actions.tests.factories import ActionFactory
from assumptions.tests.factories import AssumptionFactory
from contracts.tests.factories import EvaluationFactory, MetricContractFactory
from forums import charts_static
from forums.packs import SECTION_HEADINGS, SECTIONS, pack_snapshot
from forums.pdf import pack_html, pack_pdf
from incidents.models import Incident
from portfolio.tests.factories import CapabilityFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, scope="module")
def _kaleido_session():
    """One Chromium for the module, stopped while pytest still owns the log streams."""
    yield
    charts_static.stop()


DECISION = "扩大到催收队列 — scale agent assist to the collections queue"
BUILT_AT = datetime.datetime(2026, 4, 20, 8, 0, tzinfo=datetime.UTC)
SESSION_AT = datetime.datetime(2026, 4, 21, 10, 0, tzinfo=datetime.UTC)


def _evaluations(contract, values):
    start = datetime.date(2026, 1, 5)
    for week, value in enumerate(values):
        EvaluationFactory(
            contract=contract,
            period_start=start + datetime.timedelta(weeks=week),
            value=value,
            level=contract.level_of(value),
            raw_level=contract.level_of(value),
        )


@pytest.fixture
def portfolio():
    capability = CapabilityFactory(name="Agent assist", current_version_set={"model": "m-2", "prompt": "p-7"})
    other = CapabilityFactory(name="Complaint intelligence")
    weak = MetricContractFactory(
        capability=capability, metric_id="cc.repeat_contact", evidence_level="E2", status="active"
    )
    strong = MetricContractFactory(
        capability=capability,
        metric_id="cc.qa_defects",
        category="quality",
        evidence_level="E4",
        status="active",
    )
    cost = MetricContractFactory(
        capability=other, metric_id="ci.cost_per_case", category="cost", unit="GBP", status="active"
    )
    MetricContractFactory(capability=other, metric_id="ci.draft", status="draft")
    _evaluations(weak, [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 12.5])
    _evaluations(strong, [10.0] * 14 + [11.0])
    _evaluations(cost, [8.0, 9.0])
    owner = UserFactory(username="owner", first_name="Wei", last_name="Zhang")
    ActionFactory(
        capability=capability, owner=owner, action="Sample 50 calls", due_date=datetime.date(2026, 2, 1)
    )
    ActionFactory(
        capability=other, owner=owner, action="Fix routing", status="blocked", blocked_reason="vendor"
    )
    ActionFactory(capability=capability, owner=owner, action="Done already", status="closed")
    AssumptionFactory(capability=capability, statement="Agents accept policy-cited suggestions.")
    Incident.objects.create(
        capability=capability,
        title="Hardship customer given wrong fee",
        source="complaint",
        occurred_on=datetime.date(2026, 2, 20),
        severity="sev2",
        reported_by=owner,
    )
    return [capability, other]


def _build(capabilities, **overrides):
    kwargs = {
        "capabilities": capabilities,
        "cadence": "weekly_ops_review",
        "decision_requested": DECISION,
        "forum_name": "Weekly ops review",
        "session_at": SESSION_AT,
        "built_at": BUILT_AT,
    }
    kwargs.update(overrides)
    return pack_snapshot(**kwargs)


def _section(snapshot, key):
    return next(section for section in snapshot["sections"] if section["key"] == key)


def test_sections_in_playbook_order_with_decision_first(portfolio):
    snapshot = _build(portfolio)
    assert [section["key"] for section in snapshot["sections"]] == [key for key, _h, _c in SECTIONS]
    assert snapshot["sections"][0]["key"] == "decision_requested"
    assert snapshot["sections"][0]["decision"] == DECISION
    scope = _section(snapshot, "scope")["rows"]
    assert scope[0]["capability"] == "Agent assist"
    assert scope[0]["version_set"] == {"model": "m-2", "prompt": "p-7"}


def test_figures_carry_contract_evidence_level_and_below_e3(portfolio):
    snapshot = _build(portfolio)
    outcome = _section(snapshot, "outcome")["rows"]
    assert [row["metric_id"] for row in outcome] == ["cc.repeat_contact"]
    row = outcome[0]
    assert row["evidence_level"] == "E2" and row["below_e3"] is True
    assert row["baseline"] == pytest.approx(10.5)  # mean of the first four evaluated weeks
    assert row["current"] == 12.5
    assert row["trend"] == [9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 12.5]
    quality = _section(snapshot, "quality")["rows"][0]
    assert quality["evidence_level"] == "E4" and quality["below_e3"] is False
    assert len(quality["trend"]) == 12 and quality["trend"][-1] == 11.0
    assert quality["baseline"] == 10.0
    # Draft contracts are not in the pack.
    assert "ci.draft" not in json.dumps(snapshot)
    decision = snapshot["sections"][0]
    assert decision["below_e3"] is True
    assert "rests on evidence below e3" in decision["evidence_note"].lower()
    assert decision["below_e3_metrics"] == ["cc.repeat_contact"]


def test_a_pack_shows_the_periods_known_when_it_was_built(portfolio):
    """Built on 2026-02-03, the pack stops at the week of 2026-02-02: later evaluations did not
    exist yet, so a pack built then (or rebuilt for that date) never shows them."""
    snapshot = _build(portfolio, built_at=datetime.datetime(2026, 2, 3, 8, 0, tzinfo=datetime.UTC))
    row = _section(snapshot, "outcome")["rows"][0]
    assert row["trend"] == [9.0, 10.0, 11.0, 12.0, 13.0]
    assert row["current"] == 13.0 and row["current_period"] == "2026-02-02"


def test_decision_not_marked_when_outcome_evidence_is_e3_or_above(portfolio):
    from contracts.models import MetricContract

    MetricContract.objects.filter(metric_id="cc.repeat_contact").update(evidence_level="E3")
    assert _build(portfolio)["sections"][0]["below_e3"] is False


def test_other_sections(portfolio):
    snapshot = _build(portfolio)
    actions = _section(snapshot, "actions")
    assert actions["counts"] == {"open": 2, "overdue": 1, "blocked": 1, "awaiting_verification": 0}
    first = actions["rows"][0]
    assert first["action"] == "Sample 50 calls" and first["overdue"] and first["owner"] == "Wei Zhang"
    assert first["closure_evidence"] == "None submitted"
    incidents = _section(snapshot, "incidents")["rows"]
    assert incidents[0]["title"] == "Hardship customer given wrong fee"
    assert incidents[0]["severity"] == "sev2"
    assumptions = _section(snapshot, "assumptions")["rows"]
    assert assumptions[0]["statement"] == "Agents accept policy-cited suggestions."
    assert assumptions[0]["status_label"]


def test_snapshot_is_json_safe_and_frozen(portfolio):
    first = _build(portfolio)
    assert json.loads(json.dumps(first)) == first
    assert _build(portfolio) == first


def test_query_count_does_not_grow_with_contracts(portfolio):
    _build(portfolio)  # warm per-process caches (content types) so both counts measure the same work
    with CaptureQueriesContext(connection) as small:
        _build(portfolio)
    for index in range(5):
        contract = MetricContractFactory(capability=portfolio[0], metric_id=f"cc.extra_{index}")
        _evaluations(contract, [10.0, 11.0, 12.0])
    with CaptureQueriesContext(connection) as large:
        _build(portfolio)
    assert len(large) == len(small)


def test_html_has_footer_and_every_heading(portfolio):
    html = pack_html(_build(portfolio))
    for heading in SECTION_HEADINGS:
        assert heading.replace("&", "&amp;") in html
    assert "counter(pages)" in html and "string(footer)" in html


def test_pdf_decision_first_headings_charts_and_chinese(portfolio):
    pdf = pack_pdf(_build(portfolio))
    reader = PdfReader(io.BytesIO(pdf))
    pages = [page.extract_text() for page in reader.pages]
    text = "\n".join(pages)
    assert "扩大到催收队列" in pages[0]
    assert "Requested decision" in pages[0]
    assert "below E3" in pages[0]
    for heading in SECTION_HEADINGS:
        assert heading in text, heading
    assert f"Page 1 of {len(pages)}" in pages[0]
    assert "Weekly ops review · session 2026-04-21" in pages[0]
    # WeasyPrint may share image XObjects between pages' resources: count distinct images.
    images = list({image.data: image for page in reader.pages for image in page.images}.values())
    # One trend chart per outcome/quality/risk/cost contract with a trend: real raster images.
    assert len(images) == 3
    assert all(image.image.width >= 800 and image.image.height >= 300 for image in images)
    # A chart is not blank: a drawn line has many distinct colours.
    assert all(len(image.image.convert("RGB").getcolors(1 << 24)) > 20 for image in images)


def test_built_at_defaults_to_now(portfolio):
    snapshot = _build(portfolio, built_at=None)
    assert snapshot["meta"]["built_at"].startswith(timezone.localtime().date().isoformat())


# --- the extras of the monthly value review and the quarterly portfolio review ----------------


def _memo(capability, **matrix_overrides):
    from forums.models import ValueMemo

    matrix = {
        "decision": "restrict_and_investigate",
        "label": "Restrict and investigate",
        "pattern": "Outcome improves, complaints rise",
        "figures": [
            {"label": "Outcome movement", "value": "improved"},
            {"label": "Complaints", "value": "rising"},
        ],
        "blocked": [
            {"decision": "scale", "reason": "Not net: cc.repeat_contact improved while a guardrail breached."}
        ],
        "missing": ["Cost trend"],
    }
    matrix.update(matrix_overrides)
    return ValueMemo.objects.create(
        capability=capability,
        month=datetime.date(2026, 2, 1),
        fields={
            "cost": {"human_review_load": "QA reviews 12% of drafts by hand", "support_load": ""},
            "decision": {"next_review_trigger": "complaints back under warning for 4 weeks"},
        },
        matrix=matrix,
        recommendation="restrict_and_investigate",
        generated_at=BUILT_AT,
    )


def test_monthly_value_review_adds_value_leakage_and_recommendation_in_82_order(portfolio):
    from forums.packs import section_headings

    MetricContractFactory(
        capability=portfolio[0], metric_id="cc.qa_rework_rate", category="quality", status="active"
    )
    memo = _memo(portfolio[0])
    snapshot = _build(portfolio, cadence="monthly_value_review", value_memos=[memo])

    keys = [section["key"] for section in snapshot["sections"]]
    assert keys[0] == "decision_requested"
    assert keys.index("value_leakage") == keys.index("cost") + 1 and keys[-1] == "recommendation"
    assert [s["heading"] for s in snapshot["sections"]] == section_headings("monthly_value_review")
    leakage = _section(snapshot, "value_leakage")
    assert [(row["metric_id"], row["leakage_label"], row["evidence_level"]) for row in leakage["rows"]] == [
        ("cc.qa_rework_rate", "Rework", "E3")
    ]
    assert leakage["memo_lines"] == [
        {
            "capability": "Agent assist",
            "line": "human_review_load",
            "text": "QA reviews 12% of drafts by hand",
        }
    ]
    (recommendation,) = _section(snapshot, "recommendation")["rows"]
    assert recommendation["decision"] == "Restrict and investigate"
    assert recommendation["pattern"] == "Outcome improves, complaints rise"
    assert recommendation["figures"] == ["Outcome movement: improved", "Complaints: rising"]
    assert recommendation["blocked"] == ["Not net: cc.repeat_contact improved while a guardrail breached."]
    assert recommendation["next_evidence"] == ["Cost trend"]
    assert recommendation["review_trigger"] == "complaints back under warning for 4 weeks"
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_a_memo_matrix_of_another_shape_is_read_without_error(portfolio):
    memo = _memo(
        portfolio[0], label=None, figures="not a list", blocked=[{"odd": 1}, "plain reason"], missing=None
    )
    memo.fields = ["not", "a", "dict"]
    (row,) = _section(
        _build(portfolio, cadence="monthly_value_review", value_memos=[memo]), "recommendation"
    )["rows"]
    assert row["decision"] == "Restrict and investigate"  # the memo's own recommendation
    assert row["figures"] == [] and row["blocked"] == ["plain reason"] and row["next_evidence"] == []


def test_quarterly_portfolio_review_adds_the_scorecard_after_the_scope(portfolio):
    from forums.models import PortfolioReview, ScorecardRow

    review = PortfolioReview.objects.create(quarter="2026-Q1")
    ScorecardRow.objects.create(
        review=review,
        capability=portfolio[0],
        ratings={"net_value": {"rating": 4, "evidence": "finance-reconciled"}, "risk_stability": 2},
        decision="scale_selectively",
        evidence_basis="cycle time down in low-risk retail",
        next_review="2026-Q2",
    )
    rows = ScorecardRow.objects.select_related("capability")
    snapshot = _build(portfolio, cadence="quarterly_portfolio_review", scorecard_rows=rows)

    keys = [section["key"] for section in snapshot["sections"]]
    assert keys[:3] == ["decision_requested", "scope", "portfolio_scorecard"]
    scorecard = _section(snapshot, "portfolio_scorecard")
    assert len(scorecard["dimensions"]) == 8
    (row,) = scorecard["rows"]
    assert row["decision"] == "Scale selectively" and row["next_review"] == "2026-Q2"
    ratings = {cell["dimension"]: cell["rating"] for cell in row["ratings"]}
    assert ratings["net_value"] == 4 and ratings["risk_stability"] == 2 and ratings["platform_reuse"] is None


@pytest.mark.parametrize(
    "cadence", ["monthly_value_review", "quarterly_portfolio_review", "weekly_ops_review"]
)
def test_every_heading_of_the_cadence_is_in_the_pdf_even_when_empty(cadence):
    from forums.packs import section_headings

    snapshot = _build([], cadence=cadence)
    reader = PdfReader(io.BytesIO(pack_pdf(snapshot, charts={})))
    pages = [" ".join(page.extract_text().split()) for page in reader.pages]  # lines wrap
    text = "\n".join(pages)
    assert DECISION in pages[0]
    for heading in section_headings(cadence):
        assert heading in text, heading
    assert text.count("Nothing to report") == len(section_headings(cadence)) - 1  # all but the decision


# --- chart images ------------------------------------------------------------------------------


def _row(name, values, **extra):
    return {
        "name": name,
        "metric_id": f"cc.{len(values)}",
        "evidence_level": "E3",
        "unit": "%",
        "trend": values,
        "trend_periods": [f"2026-01-{day:02d}" for day in range(5, 5 + 7 * len(values), 7)],
        "trend_levels": ["ok"] * len(values),
        "thresholds": {"target": 10.0, "warning": 12.0, "breach": 15.0, "stop": None},
        **extra,
    }


def test_a_chart_figure_has_its_threshold_lines_and_shows_typed_text_as_text():
    figure = charts_static.snapshot_figure(_row("Repeat <b>contact</b>", [9.0, 11.0, 13.0]))
    lines = {
        shape["name"]: (shape["y0"], shape["line"]["dash"], shape["label"]["text"])
        for shape in figure["layout"]["shapes"]
    }
    assert lines == {  # no stop line: none set
        "target": (10.0, "dot", "Target 10%"),
        "warning": (12.0, "dash", "Warning 12%"),
        "breach": (15.0, "dashdot", "Breach 15%"),
    }
    assert figure["layout"]["annotations"] == []  # no release markers frozen with this row
    assert "Repeat &lt;b&gt;contact&lt;/b&gt;" in figure["layout"]["title"]["text"]
    assert figure["data"][0]["y"] == [9.0, 11.0, 13.0]


def test_a_reused_tab_draws_each_figure_as_a_fresh_tab_would():
    """Tabs are not reloaded between figures: drawing A after B on the same tabs must give the
    very image A gives first, and B must not be A (the page keeps nothing between figures)."""
    first = _row("First", [9.0, 11.0, 13.0, 16.0])
    second = _row("Second", [20.0, 5.0], thresholds={"stop": 18.0})
    a1, b, a2, b2 = charts_static.figures_png(
        [charts_static.snapshot_figure(r) for r in (first, second, first, second)]
    )
    a3 = charts_static.figure_png(charts_static.snapshot_figure(first))
    assert a1.startswith(b"\x89PNG") and a1 == a2 == a3
    assert b == b2 and b != a1


def test_a_failed_render_discards_the_chart_browser(monkeypatch):
    charts_static.figure_png(charts_static.snapshot_figure(_row("Warm", [1.0, 2.0])))
    broken = charts_static._session

    async def fail(*args, **kwargs):
        raise RuntimeError("tab crashed")

    monkeypatch.setattr(broken.kaleido, "calc_fig", fail)
    with pytest.raises(RuntimeError, match="tab crashed"):
        charts_static.figure_png(charts_static.snapshot_figure(_row("Boom", [1.0, 2.0])))
    assert charts_static._session is None
    png = charts_static.figure_png(charts_static.snapshot_figure(_row("Again", [1.0, 2.0])))
    assert png.startswith(b"\x89PNG") and charts_static._session is not broken
