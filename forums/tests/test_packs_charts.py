"""The pack's charts are the boards' charts: drawn by the same function (contracts.charts
.trend_figure) from the frozen snapshot row, which keeps the action rules and release markers
as they were when the pack was built, so a pack drawn again later is the same picture."""

import datetime
import io
import json

import pytest
import time_machine
from pypdf import PdfReader

from contracts.charts import action_rule_text, contract_figure, whole_population_lines
from contracts.markers import markers_for_many
from contracts.tests.factories import EvaluationFactory, MetricContractFactory
from forums import charts_static
from forums.packs import pack_snapshot
from forums.pdf import chart_images, pack_pdf
from portfolio.tests.factories import CapabilityFactory, UserFactory
from releases.models import Release

pytestmark = pytest.mark.django_db

BUILT_AT = datetime.datetime(2026, 4, 20, 8, 0, tzinfo=datetime.UTC)
SESSION_AT = datetime.datetime(2026, 4, 21, 10, 0, tzinfo=datetime.UTC)
START = datetime.date(2026, 1, 5)
DEPLOYED = datetime.date(2026, 2, 9)


@pytest.fixture(autouse=True, scope="module")
def _kaleido_session():
    yield
    charts_static.stop()


@pytest.fixture(autouse=True)
def _build_day():
    with time_machine.travel(BUILT_AT, tick=False):
        yield


def _release(capability, day):
    release = Release.objects.create(
        capability=capability,
        planned_date=day,
        object_type="prompt",
        change="Policy-cited fee explanations",
        version_to="v12",
        risk_tier="medium",
        owner=UserFactory(),
    )
    Release.objects.filter(pk=release.pk).update(deployed_date=day, state="released")
    return release


@pytest.fixture
def world():
    capability = CapabilityFactory(name="Agent assist")
    outcome = MetricContractFactory(
        capability=capability,
        metric_id="cc.repeat_contact",
        status="active",
        stop_level=20.0,
        stop_rule="Hold the billing prompt releases",
    )
    quality = MetricContractFactory(
        capability=capability, metric_id="cc.qa_defects", category="quality", status="active"
    )
    for contract, values in ((outcome, [9.0, 11.0, 12.5, 16.0, 13.0, 11.0]), (quality, [10.0, 10.5, 9.0])):
        for week, value in enumerate(values):
            level = contract.level_of(value)
            EvaluationFactory(
                contract=contract,
                period_start=START + datetime.timedelta(weeks=week),
                value=value,
                level=level,
                raw_level=level,
            )
    release = _release(capability, DEPLOYED)
    _release(capability, datetime.date(2026, 5, 4))  # after the build day: not in the pack
    return capability, outcome, quality, release


def _row(snapshot, metric_id):
    return next(
        row
        for section in snapshot["sections"]
        for row in section.get("rows", [])
        if row.get("metric_id") == metric_id
    )


def _build(capability):
    return pack_snapshot(
        capabilities=[capability],
        cadence="weekly_ops_review",
        decision_requested="Hold the billing prompt",
        forum_name="Weekly ops review",
        session_at=SESSION_AT,
        built_at=BUILT_AT,
    )


def test_a_figure_row_freezes_its_action_rules_grain_and_release_markers(world):
    capability, outcome, quality, release = world
    snapshot = _build(capability)
    row = _row(snapshot, "cc.repeat_contact")
    assert row["grain"] == "week"
    assert row["threshold_rules"] == {
        level: action_rule_text(outcome, level) for level in ("target", "warning", "breach", "stop")
    }
    assert row["threshold_rules"]["stop"] == "Stop: Hold the billing prompt releases"
    assert row["markers"] == [{"date": "2026-02-09", "label": release.readable_id}]
    assert _row(snapshot, "cc.qa_defects")["markers"] == [
        {"date": "2026-02-09", "label": release.readable_id}
    ]
    assert json.loads(json.dumps(snapshot)) == snapshot


def test_the_pack_chart_is_the_boards_chart_laid_out_for_print(world):
    capability, outcome, _quality, release = world
    row = _row(_build(capability), "cc.repeat_contact")
    printed = charts_static.snapshot_figure(row)
    board = contract_figure(
        outcome,
        whole_population_lines([outcome])[outcome.pk],
        markers=markers_for_many([outcome])[outcome.pk],
    )
    (printed_line, board_line) = (printed["data"][0], board["data"][0])
    assert printed_line["y"] == board_line["y"] == [9.0, 11.0, 12.5, 16.0, 13.0, 11.0]
    assert printed_line["marker"] == board_line["marker"]  # levels as colour and symbol
    assert printed_line["x"] == [day.isoformat() for day in board_line["x"]]

    def thresholds(figure):
        return [(t["level"], t["value"], t["rule"]) for t in figure["layout"]["meta"]["thresholds"]]

    assert thresholds(printed) == thresholds(board)
    assert [s["label"]["text"] for s in printed["layout"]["shapes"] if s["name"] != "marker"] == [
        "Target 10%",
        "Warning 12%",
        "Breach 15%",
        "Stop 20%",
    ]
    assert [(m["date"], m["label"]) for m in printed["layout"]["meta"]["markers"]] == [
        ("2026-02-09", release.readable_id)
    ]
    assert [a["text"] for a in printed["layout"]["annotations"]] == [release.readable_id]
    assert printed["layout"]["title"]["text"] == board["layout"]["title"]["text"]
    assert printed["layout"]["title"]["subtitle"]["text"] == "Evidence E3 · Lower is better · per week"
    legend = [trace["name"] for trace in printed["data"] if trace["meta"]["kind"] == "level_key"]
    assert legend == ["OK", "Warning", "Breach"]  # the symbols named in words, on paper too


def test_an_old_snapshot_row_without_rules_or_markers_still_draws():
    row = {
        "name": "Repeat contact",
        "metric_id": "cc.repeat_contact",
        "evidence_level": "E2",
        "unit": "%",
        "trend": [11.0, 13.0],
        "trend_periods": ["2026-01-05", "2026-01-12"],
        "trend_levels": ["ok", "warning"],
        "thresholds": {"target": 10.0, "warning": 12.0, "breach": 15.0, "stop": None},
        "action_rule": "Sample 50 calls",
    }
    figure = charts_static.snapshot_figure(row)
    assert [t["rule"] for t in figure["layout"]["meta"]["thresholds"]] == ["", "Sample 50 calls", ""]
    assert figure["layout"]["meta"]["markers"] == []


def test_a_pack_drawn_again_from_its_stored_snapshot_gives_the_same_images_and_pdf(world):
    capability, *_ = world
    snapshot = _build(capability)
    charts = chart_images(snapshot)
    assert set(charts) == {"cc.repeat_contact", "cc.qa_defects"}
    stored = json.loads(json.dumps(snapshot))  # as ReviewPack keeps it
    assert chart_images(stored) == charts
    pdf = pack_pdf(snapshot, charts=charts)
    assert pack_pdf(stored, charts=chart_images(stored)) == pdf
    images = {image.data: image for page in PdfReader(io.BytesIO(pdf)).pages for image in page.images}
    assert len(images) == 2
    # Sharp on A4: 1200 x 450 pixels across the 182 mm text width (about 170 dpi).
    assert {(image.image.width, image.image.height) for image in images.values()} == {(1200, 450)}


def test_the_release_marker_is_in_the_printed_image(world):
    capability, *_ = world
    row = _row(_build(capability), "cc.repeat_contact")
    with_marker = charts_static.figure_png(charts_static.snapshot_figure(row))
    without = charts_static.figure_png(charts_static.snapshot_figure({**row, "markers": []}))
    assert with_marker != without
