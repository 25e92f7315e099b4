"""A PM opens a contract in Chromium: the trend draws from the local plotly.js, and cutting it by
version swaps only the chart in place (htmx), with the address bar following."""

import datetime

import pytest

from contracts.services import contract_activate, contract_create
from contracts.tests.factories import ObservationFactory, contract_kwargs

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.urls("contracts.tests.test_contract_urls"),
]


def test_the_pm_cuts_the_trend_by_version_in_place(log_in, page, live_server, pm, make_person, capability):
    analyst = make_person("analytics", capability, username="analyst")
    contract = contract_create(
        by=pm, **contract_kwargs(capability, business_owner=pm, analytics_owner=analyst)
    )
    contract_activate(contract=contract, by=pm)
    monday = datetime.date(2026, 1, 5)
    for week in range(6):
        day = monday + datetime.timedelta(weeks=week)
        ObservationFactory(contract=contract, period_start=day, value=11.0, version_set={"prompt": "v11"})
        ObservationFactory(
            contract=contract, period_start=day, value=13.0 + week, version_set={"prompt": "v12"}
        )

    log_in("pm")
    page.goto(f"{live_server.url}{contract.get_absolute_url()}")
    page.wait_for_selector("#contract-trend .js-plotly-plot .main-svg")
    assert (
        page.locator("#contract-trend .js-plotly-plot .legend .traces").count() == 1
    )  # the whole population
    assert page.locator("h2:has-text('Thresholds and action rules')").is_visible()

    page.click("#contract-chart a:has-text('By version')")
    page.wait_for_selector("#contract-trend[data-by='version'] .js-plotly-plot .main-svg")
    legend = page.locator("#contract-trend .js-plotly-plot .legend").text_content()
    assert "prompt=v11" in legend and "prompt=v12" in legend
    assert page.url.endswith("?by=version")
    assert page.locator("h2:has-text('Business question')").count() == 1  # only the chart was swapped

    page.click("#contract-trend-table summary")
    assert page.locator("#contract-trend-table table").inner_text().count("2026-") == 6
