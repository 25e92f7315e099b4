"""``/api/v1/experiments/``: the same services and moves as the pages, as JSON."""

import datetime

import pytest
from django.utils import timezone

from assumptions.models import AssumptionReview
from decisions.models import Decision
from experiments.models import Experiment
from experiments.tests.conftest import HYPOTHESIS

pytestmark = pytest.mark.django_db

LIST = "/api/v1/experiments/"


def url(experiment, action=""):
    return f"{LIST}{experiment.readable_id}/{action + '/' if action else ''}"


def body(capability, owner, **overrides):
    data = {
        "capability": capability.slug,
        "title": "Policy-cited suggestions",
        "hypothesis": HYPOTHESIS,
        "population": "Billing calls",
        "treatment": "Short suggestions with citations",
        "control_or_baseline": "Current suggestions",
        "primary_metric": "cc_agent_assist.aht_seconds",
        "guardrails": ["cc_agent_assist.repeat_contact_7d"],
        "start_date": timezone.localdate().isoformat(),
        "planned_end_date": (timezone.localdate() + datetime.timedelta(days=28)).isoformat(),
        "owner": owner.username,
    }
    data.update(overrides)
    return data


def tagged_data(observe, aht, repeat):
    observe(aht, "control", [400, 410, 420, 430], cohort={"intent": "billing"})
    observe(aht, "treatment", [380, 385, 390, 395], cohort={"intent": "billing"})
    observe(repeat, "control", [(12, 100), (11, 100), (13, 100)])
    observe(repeat, "treatment", [(11, 100), (10, 100), (12, 100)])


def test_the_pm_registers_an_experiment_through_the_api(api_for, pm, capability, aht, repeat, assumption):
    response = api_for(pm).post(
        LIST, body(capability, pm, tested_assumption=assumption.readable_id, arm_key="variant"), format="json"
    )
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["readable_id"] == "EXP-001" and data["state"] == "proposed"
    assert data["guardrails"] == ["cc_agent_assist.repeat_contact_7d"]
    assert data["arm_key"] == "variant" and data["tested_assumption"] == assumption.readable_id
    assert data["allowed_moves"] == ["start"]
    assert Experiment.objects.get().history.latest().history_change_reason == "Experiment registered"


def test_a_contract_of_another_capability_is_refused_naming_the_field(
    api_for, pm, capability, other_capability, aht
):
    from contracts.tests.factories import MetricContractFactory

    MetricContractFactory(capability=other_capability, status="active", metric_id="kyc_ai.rework_rate")
    response = api_for(pm).post(
        LIST, body(capability, pm, primary_metric="kyc_ai.rework_rate", guardrails=[]), format="json"
    )
    assert response.status_code == 400
    assert "primary_metric" in response.json()
    assert not Experiment.objects.exists()


def test_a_viewer_cannot_register_and_an_outsider_cannot_register_here(
    api_for, viewer, outsider, capability, aht, repeat, pm
):
    assert api_for(viewer).post(LIST, body(capability, pm), format="json").status_code == 403
    assert api_for(outsider).post(LIST, body(capability, pm), format="json").status_code == 403
    assert not Experiment.objects.exists()


def test_the_list_is_filtered_like_the_page(api_for, pm, outsider, make_experiment, bring_to):
    make_experiment(title="Shorter prompts")
    bring_to(make_experiment(title="Citation panel"), "decided")
    api = api_for(pm)
    assert [row["title"] for row in api.get(LIST, {"state": "decided"}).json()["results"]] == [
        "Citation panel"
    ]
    assert [row["title"] for row in api.get(LIST, {"q": "prompts"}).json()["results"]] == ["Shorter prompts"]
    assert api_for(outsider).get(LIST).json()["results"] == []


def test_update_goes_through_the_service(api_for, pm, experiment, bring_to):
    response = api_for(pm).patch(url(experiment), {"title": "Citations v2"}, format="json")
    assert response.status_code == 200 and response.json()["title"] == "Citations v2"
    bring_to(experiment, "running")
    response = api_for(pm).patch(url(experiment), {"hypothesis": "Something else"}, format="json")
    assert response.status_code == 400 and "hypothesis" in response.json()


def test_experiments_are_never_deleted(api_for, pm, experiment):
    assert api_for(pm).delete(url(experiment)).status_code == 405
    assert Experiment.objects.filter(pk=experiment.pk).exists()


def test_the_moves_and_the_decision_through_the_api(
    api_for, pm, make_experiment, assumption, observe, aht, repeat
):
    experiment = make_experiment(tested_assumption=assumption)
    tagged_data(observe, aht, repeat)
    api = api_for(pm)
    assert api.post(url(experiment, "start")).json()["state"] == "running"
    data = api.post(url(experiment, "readout")).json()
    assert data["state"] == "readout" and data["allowed_moves"] == ["extend", "decide"]
    response = api.post(
        url(experiment, "decide"),
        {"decision": "scale", "comment": "AHT down, guardrails held", "assumption_status": "confirmed"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    data = response.json()
    decision = Decision.objects.get()
    assert data["state"] == "decided" and data["decision"] == "scale"
    assert data["decision_record"] == decision.readable_id
    assert decision.evidence_links.filter(reference=experiment.readable_id).exists()
    assert AssumptionReview.objects.get().new_status == "confirmed"


def test_get_readout_returns_the_computed_figures(api_for, pm, experiment, bring_to, observe, aht, repeat):
    tagged_data(observe, aht, repeat)
    bring_to(experiment, "readout")
    data = api_for(pm).get(url(experiment, "readout")).json()
    assert data["experiment"] == "EXP-001" and data["frozen"] is False
    assert data["primary"]["difference"] == pytest.approx(-27.5)
    assert data["primary"]["control"]["sample_size"] == 40
    assert data["guardrails"][0]["status"] == "ok" and data["guardrails_held"] is True
    assert data["cohorts"][0]["dimension"] == "intent"
    assert data["cohorts"][0]["effects"][0]["label"] == "intent=billing"


def test_get_readout_of_a_decided_experiment_is_the_frozen_one(
    api_for, pm, experiment, bring_to, observe, aht, repeat
):
    tagged_data(observe, aht, repeat)
    bring_to(experiment, "decided")
    observe(aht, "treatment", [100, 100, 100], cohort={"intent": "card"})
    data = api_for(pm).get(url(experiment, "readout")).json()
    assert data["frozen"] is True and data["primary"]["difference"] == pytest.approx(-27.5)


def test_thin_data_reads_as_a_reason_not_a_number(api_for, pm, experiment, bring_to, observe, aht):
    observe(aht, "control", [400, 410])
    observe(aht, "treatment", [380, 385])
    bring_to(experiment, "running")
    primary = api_for(pm).get(url(experiment, "readout")).json()["primary"]
    assert primary["sufficient"] is False and primary["difference"] is None
    assert primary["control"]["value"] is None
    assert primary["reason"].startswith("Too few observations")


def test_an_illegal_move_is_a_409_naming_the_state(api_for, pm, experiment):
    response = api_for(pm).post(
        url(experiment, "decide"), {"decision": "stop", "comment": "x"}, format="json"
    )
    assert response.status_code == 409
    assert "not possible while the experiment is in proposed" in response.json()["status"][0]
    assert api_for(pm).post(url(experiment, "readout")).status_code == 409
    assert not Decision.objects.exists()


def test_a_missing_assumption_status_is_a_400_naming_the_field(
    api_for, pm, make_experiment, assumption, bring_to
):
    experiment = bring_to(make_experiment(tested_assumption=assumption), "readout")
    response = api_for(pm).post(
        url(experiment, "decide"), {"decision": "stop", "comment": "No"}, format="json"
    )
    assert response.status_code == 400 and "assumption_status" in response.json()


@pytest.mark.parametrize("action", ["start", "extend", "decide"])
def test_move_endpoints_reject_get(api_for, pm, experiment, action):
    assert api_for(pm).get(url(experiment, action)).status_code == 405


@pytest.mark.parametrize("action", ["start", "readout", "extend", "decide"])
def test_a_viewer_gets_403_and_an_outsider_404_on_every_move(api_for, viewer, outsider, experiment, action):
    payload = {"decision": "stop", "comment": "x"}
    assert api_for(viewer).post(url(experiment, action), payload, format="json").status_code == 403
    assert api_for(outsider).post(url(experiment, action), payload, format="json").status_code == 404
    assert api_for(outsider).get(url(experiment)).status_code == 404
    experiment.refresh_from_db()
    assert experiment.state == "proposed"


def test_analytics_may_read_out_but_not_decide(api_for, analyst, experiment, bring_to):
    bring_to(experiment, "readout")
    response = api_for(analyst).post(
        url(experiment, "decide"), {"decision": "stop", "comment": "x"}, format="json"
    )
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_the_schema_lists_the_experiment_endpoints(client_for, viewer):
    paths = client_for(viewer).get("/api/schema/", {"format": "json"}).json()["paths"]
    assert "/api/v1/experiments/{readable_id}/readout/" in paths
    assert set(paths["/api/v1/experiments/{readable_id}/readout/"]) >= {"get", "post"}
