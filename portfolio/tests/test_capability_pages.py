import pytest
from django.urls import reverse

from portfolio.models import Capability

pytestmark = pytest.mark.django_db

CHARTER = {
    "name": "AML triage assistant",
    "slug": "aml-triage",
    "workflow": "Alert triage",
    "target_users": "AML analysts",
    "risk_tier": "critical",
    "lifecycle_status": "pilot",
    "success_outcome": "Throughput up 20%",
}


def test_login_is_required_on_every_page(client, capability):
    for url in [reverse("home"), reverse("portfolio:capability-list"), capability.get_absolute_url()]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_the_list_shows_only_capabilities_the_person_holds_a_role_on(
    client_for, pm, capability, other_capability
):
    page = client_for(pm).get(reverse("portfolio:capability-list")).content.decode()
    assert capability.name in page
    assert other_capability.name not in page


def test_an_organisation_wide_role_sees_every_capability(client_for, viewer, capability, other_capability):
    page = client_for(viewer).get(reverse("portfolio:capability-list")).content.decode()
    assert capability.name in page and other_capability.name in page


def test_the_list_filters_by_risk_tier(client_for, viewer, capability, other_capability):
    response = client_for(viewer).get(reverse("portfolio:capability-list"), {"risk_tier": "critical"})
    assert list(response.context["capabilities"]) == [other_capability]
    rows = response.content.decode().split('id="capability-rows"')[1]
    assert other_capability.name in rows
    assert capability.name not in rows


def test_the_list_answers_htmx_with_the_rows_only(client_for, viewer, capability):
    response = client_for(viewer).get(reverse("portfolio:capability-list"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert capability.name in body
    assert "<html" not in body


def test_the_list_exports_csv(client_for, viewer, capability):
    response = client_for(viewer).get(reverse("portfolio:capability-list"), {"format": "csv"})
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert response["Content-Type"].startswith("text/csv")
    assert body.splitlines()[1].startswith("Contact-centre agent assist,cc-agent-assist")


def test_an_outsider_cannot_open_another_capabilitys_page(client_for, outsider, capability):
    client = client_for(outsider)
    assert client.get(capability.get_absolute_url()).status_code == 404
    assert client.get(reverse("portfolio:capability-edit", args=[capability.slug])).status_code == 404


def test_a_viewer_reads_but_cannot_change_a_capability(client_for, viewer, capability):
    client = client_for(viewer)
    page = client.get(capability.get_absolute_url())
    assert page.status_code == 200
    assert "Edit charter" not in page.content.decode()
    response = client.post(
        reverse("portfolio:capability-edit", args=[capability.slug]), {**CHARTER, "name": "X"}
    )
    assert response.status_code == 403
    capability.refresh_from_db()
    assert capability.name == "Contact-centre agent assist"


def test_an_executive_cannot_edit_the_charter(client_for, executive, capability):
    response = client_for(executive).post(
        reverse("portfolio:capability-edit", args=[capability.slug]), CHARTER
    )
    assert response.status_code == 403


def test_the_capabilitys_pm_edits_the_charter_and_history_records_who_and_what(client_for, pm, capability):
    client = client_for(pm)
    data = {**CHARTER, "name": capability.name, "slug": capability.slug, "success_outcome": "AHT down 8%"}
    response = client.post(reverse("portfolio:capability-edit", args=[capability.slug]), data)
    assert response.status_code == 302
    capability.refresh_from_db()
    assert capability.success_outcome == "AHT down 8%"
    latest = capability.history.latest()
    assert latest.history_user == pm
    page = client.get(capability.get_absolute_url()).content.decode()
    assert "Outcome success criteria" in page
    assert "AHT down 8%" in page
    assert str(pm) in page


def test_a_capability_scoped_pm_cannot_create_capabilities(client_for, pm):
    response = client_for(pm).post(reverse("portfolio:capability-create"), CHARTER)
    assert response.status_code == 403
    assert not Capability.objects.filter(slug="aml-triage").exists()


def test_an_organisation_wide_pm_creates_a_capability(client_for, org_pm):
    response = client_for(org_pm).post(reverse("portfolio:capability-create"), CHARTER)
    assert response.status_code == 302
    assert Capability.objects.get(slug="aml-triage").risk_tier == "critical"


def test_a_charter_with_a_missing_field_names_it_and_saves_nothing(client_for, org_pm):
    response = client_for(org_pm).post(reverse("portfolio:capability-create"), {**CHARTER, "workflow": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["workflow"]
    assert not Capability.objects.filter(slug="aml-triage").exists()


def test_the_capability_switcher_opens_the_chosen_capability(client_for, pm, capability, other_capability):
    client = client_for(pm)
    response = client.get(reverse("portfolio:capability-switch"), {"capability": capability.slug})
    assert response["Location"] == capability.get_absolute_url()
    assert (
        client.get(reverse("portfolio:capability-switch"), {"capability": other_capability.slug}).status_code
        == 404
    )


def test_the_list_query_count_does_not_grow_with_capabilities(
    client_for, viewer, django_assert_max_num_queries
):
    from portfolio.tests.factories import CapabilityFactory

    client = client_for(viewer)
    CapabilityFactory.create_batch(3)
    with django_assert_max_num_queries(20) as small:
        client.get(reverse("portfolio:capability-list"))
    CapabilityFactory.create_batch(30)
    with django_assert_max_num_queries(20) as large:
        client.get(reverse("portfolio:capability-list"))
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_owner_map_lists_capability_and_organisation_wide_role_holders(
    client_for, pm, risk, viewer, capability
):
    owner_map = dict(client_for(pm).get(capability.get_absolute_url()).context["owner_map"])
    assert owner_map["AI PM"] == [str(pm)]
    assert owner_map["Risk / Compliance"] == [f"{risk} (all capabilities)"]
    assert "Viewer" not in owner_map
