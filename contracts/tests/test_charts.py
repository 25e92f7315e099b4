"""The trend chart of a contract, called as a plain function on hand-made observations."""

import datetime

import pytest

from contracts.charts import OKABE_ITO, SERIES_COLOURS, contract_trend, figure_table
from contracts.tests.factories import EvaluationFactory, MetricContractFactory, ObservationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("contracts.tests.test_contract_urls")]

MONDAY = datetime.date(2026, 1, 5)


def week(n: int) -> datetime.date:
    return MONDAY + datetime.timedelta(weeks=n)


@pytest.fixture
def contract(capability):
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.repeat_contact_7d",
        grain="week",
        is_ratio=False,
        stop_level=20.0,
        stop_rule="Hold the billing intent's prompt releases",
    )


def observe(contract, day, value, n, **extra):
    return ObservationFactory(contract=contract, period_start=day, value=value, sample_size=n, **extra)


def series(fig):
    return [trace for trace in fig.data if trace.meta["kind"] == "series"]


def test_daily_observations_are_pooled_per_week_weighted_by_sample(contract):
    observe(contract, MONDAY, 10.0, 100)
    observe(contract, MONDAY + datetime.timedelta(days=1), 13.0, 300)
    observe(contract, week(1), 11.0, 50)
    observe(contract, week(1) + datetime.timedelta(days=6), 11.0, 50, cohort={"intent": "billing"})
    fig = contract_trend(contract)
    (line,) = series(fig)
    assert list(line.x) == [week(0), week(1)]
    assert list(line.y) == pytest.approx([12.25, 11.0])  # (10*100 + 13*300) / 400
    assert line.meta["sample"] == [400, 100]
    assert line.name == "Whole population"


def test_a_ratio_is_pooled_over_its_denominators(contract):
    contract.is_ratio = True
    contract.save()
    observe(contract, MONDAY, 0.10, 999, numerator=10, denominator=100, cohort={"intent": "fees"})
    observe(contract, MONDAY, 0.20, 1, numerator=60, denominator=300, cohort={"intent": "billing"})
    observe(contract, MONDAY, 0.90, 50, cohort={"intent": "other"})  # no numerator: not in the ratio
    (line,) = series(contract_trend(contract))
    assert list(line.y) == pytest.approx([0.175])  # 70 / 400, as the evaluation job pools it


def test_thresholds_are_lines_named_by_level_whose_hover_is_the_action_rule(contract):
    observe(contract, MONDAY, 11.0, 100)
    fig = contract_trend(contract)
    shapes = {shape.name: shape for shape in fig.layout.shapes}
    assert {name: shapes[name].y0 for name in shapes} == {
        "target": 10.0,
        "warning": 12.0,
        "breach": 15.0,
        "stop": 20.0,
    }
    assert all(shape.y0 == shape.y1 and shape.xref == "paper" for shape in shapes.values())
    assert shapes["warning"].line.color == OKABE_ITO["orange"]
    assert shapes["breach"].line.dash == "dashdot"
    hovers = {
        trace.meta["level"]: trace.hovertemplate for trace in fig.data if trace.meta["kind"] == "threshold"
    }
    assert hovers["warning"].startswith("Warning: Sample 50 calls for QA, owner AI PM, due in 14 days")
    assert hovers["breach"].startswith(
        "Breach: Hold releases for the affected intent, owner AI PM, due in 7 days"
    )
    assert hovers["stop"].startswith("Stop: Hold the billing intent's prompt releases")
    assert hovers["target"].startswith("Target: 10%")


def test_the_title_and_axes_name_the_contract_and_its_unit(contract):
    observe(contract, MONDAY, 11.0, 100)
    fig = contract_trend(contract)
    assert fig.layout.title.text == "Repeat contact within 7 days (cc_agent_assist.repeat_contact_7d)"
    assert fig.layout.yaxis.title.text == "Value (%)"
    assert fig.layout.xaxis.title.text == "Period start (week)"
    assert "Lower is better" in fig.layout.title.subtitle.text
    assert list(fig.layout.colorway) == SERIES_COLOURS


def test_cut_by_version_gives_one_line_per_version_set(contract):
    v11, v12 = {"prompt": "v11", "model": "m-2026-05"}, {"prompt": "v12", "model": "m-2026-05"}
    observe(contract, MONDAY, 10.0, 200, version_set=v11)
    observe(contract, MONDAY, 14.0, 100, version_set=v12)
    observe(contract, week(1), 15.0, 300, version_set=v12)
    observe(contract, week(1), 9.0, 100, cohort={"intent": "fees"}, version_set=v12)
    fig = contract_trend(contract, by="version")
    lines = {line.name: line for line in series(fig)}
    assert set(lines) == {"model=m-2026-05, prompt=v11", "model=m-2026-05, prompt=v12"}
    assert list(lines["model=m-2026-05, prompt=v12"].y) == pytest.approx([14.0, 13.5])
    assert list(lines["model=m-2026-05, prompt=v11"].x) == [MONDAY]
    assert fig.layout.meta["by"] == "version"


def test_cut_by_cohort_uses_the_first_required_cut_and_a_cut_filters(contract):
    observe(contract, MONDAY, 16.0, 100, cohort={"intent": "billing", "team": "north"})
    observe(contract, MONDAY, 12.0, 100, cohort={"intent": "billing", "team": "south"})
    observe(contract, MONDAY, 8.0, 100, cohort={"intent": "fees", "team": "north"})
    by_intent = {line.name: list(line.y) for line in series(contract_trend(contract, by="cohort"))}
    assert by_intent == {"intent=billing": [14.0], "intent=fees": [8.0]}
    north_by_intent = {
        line.name: list(line.y) for line in series(contract_trend(contract, by="cohort", cut="team=north"))
    }
    assert north_by_intent == {"intent=billing": [16.0], "intent=fees": [8.0]}
    by_team = {
        line.name: list(line.y) for line in series(contract_trend(contract, by="cohort", dimension="team"))
    }
    assert by_team == {"team=north": [12.0], "team=south": [12.0]}


def test_a_cut_on_an_undeclared_dimension_is_ignored(contract):
    observe(contract, MONDAY, 16.0, 100, cohort={"channel": "chat"})
    (line,) = series(contract_trend(contract, cut="channel=voice"))
    assert list(line.y) == [16.0]


def test_the_whole_population_reads_the_evaluations_with_their_levels(contract):
    observe(contract, MONDAY, 99.0, 100)  # the evaluation job's rows win over raw observations
    EvaluationFactory(contract=contract, period_start=week(0), value=11.0, sample_size=700, level="ok")
    EvaluationFactory(
        contract=contract, period_start=week(1), value=None, sample_size=4, level="insufficient"
    )
    EvaluationFactory(contract=contract, period_start=week(2), value=15.5, sample_size=650, level="breach")
    EvaluationFactory(
        contract=contract, period_start=week(2), cut="intent=billing", value=19.0, level="breach"
    )
    (line,) = series(contract_trend(contract))
    assert list(line.y) == [11.0, None, 15.5]
    assert line.meta["levels"] == ["ok", "insufficient", "breach"]
    assert list(line.marker.symbol) == ["circle", "circle-open", "square"]
    (billing,) = series(contract_trend(contract, cut="intent=billing"))
    assert list(billing.y) == [19.0] and billing.name == "intent=billing"


def test_only_the_last_periods_are_drawn(contract):
    for n in range(30):
        observe(contract, week(n), float(n), 10)
    (line,) = series(contract_trend(contract, periods=26))
    assert len(line.x) == 26
    assert line.x[0] == week(4) and line.x[-1] == week(29)
    assert list(line.y) == [float(n) for n in range(4, 30)]


def test_the_lines_are_computed_in_one_query(contract, django_assert_num_queries):
    for n in range(5):
        for prompt in ("v11", "v12", "v13"):
            observe(contract, week(n), 12.0, 10, version_set={"prompt": prompt})
    with django_assert_num_queries(1):
        fig = contract_trend(contract, by="version")
    assert len(series(fig)) == 3


def test_release_markers_are_vertical_lines_with_labels(contract):
    observe(contract, MONDAY, 12.0, 10)
    fig = contract_trend(contract, markers=[(week(0), "REL-2026-004 prompt v12")])
    (marker,) = [shape for shape in fig.layout.shapes if shape.name == "marker"]
    assert marker.x0 == marker.x1 == week(0) and marker.yref == "paper"
    assert [a.text for a in fig.layout.annotations] == ["REL-2026-004 prompt v12"]


def test_the_table_view_holds_the_numbers_of_every_line(contract):
    observe(contract, MONDAY, 10.0, 200, version_set={"prompt": "v11"})
    observe(contract, week(1), 14.0, 100, version_set={"prompt": "v12"})
    table = figure_table(contract_trend(contract, by="version"))
    assert table.columns == ["Period", "prompt=v11", "prompt=v11 sample", "prompt=v12", "prompt=v12 sample"]
    assert table.rows == [[week(0), 10.0, 200, None, None], [week(1), None, None, 14.0, 100]]
    assert [(t["level"], t["value"]) for t in table.thresholds] == [
        ("target", 10.0),
        ("warning", 12.0),
        ("breach", 15.0),
        ("stop", 20.0),
    ]


def test_a_contract_without_observations_still_draws_its_thresholds(contract):
    fig = contract_trend(contract)
    assert series(fig) == []
    assert {shape.name for shape in fig.layout.shapes} == {"target", "warning", "breach", "stop"}
    assert figure_table(fig).rows == []


def test_typed_text_reaches_plotly_as_text_not_markup(contract):
    contract.name = "Repeat <b>contact</b>"
    contract.warning_action = "Sample <script>alert(1)</script> calls"
    contract.save()
    observe(contract, MONDAY, 12.0, 10, version_set={"prompt": "<i>v12</i>"})
    fig = contract_trend(contract, by="version")
    assert fig.layout.title.text.startswith("Repeat &lt;b&gt;contact&lt;/b&gt;")
    assert series(fig)[0].name == "prompt=&lt;i&gt;v12&lt;/i&gt;"
    warning = next(t for t in fig.data if t.meta["kind"] == "threshold" and t.meta["level"] == "warning")
    assert "<script>" not in warning.hovertemplate
    assert figure_table(fig).columns[1] == "prompt=<i>v12</i>"  # the page's table escapes it itself
