"""The portfolio board (18.1, 9.2-9.4): the ratings and decisions it shows are the quarterly
scorecard's, the data's suggestion today stands beside them, retirement candidates are visible,
people see only their capabilities, and the query count does not grow with the portfolio."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boards.tests.sizes import build_portfolio
from forums.portfolio_review import (
    figures_window,
    portfolio_figures,
    portfolio_review_open,
    quarter_bounds,
    quarter_of,
    scorecard_decide,
    scorecard_rows,
    suggest_all,
)
from forums.tests.test_portfolio_review import (
    OUTPUT,
    QUARTER,
    make_backlog_item,
    make_incident,
    plant_portfolio,
    rate_all,
    row_of,
)

pytestmark = pytest.mark.django_db

URL = reverse("boards:portfolio")


def line_of(response, capability):
    return next(line for line in response.context["portfolio"].lines if line.capability == capability)


def cell(line, dimension):
    return next(cell for _key, _label, cells in line.columns for cell in cells if cell.dimension == dimension)


def test_the_board_shows_the_scorecards_ratings_and_the_latest_decision_with_its_funding(
    client_for, executive, capability, other_capability
):
    plant_portfolio(capability)
    make_incident(capability, "sev1")
    review = portfolio_review_open(quarter=QUARTER, by=executive)
    row = row_of(review, capability)
    rate_all(row, executive)
    row.refresh_from_db()
    scorecard_decide(row=row, by=executive, decision="restrict", **OUTPUT)

    response = client_for(executive).get(URL, {"capability": "all"})
    assert response.status_code == 200
    line = line_of(response, capability)
    scorecard = {view.row.capability_id: view for view in scorecard_rows(review, executive)}
    for scored in scorecard[capability.pk].cells:
        if scored.dimension == "strategic_fit":
            continue  # a person's call: not a column of the board
        assert cell(line, scored.dimension).shown == scored.shown
    # A Sev1 this quarter: the scorecard's risk stability is 1, and so is the board's.
    assert cell(line, "risk_stability").shown == 1
    assert line.decided.decision == "restrict"
    page = response.content.decode()
    assert OUTPUT["funding_change"] in page
    assert line.decided.decision_logged.readable_id in page


def test_a_capability_no_review_rated_shows_the_datas_suggestions(client_for, executive, capability):
    plant_portfolio(capability)
    response = client_for(executive).get(URL, {"capability": capability.slug})
    (line,) = response.context["portfolio"].lines
    assert not line.reviewed
    today = timezone.localdate()
    start, end = figures_window(quarter_of(today), today)
    expected = suggest_all(portfolio_figures([capability], start=start, end=end)[capability.pk])
    for dimension in ("net_value", "risk_stability", "capacity_burden", "retirement_logic"):
        assert cell(line, dimension).shown == expected[dimension].rating
        assert cell(line, dimension).rated is False
    assert "No quarterly decision yet." in response.content.decode()


def test_the_data_today_is_shown_beside_a_rating_it_no_longer_supports(client_for, executive, capability):
    plant_portfolio(capability)
    review = portfolio_review_open(quarter=QUARTER, by=executive)
    rate_all(row_of(review, capability), executive)
    make_incident(capability, "sev1", days_ago=1)  # after the ratings
    response = client_for(executive).get(URL, {"capability": capability.slug})
    risk = cell(line_of(response, capability), "risk_stability")
    assert risk.rated and risk.shown >= 4
    assert risk.now == 1 and risk.changed
    assert "now 1" in response.content.decode()


def test_retirement_candidates_are_listed_first_not_hidden(
    client_for, executive, capability, other_capability
):
    contracts = plant_portfolio(capability)
    plant_portfolio(other_capability, prefix="kyc")
    item = make_backlog_item(
        other_capability, contracts["outcome"], item_class="retirement", title="Retire the old bot"
    )
    response = client_for(executive).get(URL, {"capability": "all"})
    board = response.context["portfolio"]
    assert [line.capability for line in board.retirement] == [other_capability]
    assert board.lines[0].capability == other_capability
    page = response.content.decode()
    section = page[page.index('id="retirement-candidates"') : page.index('id="side-by-side-heading"')]
    assert (
        other_capability.name in section and item.readable_id in section and "Retire the old bot" in section
    )


def test_people_see_only_their_capabilities_and_outsiders_get_404(
    client_for, pm, capability, other_capability
):
    plant_portfolio(capability)
    plant_portfolio(other_capability, prefix="kyc")
    client = client_for(pm)
    response = client.get(URL, {"capability": "all"})
    assert [line.capability for line in response.context["portfolio"].lines] == [capability]
    assert other_capability.name not in response.content.decode()
    assert client.get(URL, {"capability": other_capability.slug}).status_code == 404
    assert client.post(URL).status_code == 405


def test_portfolio_board_queries_do_not_grow_with_the_portfolio(client, django_assert_num_queries):
    small = build_portfolio(2)
    client.force_login(small.reader)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    build_portfolio(4, prefix="more")
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(URL)
    lines = response.context["portfolio"].lines
    assert len(lines) == 6
    # Each capability's risk contract stands at breach: the data's risk stability is low for all.
    assert all(cell(line, "risk_stability").shown <= 2 for line in lines)


def _memo_and_retirement_item(capability, contracts):
    from forums.models import ValueMemo

    memo = ValueMemo.objects.create(
        capability=capability,
        month=datetime.date(2026, 2, 1),
        fields={"cost": {"human_review_load": "not shown on the board"}},
        matrix={"label": f"Restrict {capability.slug}"},
        recommendation="restrict_and_investigate",
        generated_at=timezone.now(),
    )
    item = make_backlog_item(
        capability, contracts["outcome"], item_class="retirement", title=f"Retire {capability.slug}"
    )
    return memo, item


def _decide_every_row(review, executive):
    for row in review.rows.all():
        rate_all(row, executive)
        row.refresh_from_db()
        scorecard_decide(row=row, by=executive, decision="restrict", **OUTPUT)


def test_decisions_memos_and_retirement_items_shown_take_no_query_per_capability(
    client_for, executive, capability, other_capability, django_assert_num_queries
):
    from portfolio.tests.factories import CapabilityFactory

    shown = [_memo_and_retirement_item(capability, plant_portfolio(capability))]
    shown.append(_memo_and_retirement_item(other_capability, plant_portfolio(other_capability, prefix="kyc")))
    first, _last = quarter_bounds(QUARTER)
    _decide_every_row(
        portfolio_review_open(quarter=quarter_of(first - datetime.timedelta(days=1)), by=executive), executive
    )
    client = client_for(executive)
    client.get(URL, {"capability": "all"})
    with CaptureQueriesContext(connection) as queries:
        client.get(URL, {"capability": "all"})

    for index in range(2):
        more = CapabilityFactory()
        shown.append(_memo_and_retirement_item(more, plant_portfolio(more, prefix=f"more{index}")))
    _decide_every_row(portfolio_review_open(quarter=QUARTER, by=executive), executive)
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(URL, {"capability": "all"})

    board = response.context["portfolio"]
    assert len(board.lines) == 4 and board.review.quarter == QUARTER
    assert all(line.decided.review.quarter == QUARTER for line in board.lines)
    page = response.content.decode()
    for memo, item in shown:
        line = line_of(response, memo.capability)
        assert line.decided.decision_logged.readable_id in page
        assert f'<a href="{memo.get_absolute_url()}">Memo 2026-02</a>: {memo.matrix["label"]}</div>' in page
        # An open retirement item makes each a retirement candidate, in its row too.
        assert f'<tr id="portfolio-{memo.capability.slug}" data-retirement="yes">' in page
        assert item.get_absolute_url() in page and item.title in page
