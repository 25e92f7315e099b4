"""Readiness pages, the capability page, the portfolio board, the quarterly pack and the API:
what people see, and who may see it."""

import pytest
from django.urls import reverse

from forums.packs import pack_snapshot
from forums.pdf import pack_html
from readiness.tests import world as w

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(capability, pm, time_machine):
    time_machine.move_to(w.TODAY)
    return w.build(capability, pm)


def test_the_capability_page_shows_readiness_and_links_the_checklist(client_for, built, viewer):
    page = client_for(viewer).get(built.capability.get_absolute_url()).content.decode()
    assert 'id="operating-readiness"' in page and "Operating</span>" in page
    assert reverse("readiness:onboarding", args=[built.capability.slug]) in page


def test_the_readiness_page_names_each_gap_with_links_to_the_records_at_fault(client_for, built, viewer):
    from releases.models import Release

    built.release.impact_reviews.all().delete()
    Release.objects.filter(pk=built.release.pk).update(state="released")
    page = (
        client_for(viewer).get(reverse("readiness:capability", args=[built.capability.slug])).content.decode()
    )
    assert "Only running" in page and "7 of 8 questions" in page
    assert "Deployed, and the impact review due is not recorded" in page
    assert f'href="{built.release.get_absolute_url()}"' in page
    assert 'data-question="system_changes" data-state="gap"' in page


def test_outsiders_get_404_everywhere(client_for, built, outsider):
    client = client_for(outsider)
    slug = built.capability.slug
    for url in [
        reverse("readiness:capability", args=[slug]),
        reverse("readiness:onboarding", args=[slug]),
        reverse("readiness:onboarding-tick", args=[slug, "d08"]),
        f"/api/v1/readiness/{slug}/",
    ]:
        response = client.post(url) if url.endswith("/tick/") else client.get(url)
        assert response.status_code == 404, url
    index = client.get(reverse("readiness:index")).content.decode()
    assert built.capability.name not in index
    listed = [row["capability"] for row in client.get("/api/v1/readiness/").json()["results"]]
    assert listed == ["kyc-onboarding"]


def test_anonymous_people_are_sent_to_log_in(client, built):
    response = client.get(reverse("readiness:capability", args=[built.capability.slug]))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get("/api/v1/readiness/").status_code in (401, 403)


def test_the_portfolio_board_shows_each_capabilitys_state(client_for, built, executive, other_capability):
    page = client_for(executive).get(reverse("boards:portfolio")).content.decode()
    assert 'id="portfolio-readiness"' in page
    assert f'id="readiness-{built.capability.slug}" data-state="operating"' in page
    assert f'id="readiness-{other_capability.slug}" data-state="only_running"' in page


def test_the_quarterly_pack_freezes_readiness_as_it_was_built(built):
    snapshot = pack_snapshot(
        capabilities=[built.capability],
        cadence="quarterly_portfolio_review",
        decision_requested="Fund, restrict or retire",
        forum_name="Quarterly portfolio review",
        session_at=None,
    )
    rows = snapshot["extras"]["readiness"]["rows"]
    assert rows == [
        {
            "capability": built.capability.name,
            "state": "operating",
            "state_label": "Operating",
            "answered": 8,
            "questions": 8,
            "gaps": [],
        }
    ]
    built.release.impact_reviews.all().delete()  # the data moves on; the pack does not
    html = pack_html(snapshot)
    assert 'id="pack-readiness"' in html and "Operating" in html and "8 / 8" in html
    weekly = pack_snapshot(
        capabilities=[built.capability],
        cadence="weekly_ops_review",
        decision_requested="x",
        forum_name="Weekly",
        session_at=None,
    )
    assert "readiness" not in weekly["extras"]


def test_the_api_answers_each_capability_read_only(api_for, built, viewer, pm):
    api = api_for(viewer)
    body = api.get(f"/api/v1/readiness/{built.capability.slug}/").json()
    assert body["state"] == "operating" and body["answered"] == 8 and body["missing"] == []
    assert [answer["key"] for answer in body["answers"]][:2] == ["forum_decisions", "decision_evidence"]
    assert body["answers"][3]["evidence"][0]["url"] == built.release.get_absolute_url()
    listing = api.get("/api/v1/readiness/?ordering=-name&limit=1").json()
    assert listing["count"] == 1 and listing["results"][0]["capability"] == built.capability.slug
    for method in ("post", "put", "patch", "delete"):
        assert getattr(api_for(pm), method)(f"/api/v1/readiness/{built.capability.slug}/").status_code == 405


def test_the_readiness_page_asks_the_same_number_of_queries_as_records_grow(
    client_for, built, viewer, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(viewer)
    url = reverse("readiness:capability", args=[built.capability.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    for _ in range(10):
        w.incident(built.capability)
        w.proven_action(built.capability, built.person)
    with django_assert_num_queries(len(first.captured_queries)):
        client.get(url)


def test_the_header_navigation_leads_to_operating_readiness(client_for, built, viewer):
    page = client_for(viewer).get(reverse("portfolio:capability-list")).content.decode()
    navigation = page[page.index("<nav") : page.index("</nav>")]
    assert f'href="{reverse("readiness:index")}"' in navigation and ">Readiness</a>" in navigation
