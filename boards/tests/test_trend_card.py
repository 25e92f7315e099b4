"""A board's trend card drawn again with another cut (the htmx chart endpoint)."""

import pytest
from django.urls import reverse

from contracts.tests.factories import MetricContractFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(capability):
    return MetricContractFactory(
        capability=capability, metric_id="cc.repeat_contact", cohort_dimensions=["intent"], status="active"
    )


def test_the_card_names_its_contract_links_the_binder_and_offers_the_cuts(contract, pm, client_for):
    url = reverse("boards:chart", kwargs={"metric_id": contract.metric_id})
    page = client_for(pm).get(url + "?by=cohort&dimension=intent", HTTP_HX_REQUEST="true")
    assert page.status_code == 200 and page["Vary"].count("HX-Request")
    html = page.content.decode()
    assert 'id="trend-cc-repeat-contact"' in html and "cc.repeat_contact" in html
    assert reverse("boards:evidence", kwargs={"metric_id": contract.metric_id}) in html
    assert "By intent" in html and 'aria-current="true"' in html
    assert "<html" not in html  # the fragment only


def test_another_capabilitys_person_gets_404(contract, outsider, client_for):
    url = reverse("boards:chart", kwargs={"metric_id": contract.metric_id})
    assert client_for(outsider).get(url).status_code == 404


def test_the_boards_index_lists_the_five_boards(pm, client_for):
    page = client_for(pm).get(reverse("boards:index"))
    assert page.status_code == 200
    for name in ["runtime", "weekly", "monthly", "release-impact", "portfolio"]:
        assert reverse(f"boards:{name}") in page.content.decode()
