import pytest

from portfolio.models import Capability

pytestmark = pytest.mark.django_db

URL = "/api/v1/capabilities/"


def test_anonymous_requests_are_refused(client, capability):
    assert client.get(URL).status_code == 403


def test_the_list_shows_only_visible_capabilities(api_for, pm, capability, other_capability):
    slugs = [row["slug"] for row in api_for(pm).get(URL).json()["results"]]
    assert slugs == [capability.slug]


def test_the_list_filters_like_the_page(api_for, viewer, capability, other_capability):
    slugs = [row["slug"] for row in api_for(viewer).get(URL, {"risk_tier": "critical"}).json()["results"]]
    assert slugs == [other_capability.slug]


def test_an_outsider_gets_404_on_another_capability(api_for, outsider, capability):
    assert api_for(outsider).get(f"{URL}{capability.slug}/").status_code == 404
    assert api_for(outsider).patch(f"{URL}{capability.slug}/", {"name": "X"}).status_code == 404


def test_a_viewer_cannot_change_a_capability(api_for, viewer, capability):
    response = api_for(viewer).patch(f"{URL}{capability.slug}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    capability.refresh_from_db()
    assert capability.name == "Contact-centre agent assist"


def test_the_pm_changes_the_charter_and_history_records_it(api_for, pm, capability):
    response = api_for(pm).patch(f"{URL}{capability.slug}/", {"success_risk": "No harm"}, format="json")
    assert response.status_code == 200, response.json()
    capability.refresh_from_db()
    assert capability.success_risk == "No harm"
    assert capability.history.latest().history_user == pm


def test_bad_input_names_the_field(api_for, org_pm):
    response = api_for(org_pm).post(
        URL,
        {"name": "New", "slug": "new", "workflow": "w", "target_users": "u", "risk_tier": "extreme"},
        format="json",
    )
    assert response.status_code == 400
    assert "risk_tier" in response.json()
    assert not Capability.objects.filter(slug="new").exists()


def test_creation_needs_an_organisation_wide_charter_role(api_for, pm, org_pm):
    body = {"name": "New", "slug": "new", "workflow": "w", "target_users": "u"}
    assert api_for(pm).post(URL, body, format="json").status_code == 403
    assert api_for(org_pm).post(URL, body, format="json").status_code == 201


def test_capabilities_are_never_deleted(api_for, org_pm, capability):
    assert api_for(org_pm).delete(f"{URL}{capability.slug}/").status_code == 405
    assert Capability.objects.filter(pk=capability.pk).exists()


def test_the_version_set_cannot_be_typed(api_for, pm, capability):
    api_for(pm).patch(f"{URL}{capability.slug}/", {"current_version_set": {"model": "x"}}, format="json")
    capability.refresh_from_db()
    assert capability.current_version_set == {}
