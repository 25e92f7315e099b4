"""The quarterly portfolio review as people use it: the scorecard page (decisions, exceptions and
retirement candidates first), in-place rating and deciding with htmx and without, the session
panel, the API, who may do what, and a query count that does not grow with the portfolio."""

# The fixtures are shared with the service tests by import, so pytest sees them here: the
# arguments that name them are not redefinitions.
# ruff: noqa: F811

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forums.models import PortfolioReview
from forums.portfolio_review import portfolio_review_open, scorecard_decide
from forums.tests.test_portfolio_review import (  # noqa: F401  (fixtures)
    OUTPUT,
    QUARTER,
    finance,
    make_backlog_item,
    make_incident,
    plant_portfolio,
    quarterly_session,
    rate_all,
    review,
    row_of,
)


@pytest.fixture
def nobody(db):
    """Signed in, holding no role anywhere."""
    from portfolio.tests.factories import UserFactory

    return UserFactory(username="nobody")


def detail_url(quarter=QUARTER):
    return reverse("forums:portfolio-review-detail", kwargs={"quarter": quarter})


def rate_url(row):
    return reverse("forums:scorecard-row-rate", kwargs={"pk": row.pk})


def decide_url(row):
    return reverse("forums:scorecard-row-decide", kwargs={"pk": row.pk})


# --- the scorecard page -------------------------------------------------------------------------


def test_the_page_puts_retirement_candidates_and_exceptions_before_the_scorecard(
    client_for, executive, capability, other_capability
):
    contracts = plant_portfolio(capability)
    make_incident(capability, "sev1")
    make_backlog_item(
        other_capability, contracts["outcome"], item_class="retirement", title="Retire the old bot"
    )
    portfolio_review_open(quarter=QUARTER, by=executive)

    page = client_for(executive).get(detail_url())

    assert page.status_code == 200
    html = page.content.decode()
    assert f"Quarterly portfolio review {QUARTER}" in html
    assert "0 of 2 capabilities decided" in html
    retirement = html.index('id="retirement-candidates"')
    decisions = html.index('id="review-decisions"')
    scorecard = html.index('id="scorecard-heading"')
    assert retirement < decisions < scorecard
    candidates = html[retirement:decisions]
    assert "Retire the old bot" in candidates and other_capability.name in candidates
    # The exception the data found: a Sev1 this quarter puts risk stability at 1 (a suggestion: *).
    assert "Risk stability 1*" in html[decisions:scorecard]
    # Each cell shows the suggestion and its evidence; nothing is rated yet.
    assert "data 1" in html[scorecard:]
    assert "Sev1 ×1 (INC-" in html[scorecard:]
    # Pause and retire stand among the decisions like every other option.
    for label in (
        "Fund",
        "Scale",
        "Scale selectively",
        "Restrict",
        "Consolidate",
        "Platformize",
        "Pause",
        "Retire",
    ):
        assert f">{label}</label>" in html


def test_the_evidence_table_lists_every_dimension_with_its_evidence(
    client_for, review, executive, capability
):
    page = client_for(executive).get(detail_url(), {"view": "evidence"})
    html = page.content.decode()
    assert "Evidence per dimension" in html
    assert "A person rates strategic fit: no data suggests it." in html
    assert "cc.repeat_contact (E3): ok 9.5%" in html


def test_a_person_sees_only_the_rows_of_their_capabilities(
    client_for, review, outsider, capability, other_capability
):
    html = client_for(outsider).get(detail_url()).content.decode()
    assert other_capability.name in html
    assert capability.name not in html


def test_a_person_without_any_role_gets_404(client_for, review, nobody):
    assert client_for(nobody).get(detail_url()).status_code == 404


def test_the_review_list_shows_each_quarter_and_opens_one(client_for, review, executive):
    client = client_for(executive)
    listing = client.get(reverse("forums:portfolio-review-list")).content.decode()
    assert QUARTER in listing and "0 of 2" in listing
    answer = client.post(reverse("forums:portfolio-review-open"), {"quarter": "2027-q1"})
    assert answer.status_code == 302 and answer["Location"] == detail_url("2027-Q1")
    assert PortfolioReview.objects.filter(quarter="2027-Q1").exists()
    refused = client.post(reverse("forums:portfolio-review-open"), {"quarter": "next quarter"})
    assert refused.status_code == 400
    assert "Name the quarter as YYYY-QN" in refused.content.decode()


def test_the_scorecard_page_costs_the_same_queries_for_3_and_12_capabilities(
    client_for, django_assert_num_queries, executive
):
    from portfolio.tests.factories import CapabilityFactory

    def grow_to(count):
        while len(made) < count:
            subject = CapabilityFactory()
            contracts = plant_portfolio(subject, prefix=f"p{len(made)}")
            make_backlog_item(subject, contracts["outcome"], item_class="retirement", title="Retire it")
            make_incident(subject, "sev2")
            made.append(subject)
        review = portfolio_review_open(quarter=QUARTER, by=executive)
        first = review.rows.order_by("pk").first()
        if not first.decision:
            scorecard_decide(row=rate_all(first, executive), by=executive, decision="retire", **OUTPUT)
        return review

    made = []
    client = client_for(executive)
    grow_to(3)
    with CaptureQueriesContext(connection) as small:
        assert client.get(detail_url()).status_code == 200
    grow_to(12)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(detail_url())
    assert page.content.decode().count('<tbody id="scorecard-row-') == 12


# --- rating and deciding in place -------------------------------------------------------------


def test_accepting_a_suggestion_in_place_answers_the_row_and_the_progress_out_of_band(
    client_for, review, executive, capability
):
    row = row_of(review, capability)
    answer = client_for(executive).post(
        rate_url(row), {"dimension": "net_value", "accept": "true"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200
    html = answer.content.decode()
    assert html.startswith(f'<tbody id="scorecard-row-{row.pk}">')
    assert (
        'id="review-progress" class="text-body-secondary" hx-swap-oob="true"'
        in html[html.index("<template>") :]
    )
    # The regions outside the table travel in a <template> (the answer is parsed as table content).
    out_of_band = html[html.index("<template>") :]
    assert 'id="review-decisions"' in out_of_band and 'id="retirement-region"' in out_of_band
    assert "<html" not in html
    row.refresh_from_db()
    assert row.ratings["net_value"]["rating"] == 5


def test_a_refused_rating_in_place_comes_back_in_the_row_with_its_reason(
    client_for, review, executive, capability
):
    row = row_of(review, capability)
    answer = client_for(executive).post(
        rate_url(row), {"dimension": "net_value", "rating": "2"}, HTTP_HX_REQUEST="true"
    )
    assert answer.status_code == 200  # htmx swaps 2xx only: the message must reach the row
    assert "The data suggests 5: say why you rate 2." in answer.content.decode()
    row.refresh_from_db()
    assert row.ratings["net_value"]["rating"] is None


def test_rating_without_javascript_redirects_back_to_the_row(client_for, review, executive, capability):
    row = row_of(review, capability)
    answer = client_for(executive).post(
        rate_url(row), {"dimension": "strategic_fit", "rating": "4", "note": "Core to servicing strategy"}
    )
    assert answer.status_code == 302
    assert answer["Location"] == f"{detail_url()}#scorecard-row-{row.pk}"
    row.refresh_from_db()
    assert row.ratings["strategic_fit"]["rating"] == 4
    refused = client_for(executive).post(rate_url(row), {"dimension": "net_value", "rating": "1"})
    assert refused.status_code == 400
    assert "The data suggests 5: say why you rate 1." in refused.content.decode()


def test_deciding_on_the_page_logs_the_decision_and_shows_it(client_for, review, finance, capability):
    row = rate_all(row_of(review, capability), finance)
    client = client_for(finance)
    answer = client.post(decide_url(row), {"decision": "retire", **OUTPUT}, HTTP_HX_REQUEST="true")
    assert answer.status_code == 200
    row.refresh_from_db()
    assert row.decision == "retire"
    html = answer.content.decode()
    assert row.decision_logged.readable_id in html
    assert "Retire 1" in html  # the decision counts, out of band
    assert "1 of 2 capabilities decided" in html
    again = client.post(decide_url(row), {"decision": "fund", **OUTPUT})
    assert again.status_code == 409
    assert "supersede that decision" in again.content.decode()


def test_deciding_with_missing_output_names_the_field_on_the_page(client_for, review, executive, capability):
    row = rate_all(row_of(review, capability), executive)
    answer = client_for(executive).post(
        decide_url(row), {"decision": "pause", **OUTPUT, "risk_condition": ""}
    )
    assert answer.status_code == 400
    assert "Name the risk condition the decision holds under (9.4)." in answer.content.decode()
    row.refresh_from_db()
    assert row.decision == ""


def test_closing_on_the_page_needs_every_row_decided(
    client_for, review, executive, capability, other_capability
):
    client = client_for(executive)
    close = reverse("forums:portfolio-review-close", kwargs={"quarter": QUARTER})
    refused = client.post(close)
    assert refused.status_code == 400
    assert "Every capability needs its decision before the review closes" in refused.content.decode()
    for subject in (capability, other_capability):
        scorecard_decide(
            row=rate_all(row_of(review, subject), executive), by=executive, decision="pause", **OUTPUT
        )
    assert client.post(close).status_code == 302
    review.refresh_from_db()
    assert review.state == "decided"


# --- who may do what, endpoint by endpoint ------------------------------------------------------


@pytest.fixture
def endpoints(review, capability):
    row = row_of(review, capability)
    return {
        "rate": (rate_url(row), {"dimension": "net_value", "accept": "true"}),
        "decide": (decide_url(row), {"decision": "retire", **OUTPUT}),
        "close": (reverse("forums:portfolio-review-close", kwargs={"quarter": QUARTER}), {}),
        "open": (reverse("forums:portfolio-review-open"), {"quarter": QUARTER}),
    }


@pytest.mark.parametrize("name", ["rate", "decide", "close", "open"])
def test_every_changing_endpoint_refuses_get(client_for, executive, endpoints, name):
    url, _data = endpoints[name]
    assert client_for(executive).get(url).status_code == 405


@pytest.mark.parametrize("name", ["rate", "decide", "close", "open"])
def test_a_viewer_is_refused(client_for, viewer, endpoints, review, capability, name):
    url, data = endpoints[name]
    assert client_for(viewer).post(url, data).status_code == 403
    row = row_of(review, capability)
    assert row.ratings["net_value"]["rating"] is None and row.decision == ""


@pytest.mark.parametrize("name", ["rate", "decide"])
def test_another_capabilitys_person_gets_404_on_a_row(client_for, outsider, endpoints, name):
    url, data = endpoints[name]
    assert client_for(outsider).post(url, data).status_code == 404


def test_a_person_without_any_role_gets_404_on_closing(client_for, nobody, endpoints):
    url, data = endpoints["close"]
    assert client_for(nobody).post(url, data).status_code == 404


def test_the_pm_rates_and_decides_their_row_but_does_not_close_the_quarter(
    client_for, pm, endpoints, review, capability
):
    client = client_for(pm)
    url, data = endpoints["rate"]
    assert client.post(url, data).status_code == 302
    rate_all(row_of(review, capability), pm)
    url, data = endpoints["decide"]
    assert client.post(url, data).status_code == 302
    row = row_of(review, capability)
    assert row.decision == "retire" and row.decision_logged.recorded_by == pm
    url, data = endpoints["close"]
    assert client.post(url, data).status_code == 403


@pytest.mark.parametrize("person", ["executive", "finance"])
def test_executive_and_finance_rate_decide_and_close(
    client_for, request, endpoints, review, capability, other_capability, person
):
    user = request.getfixturevalue(person)
    client = client_for(user)
    url, data = endpoints["rate"]
    assert client.post(url, data).status_code == 302
    for subject in (capability, other_capability):
        row = rate_all(row_of(review, subject), user)
        assert client.post(decide_url(row), {"decision": "pause", **OUTPUT}).status_code == 302
    url, data = endpoints["close"]
    assert client.post(url, data).status_code == 302
    review.refresh_from_db()
    assert review.state == "decided"


# --- the session page's panel -------------------------------------------------------------------


def test_the_panel_opens_the_sessions_quarter_and_then_links_to_it(
    client_for, executive, capability, quarterly_session
):
    panel = render_to_string(
        "forums/session_scorecard_panel.html", {"session": quarterly_session, "can_edit": True}
    )
    assert "Open the scorecard for this session’s quarter" in panel
    open_url = reverse("forums:session-portfolio-review", kwargs={"pk": quarterly_session.pk})
    assert client_for(executive).get(open_url).status_code == 405
    answer = client_for(executive).post(open_url)
    review = PortfolioReview.objects.get()
    assert answer["Location"] == detail_url(review.quarter)
    assert review.session == quarterly_session
    panel = render_to_string(
        "forums/session_scorecard_panel.html", {"session": quarterly_session, "can_edit": True}
    )
    assert f"Go to the {review.quarter} scorecard" in panel


def test_the_panel_stays_empty_on_other_sessions(org_pm, capability):
    import datetime

    from django.utils import timezone

    from forums.choices import Cadence, Frequency, Weekday
    from forums.models import Session
    from forums.services import forum_create

    forum = forum_create(
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
    session = Session.objects.create(forum=forum, scheduled_at=timezone.now())
    panel = render_to_string("forums/session_scorecard_panel.html", {"session": session, "can_edit": True})
    assert panel.strip() == ""


# --- API ----------------------------------------------------------------------------------------


def test_the_api_lists_reviews_with_the_rows_a_person_may_see(
    api_for, review, outsider, executive, other_capability
):
    listing = api_for(outsider).get("/api/v1/portfolio-reviews/")
    assert listing.status_code == 200
    (only,) = listing.json()["results"]
    assert only["quarter"] == QUARTER
    assert [row["capability"] for row in only["rows"]] == [other_capability.slug]
    detail = api_for(executive).get(f"/api/v1/portfolio-reviews/{QUARTER}/").json()
    assert len(detail["rows"]) == 2
    assert detail["rows"][0]["ratings"]["net_value"]["evidence"]


def test_the_api_rates_decides_and_closes_through_the_same_services(
    api_for, review, executive, capability, other_capability
):
    api = api_for(executive)
    row = row_of(review, capability)
    rated = api.post(
        f"/api/v1/scorecard-rows/{row.pk}/rate/", {"dimension": "net_value", "accept": True}, format="json"
    )
    assert rated.status_code == 200 and rated.json()["ratings"]["net_value"]["rating"] == 5
    refused = api.post(
        f"/api/v1/scorecard-rows/{row.pk}/rate/", {"dimension": "net_value", "rating": 2}, format="json"
    )
    assert refused.status_code == 400 and "note" in refused.json()
    unrated = api.post(
        f"/api/v1/scorecard-rows/{row.pk}/decide/", {"decision": "retire", **OUTPUT}, format="json"
    )
    assert unrated.status_code == 400 and "ratings" in unrated.json()
    rate_all(row, executive)
    decided = api.post(
        f"/api/v1/scorecard-rows/{row.pk}/decide/", {"decision": "retire", **OUTPUT}, format="json"
    )
    assert decided.status_code == 200
    assert decided.json()["decision"] == "retire" and decided.json()["decision_logged"].startswith("DEC-")
    twice = api.post(
        f"/api/v1/scorecard-rows/{row.pk}/decide/", {"decision": "fund", **OUTPUT}, format="json"
    )
    assert twice.status_code == 409
    early = api.post(f"/api/v1/portfolio-reviews/{QUARTER}/close/")
    assert early.status_code == 400 and "rows" in early.json()
    scorecard_decide(
        row=rate_all(row_of(review, other_capability), executive), by=executive, decision="pause", **OUTPUT
    )
    closed = api.post(f"/api/v1/portfolio-reviews/{QUARTER}/close/")
    assert closed.status_code == 200 and closed.json()["state"] == "decided"


def test_the_api_opens_a_quarter_idempotently(api_for, executive, capability, quarterly_session):
    api = api_for(executive)
    first = api.post(
        "/api/v1/portfolio-reviews/open/",
        {"quarter": QUARTER, "session": quarterly_session.pk},
        format="json",
    )
    second = api.post("/api/v1/portfolio-reviews/open/", {"quarter": QUARTER}, format="json")
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"] and second.json()["session"] == quarterly_session.pk
    assert PortfolioReview.objects.count() == 1


@pytest.mark.parametrize(
    "path",
    [
        "scorecard-rows/{row}/rate/",
        "scorecard-rows/{row}/decide/",
        "portfolio-reviews/{quarter}/close/",
        "portfolio-reviews/open/",
    ],
)
def test_the_api_actions_refuse_get_viewers_and_outsiders(
    api_for, review, capability, viewer, outsider, executive, path
):
    url = "/api/v1/" + path.format(row=row_of(review, capability).pk, quarter=QUARTER)
    body = {"dimension": "net_value", "accept": True, "decision": "retire", "quarter": QUARTER, **OUTPUT}
    assert api_for(executive).get(url).status_code == 405
    assert api_for(viewer).post(url, body, format="json").status_code == 403
    expected = 404 if path.startswith("scorecard-rows") else 403
    assert api_for(outsider).post(url, body, format="json").status_code == expected
    row = row_of(review, capability)
    assert row.ratings["net_value"]["rating"] is None and row.decision == ""


def test_opening_with_a_session_that_does_not_exist_is_a_400_naming_it(api_for, executive, capability):
    # Found by the API fuzzer: an unknown session id in the body answered an undocumented 404.
    answer = api_for(executive).post(
        "/api/v1/portfolio-reviews/open/", {"quarter": QUARTER, "session": 999_999}, format="json"
    )
    assert answer.status_code == 400 and "does not exist" in answer.json()["session"][0]
    assert not PortfolioReview.objects.exists()
