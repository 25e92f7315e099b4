"""Trend cards of many contracts at once: a board's charts in a fixed number of statements, each
card the very figure its own chart endpoint draws, thresholds that tell their action rule, and
release markers on the trends 18.4 names."""

import datetime

import pytest
from django.utils import timezone

from boards.cards import trend_card, trend_cards
from contracts.charts import action_rule_text
from contracts.tests.factories import EvaluationFactory, MetricContractFactory, ObservationFactory
from portfolio.tests.factories import CapabilityFactory, UserFactory
from releases.models import Release

pytestmark = pytest.mark.django_db

CATEGORIES = ["outcome", "quality", "risk"]


def monday(weeks_ago: int) -> datetime.date:
    today = timezone.localdate()
    return today - datetime.timedelta(days=today.weekday(), weeks=weeks_ago)


def deployed_release(capability, day, *, rolled_back=None):
    release = Release.objects.create(
        capability=capability,
        planned_date=day,
        object_type="prompt",
        change="Shorter, policy-cited billing suggestions",
        version_from="v11",
        version_to="v12",
        risk_tier="medium",
        owner=UserFactory(),
    )
    Release.objects.filter(pk=release.pk).update(
        deployed_date=day, rolled_back_date=rolled_back, state="released"
    )
    return release


def portfolio(capabilities: int, per_capability: int):
    """Contracts across capabilities: each evaluated for 8 weeks (whole population and two
    intents), the first one of each capability never evaluated (drawn from its observations),
    and one deployed release per capability."""
    contracts = []
    for c in range(capabilities):
        capability = CapabilityFactory()
        deployed_release(capability, monday(3))
        for n in range(per_capability):
            contract = MetricContractFactory(
                capability=capability,
                metric_id=f"cap{c}.metric_{n}",
                category=CATEGORIES[n % len(CATEGORIES)],
                status="active",
                is_ratio=False,
            )
            contracts.append(contract)
            if n == 0:
                for week in range(3):
                    ObservationFactory(
                        contract=contract, period_start=monday(week), value=10.0 + week, sample_size=50
                    )
                continue
            for week in range(8):
                level = "breach" if week == 0 else "ok"
                EvaluationFactory(
                    contract=contract,
                    period_start=monday(week),
                    value=11.0 + week / 10,
                    level=level,
                    raw_level=level,
                )
                for intent in ("billing", "fees"):
                    EvaluationFactory(
                        contract=contract, period_start=monday(week), cut=f"intent={intent}", value=9.0
                    )
    return contracts


@pytest.mark.parametrize("capabilities, per_capability", [(1, 3), (4, 3)])
def test_a_boards_cards_take_the_same_number_of_statements_for_3_or_12_contracts(
    capabilities, per_capability, django_assert_num_queries
):
    contracts = portfolio(capabilities, per_capability)
    assert len(contracts) == capabilities * per_capability
    # Evaluated lines, observations of the never-evaluated, release markers, offered cuts.
    with django_assert_num_queries(4):
        cards = trend_cards(contracts)
    assert [card.contract for card in cards] == contracts
    assert all(card.chart_html and card.contract.metric_id in card.chart_html for card in cards)
    evaluated = [card for card in cards if not card.contract.metric_id.endswith("_0")]
    assert all(card.cuts == ["intent=billing", "intent=fees"] for card in evaluated)
    assert all(card.latest_level == "Breach" for card in evaluated)


def test_each_batch_card_is_the_figure_its_own_chart_draws():
    contracts = portfolio(2, 3)
    for card in trend_cards(contracts):
        alone = trend_card(card.contract)
        assert card.figure == alone.figure, card.contract.metric_id
        assert card.cuts == alone.cuts and card.table == alone.table


def test_the_card_shows_the_evaluated_values_their_levels_and_samples():
    contracts = portfolio(1, 2)
    evaluated = trend_cards(contracts)[1]
    line = evaluated.figure["data"][0]
    assert line["x"] == [monday(week) for week in reversed(range(8))]
    assert line["y"] == pytest.approx([11.0 + week / 10 for week in reversed(range(8))])
    assert line["meta"]["levels"] == ["ok"] * 7 + ["breach"]
    assert line["marker"]["symbol"][-1] == "square"  # the breach reads as a shape, not colour alone
    assert evaluated.table.rows[-1] == [monday(0), 11.0, 700]
    assert evaluated.table.levels[-1] == "Breach"
    pooled = trend_cards(contracts)[0]  # never evaluated: pooled from the observations
    assert pooled.figure["data"][0]["y"] == [12.0, 11.0, 10.0]
    assert pooled.figure["data"][0]["meta"]["sample"] == [50, 50, 50]


def test_only_the_last_periods_of_each_contract_are_drawn():
    contracts = portfolio(1, 2)
    (_pooled, evaluated) = trend_cards(contracts, periods=3)
    assert evaluated.figure["data"][0]["x"] == [monday(2), monday(1), monday(0)]


def test_every_threshold_line_hovers_its_action_rule():
    (contract,) = [c for c in portfolio(1, 2) if c.metric_id.endswith("_1")]
    (card,) = trend_cards([contract])
    hovers = {
        trace["meta"]["level"]: trace["hovertemplate"]
        for trace in card.figure["data"]
        if trace["meta"]["kind"] == "threshold"
    }
    assert set(hovers) == {"target", "warning", "breach"}
    for level, hover in hovers.items():
        assert hover == f"{action_rule_text(contract, level)}<extra></extra>"
    assert hovers["breach"].startswith(
        "Breach: Hold releases for the affected intent, owner AI PM, due in 7 days"
    )
    assert {
        shape["name"]: shape["y0"] for shape in card.figure["layout"]["shapes"] if shape["name"] != "marker"
    } == {
        "target": 10.0,
        "warning": 12.0,
        "breach": 15.0,
    }
    assert "Hold releases for the affected intent" in card.chart_html


def test_release_markers_stand_on_outcome_and_quality_trends_and_not_on_learning_ones():
    capability = CapabilityFactory()
    day = monday(2)
    release = deployed_release(capability, day, rolled_back=day + datetime.timedelta(days=3))
    deployed_release(CapabilityFactory(), day)  # another capability's release: not on these charts
    contracts = [
        MetricContractFactory(capability=capability, category=category, status="active")
        for category in ("outcome", "quality", "risk", "learning")
    ]
    for contract in contracts:
        EvaluationFactory(contract=contract, period_start=day)
    marks = {
        card.contract.category: card.figure["layout"]["meta"]["markers"] for card in trend_cards(contracts)
    }
    expected = [
        {"date": day, "label": release.readable_id},
        {"date": day + datetime.timedelta(days=3), "label": f"{release.readable_id} rolled back"},
    ]
    assert marks["outcome"] == expected and marks["quality"] == expected
    assert marks["risk"] == expected  # a release's harm shows on risk trends too (contracts.markers)
    assert marks["learning"] == []
    (outcome,) = trend_cards(contracts[:1])
    lines = [shape for shape in outcome.figure["layout"]["shapes"] if shape["name"] == "marker"]
    assert [line["x0"] for line in lines] == [day, day + datetime.timedelta(days=3)]
    assert release.readable_id in outcome.chart_html


def test_the_table_links_each_period_to_its_evidence_and_the_card_to_the_binder(pm, client_for, capability):
    contract = MetricContractFactory(capability=capability, metric_id="cc.repeat_contact", status="active")
    EvaluationFactory(contract=contract, period_start=monday(1), level="warning", raw_level="warning")
    EvaluationFactory(contract=contract, period_start=monday(1), cut="intent=billing", value=14.0)
    (card,) = trend_cards([contract])
    assert card.evidence_url == "/boards/evidence/cc.repeat_contact/"
    (row,) = card.table_rows
    assert (
        row[1] == "Warning"
        and row[2] == f"/boards/evidence/cc.repeat_contact/?period={monday(1).isoformat()}"
    )
    cut = trend_card(contract, cut="intent=billing")
    assert cut.evidence_url == "/boards/evidence/cc.repeat_contact/?cut=intent%3Dbilling"
    # A cut card's rows keep the cut and add their period; in the HTML the & is escaped.
    (cut_row,) = cut.table_rows
    period_url = f"/boards/evidence/cc.repeat_contact/?cut=intent%3Dbilling&period={monday(1).isoformat()}"
    assert cut_row[2] == period_url
    assert f'href="{period_url.replace("&", "&amp;")}"' in str(cut.table_body_html)


def test_the_table_view_shows_each_period_its_values_level_and_evidence_link(capability):
    """The rows the card's template shows (built in Python): the period, the value to six
    significant digits and the sample, the level in words, a link to that period's evidence;
    a value from a page's text is escaped."""
    contract = MetricContractFactory(capability=capability, metric_id="cc.repeat_contact", status="active")
    EvaluationFactory(
        contract=contract, period_start=monday(1), level="warning", raw_level="warning", value=12.3456789
    )
    (card,) = trend_cards([contract])
    html = str(card.table_body_html)
    day = monday(1).isoformat()
    assert html.startswith(f'<tr><th scope="row">{day}</th><td>12.3457</td>')
    assert "<td>Warning</td>" in html
    assert (
        f'<a href="/boards/evidence/cc.repeat_contact/?period={day}" title="Evidence behind the figure of {day}">Trace</a>'
        in html
    )
    card.table.rows[0][1] = "<script>"
    card.__dict__.pop("_once_table_body_html")
    assert "&lt;script&gt;" in str(card.table_body_html)


def test_the_cut_controls_name_each_cut_mark_the_current_one_and_escape_the_data(capability):
    """The card's buttons (All, By <dimension>, By version) and cohort-cut menu, as a reader sees
    them: each a link to the card's chart endpoint swapped in by htmx, the shown cut marked
    current and kept in the other buttons' links; dimensions and cuts from the data escaped."""
    from django.template.loader import render_to_string

    contract = MetricContractFactory(
        capability=capability,
        metric_id="cc.repeat_contact",
        status="active",
        cohort_dimensions=["team", "intent"],
    )
    EvaluationFactory(contract=contract, period_start=monday(1))
    EvaluationFactory(contract=contract, period_start=monday(1), cut='team=a&b"<x>', value=3.0)
    card = trend_card(contract, cut='team=a&b"<x>')
    assert card.cut == 'team=a&b"<x>'
    html = render_to_string("boards/trend_card.html", {"card": card})
    chart = "/boards/chart/cc.repeat_contact/"
    cut = "cut=team%3Da%26b%22%3Cx%3E"
    assert (
        f'<a class="btn btn-sm btn-secondary" href="{chart}?{cut}" hx-get="{chart}?{cut}" '
        f'hx-target="#{card.dom_id}" hx-swap="outerHTML" aria-current="true">All</a>'
    ) in html
    assert f'href="{chart}?by=cohort&amp;dimension=intent&amp;{cut}"' in html and ">By intent</a>" in html
    assert f'href="{chart}?by=version&amp;{cut}"' in html
    assert '<option value="team=a&amp;b&quot;&lt;x&gt;" selected>team=a&amp;b&quot;&lt;x&gt;</option>' in html
    assert "<x>" not in html

    by_version = render_to_string("boards/trend_card.html", {"card": trend_card(contract, by="version")})
    assert 'aria-current="true">By version</a>' in by_version
    assert '<input type="hidden" name="by" value="version">' in by_version
    assert by_version.count('aria-current="true"') == 1
