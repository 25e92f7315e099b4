"""The release impact board (18.1, 21.3): version changes with their affected population,
regressions per contract and cut with the difference and its 95% interval (kept by the impact
review, or computed now by the same function for a live release not reviewed yet), each review's
decision, reviews due or overdue, who sees what, and a query count that does not grow."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from boards.tests.sizes import build_portfolio
from contracts.models import Observation
from contracts.tests.factories import MetricContractFactory
from forums.memos.impact import impact_figures_many
from releases.models import ImpactReview, Release
from releases.services import impact_figures
from releases.tests.test_impact import D, load_story, observe

pytestmark = pytest.mark.django_db

URL = reverse("boards:release-impact")


def repeat_contact_of(capability, prefix="cc_agent_assist"):
    """Lower is better, weekly, warning at 12, cut by intent (as the release tests plant it)."""
    return MetricContractFactory(
        capability=capability,
        metric_id=f"{prefix}.repeat_contact_7d",
        status="active",
        grain="week",
        is_ratio=False,
        min_sample_size=30,
    )


def released(capability, owner, *, on=D, review_on=None, **fields):
    return Release.objects.create(
        capability=capability,
        planned_date=on,
        deployed_date=on,
        object_type="prompt",
        change=fields.pop("change", "Shorter billing suggestions"),
        version_from="v11",
        version_to="v12",
        affected_population="Billing intents, all sites",
        risk_tier="medium",
        owner=owner,
        state=fields.pop("state", "released"),
        post_release_review_date=review_on or timezone.localdate() + datetime.timedelta(days=10),
        **fields,
    )


def without_time(figures):
    return {key: value for key, value in figures.items() if key != "computed_at"}


def test_impact_figures_many_equals_impact_figures_release_by_release(capability, other_capability, pm):
    load_story(repeat_contact_of(capability))
    load_story(repeat_contact_of(other_capability, prefix="kyc"))
    first = released(capability, pm)
    second = released(other_capability, pm, on=D + datetime.timedelta(days=2))
    many = impact_figures_many([first, second])
    assert without_time(many[first.pk]) == without_time(impact_figures(first))
    assert without_time(many[second.pk]) == without_time(impact_figures(second))
    assert many[first.pk]["regressions"]  # the story regresses: the comparison is not of empties


def test_a_live_release_without_review_shows_its_regressions_computed_now(client_for, pm, capability):
    load_story(repeat_contact_of(capability))
    release = released(capability, pm)
    response = client_for(pm).get(URL, {"capability": capability.slug})
    (row,) = response.context["releases"].releases
    assert row.release == release and row.review is None and row.computed_now
    expected = impact_figures(release)
    found = [f"{r.metric_id} [{r.cut}]" if r.cut else r.metric_id for r in row.regressions]
    assert found == expected["regressions"]
    whole = next(r for r in row.regressions if not r.cut)
    assert whole.figure["difference"] == pytest.approx(expected["contracts"][0]["whole"]["difference"])
    assert whole.past_warning
    page = response.content.decode()
    assert "v11 → v12" in page and "Billing intents, all sites" in page
    assert f"{whole.difference} <span" in page and f"({whole.ci})" in page
    assert "figures below computed now" in page
    assert response.context["releases"].regressions == len(expected["regressions"])


def test_a_reviewed_release_shows_its_review_decision_and_the_figures_the_review_kept(
    client_for, pm, capability
):
    contract = repeat_contact_of(capability)
    load_story(contract)
    release = released(capability, pm, state="impact_reviewed")
    kept = impact_figures(release)
    ImpactReview.objects.create(
        release=release,
        reviewer=pm,
        periods=kept["periods"],
        expected_effect="Fewer repeat calls",
        decision="hotfix",
        comment="Billing suggestions cite the wrong fee",
        figures=kept,
        regressions=kept["regressions"],
    )
    # Data that arrives after the review does not rewrite what the reviewer saw.
    Observation.objects.filter(contract=contract).update(value=1.0)
    response = client_for(pm).get(URL, {"capability": capability.slug})
    (row,) = response.context["releases"].releases
    assert row.review.decision == "hotfix" and not row.computed_now
    assert [r.figure for r in row.regressions][0]["after"] == kept["contracts"][0]["whole"]["after"]
    page = response.content.decode()
    assert "Hotfix" in page and "Billing suggestions cite the wrong fee" in page


def test_reviews_due_or_overdue_come_first_with_the_days_overdue(client_for, pm, capability):
    today = timezone.localdate()
    overdue = released(
        capability, pm, on=today - datetime.timedelta(days=30), review_on=today - datetime.timedelta(days=6)
    )
    released(capability, pm, on=today - datetime.timedelta(days=3), change="Not due yet")
    response = client_for(pm).get(URL, {"capability": capability.slug})
    board = response.context["releases"]
    assert [row.release for row in board.due] == [overdue]
    assert board.due[0].days_overdue == 6
    page = response.content.decode()
    assert page.index('id="reviews-due"') < page.index('id="changes-heading"')
    assert "6 days overdue" in page


def test_people_see_only_their_capabilities_releases_and_outsiders_get_404(
    client_for, pm, outsider, capability, other_capability
):
    mine = released(capability, pm)
    theirs = released(other_capability, outsider, change="KYC parser upgrade")
    client = client_for(outsider)
    assert client.get(URL, {"capability": capability.slug}).status_code == 404
    response = client.get(URL, {"capability": "all"})
    assert [row.release for row in response.context["releases"].releases] == [theirs]
    assert mine.readable_id not in response.content.decode()
    assert client.post(URL).status_code == 405


def test_release_impact_board_queries_do_not_grow_with_the_portfolio(client, django_assert_num_queries):
    today = timezone.localdate()

    def with_live_releases(portfolio):
        # Beside each capability's reviewed release: a live one not reviewed yet (figures computed).
        for sized in portfolio.capabilities:
            released(
                sized.capability, sized.pm, on=today - datetime.timedelta(days=10), change="Live, unreviewed"
            )
            observe(sized.contracts["outcome"], 0, 1.0, "billing")
        return portfolio

    small = with_live_releases(build_portfolio(2))
    client.force_login(small.reader)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    with_live_releases(build_portfolio(4, prefix="more"))
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(URL)
    rows = response.context["releases"].releases
    assert len({row.release.capability_id for row in rows}) == 6
    assert sum(1 for row in rows if row.computed_now) == 6
