"""An executive reads the monthly value board in a real browser (issue 8's browser test): opens
it, cuts an outcome trend by cohort in place (htmx swaps the card: the chart's series change and
the page is not reloaded), and follows a figure to its evidence."""

import pytest

from boards.tests.sizes import build_portfolio

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def series_names(page, dom_id: str) -> list[str]:
    return page.evaluate(
        "(id) => (document.querySelector('#' + id + ' .plotly-graph-div').data || []).map((t) => t.name || '')",
        dom_id,
    )


def test_an_executive_cuts_a_trend_by_cohort_and_follows_a_figure_to_its_evidence(page, live_server, log_in):
    portfolio = build_portfolio(1)
    reader = portfolio.reader
    reader.set_password("pw")
    reader.save()
    outcome = portfolio.capabilities[0].contracts["outcome"]

    log_in("exec")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/boards/monthly/")
    assert "Monthly value board" in page.inner_text("h1")
    decisions = page.inner_text("#decision-table")
    assert outcome.capability.name in decisions

    # The outcome trend lower on the page: whole population first.
    card = page.locator(f".po-trend-card[data-metric='{outcome.metric_id}']")
    dom_id = card.get_attribute("id")
    before = series_names(page, dom_id)
    assert before and not any("intent=" in name for name in before)
    page.evaluate("window.__boardLoaded = true")

    card.get_by_role("link", name="By intent").click()
    page.wait_for_selector(f"#{dom_id} .po-chart[data-by=cohort]")
    page.wait_for_function(
        "(id) => (document.querySelector('#' + id + ' .plotly-graph-div').data || [])"
        ".some((t) => (t.name || '').includes('intent='))",
        arg=dom_id,
    )
    after = series_names(page, dom_id)
    assert {"intent=billing", "intent=cards"} <= {name for name in after}
    assert page.evaluate("window.__boardLoaded === true"), "the cut reloaded the whole page"
    assert page.url.endswith("/boards/monthly/")

    # A figure of the outcome movement row leads to its evidence.
    movement = page.locator(f".po-outcome[data-metric='{outcome.metric_id}'] .po-movement").first
    figure = movement.locator("strong").first.inner_text().strip()
    link = movement.locator("a.po-figure-link")
    href = link.get_attribute("href")
    assert href.startswith(f"/boards/evidence/{outcome.metric_id}/") and "span=month" in href
    with page.expect_navigation() as navigation:
        link.click()
    assert navigation.value.status == 200
    binder = page.inner_text("main")
    assert outcome.metric_id in binder and outcome.name in binder
    assert outcome.warning_action in binder  # the contract's action rule is part of the trace
    # The binder is about the figure followed: the month's value, the same number as the board's.
    assert page.inner_text("#figure-value").strip() == figure
    assert "month of" in page.inner_text("#binder-period")
    for section in ("#binder-observations", "#binder-signals", "#binder-actions", "#binder-decisions"):
        assert page.locator(section).is_visible()
