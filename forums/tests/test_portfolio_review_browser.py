"""An executive rates and decides on the quarterly scorecard in a real browser: every answer is
swapped in place (htmx), the progress, retirement candidates and decisions regions follow."""

import pytest

from forums.portfolio_review import portfolio_review_open
from forums.tests.test_portfolio_review import QUARTER, make_backlog_item, plant_portfolio, row_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_executive_rates_and_retires_a_capability_in_place(
    page, live_server, log_in, executive, capability
):
    contracts = plant_portfolio(capability)
    make_backlog_item(
        capability, contracts["outcome"], item_class="retirement", title="Retire the old assist"
    )
    review = portfolio_review_open(quarter=QUARTER, by=executive)
    row = row_of(review, capability)

    log_in("exec")
    page.wait_for_url(lambda url: "/login/" not in url)
    page.goto(f"{live_server.url}/forums/portfolio-reviews/{QUARTER}/")
    page.evaluate("window.notReloaded = true")
    tables = page.locator("table").count()
    assert "0 of 1 capability decided" in page.inner_text("#review-progress")
    assert "Not decided" in page.inner_text("#retirement-candidates")

    tbody = f"#scorecard-row-{row.pk}"
    for _ in range(8):
        accept = page.locator(f"{tbody} button", has_text="Accept")
        if not accept.count():
            break
        with page.expect_response(lambda answer: "/rate/" in answer.url):
            accept.first.click()
    for dimension in ("strategic_fit", "platform_reuse"):
        cell = page.locator(f"{tbody} td[data-dimension={dimension}]")
        cell.locator("summary", has_text="Rate").click()
        cell.locator("select").select_option("2")
        cell.locator("textarea").fill("两年内由平台替代")
        with page.expect_response(lambda answer: "/rate/" in answer.url):
            cell.locator("button", has_text="Save").click()
    assert (
        "两年内由平台替代"
        in page.locator(f"{tbody} td[data-dimension=strategic_fit] details").first.text_content()
    )

    form = page.locator(f"{tbody} form[action$='/decide/']")
    form.locator("label", has_text="Retire").click()
    form.locator("textarea[name=evidence_basis]").fill("Value below cost for two quarters")
    form.locator("input[name=funding_change]").fill("Stop funding at quarter end")
    form.locator("textarea[name=risk_condition]").fill("Agents fall back to the knowledge base")
    form.locator("input[name=next_review]").fill("2027-Q1")
    with page.expect_response(lambda answer: "/decide/" in answer.url):
        form.locator("button[type=submit]").click()

    assert page.evaluate("window.notReloaded") is True
    assert "1 of 1 capability decided" in page.inner_text("#review-progress")
    assert page.locator("#review-decisions").count() == 1
    # Nothing of an answer lands inside the scorecard table (out-of-band regions are not rows).
    assert page.locator("table").count() == tables
    assert page.locator("table.po-scorecard section, table.po-scorecard table").count() == 0
    assert "Retire 1" in page.inner_text("#decision-counts")
    assert "Retire" in page.inner_text("#retirement-candidates")
    assert "DEC-" in page.inner_text(tbody)
    row.refresh_from_db()
    assert row.decision == "retire"
    assert row.ratings["strategic_fit"] == {
        **row.ratings["strategic_fit"],
        "rating": 2,
        "note": "两年内由平台替代",
    }
    assert row.decision_logged.type == "retire"
