"""The admin edits a contract through the same service as the pages: a definition change of an
active contract is still a logged decision; evaluations and observations are read-only."""

import pytest
from django.contrib.admin.sites import site

from contracts.models import Evaluation, MetricContract, Observation
from contracts.services import contract_activate, contract_create
from contracts.tests.factories import contract_kwargs
from contracts.tests.test_contract_pages import edit_data
from decisions.models import Decision

pytestmark = [pytest.mark.django_db, pytest.mark.urls("contracts.tests.test_contract_urls")]


@pytest.fixture
def superuser(make_person):
    person = make_person("viewer", username="root")
    person.is_superuser = person.is_staff = True
    person.save()
    return person


def test_a_definition_change_in_the_admin_is_a_logged_decision(client_for, superuser, pm, capability):
    contract = contract_create(by=pm, **contract_kwargs(capability, business_owner=pm, analytics_owner=pm))
    contract_activate(contract=contract, by=pm)
    url = f"/admin/contracts/metriccontract/{contract.pk}/change/"
    client = client_for(superuser)
    assert client.get(url).status_code == 200
    data = edit_data(contract, breach="18")
    data["business_owner"] = pm.pk
    data["analytics_owner"] = pm.pk
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    decision = Decision.objects.get(type="metric_definition_change")
    assert decision.details["after"] == {"breach": 18.0}
    assert decision.readable_id in contract.history.latest().history_change_reason
    assert MetricContract.objects.get().status == "active"


def test_evaluations_and_observations_are_read_only_in_the_admin(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    for model in (Evaluation, Observation):
        admin = site._registry[model]
        assert not admin.has_add_permission(request)
        assert not admin.has_change_permission(request)
        assert not admin.has_delete_permission(request)
        assert admin.has_view_permission(request)
