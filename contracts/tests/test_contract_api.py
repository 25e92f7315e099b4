"""/api/v1/contracts/ and /api/v1/signals/: the same rules as the pages, answered in JSON."""

import datetime

import pytest
from django.utils import timezone

from contracts.models import MetricContract, StopHold
from contracts.services import contract_activate, contract_create
from contracts.tests.factories import MetricContractFactory, SignalFactory, contract_kwargs
from decisions.models import Decision

pytestmark = [pytest.mark.django_db, pytest.mark.urls("contracts.tests.test_contract_urls")]

URL = "/api/v1/contracts/"
METRIC_ID = "cc_agent_assist.repeat_contact_7d"
DETAIL = f"{URL}{METRIC_ID}/"


@pytest.fixture
def analyst(make_person, capability):
    return make_person("analytics", capability, username="analyst")


@pytest.fixture
def contract(capability, pm, analyst):
    return contract_create(by=pm, **contract_kwargs(capability, business_owner=pm, analytics_owner=analyst))


@pytest.fixture
def active(contract, pm):
    return contract_activate(contract=contract, by=pm)


def body(capability, pm, analyst, **overrides):
    data = {
        "metric_id": METRIC_ID,
        "name": "Repeat contact within 7 days",
        "capability": capability.slug,
        "category": "outcome",
        "business_question": "Did agent assist reduce AHT without pushing customers to call again?",
        "numerator": "Customers with another contact within 7 days for the same intent",
        "denominator": "Assisted calls for eligible intents",
        "unit": "%",
        "direction": "lower",
        "business_owner": pm.username,
        "analytics_owner": analyst.username,
        "target": 10,
        "warning": 12,
        "breach": 15,
        "warning_action": "Sample 50 calls for QA",
        "warning_closure_criterion": "QA sample back under warning",
        "breach_action": "Hold releases for the affected intent",
        "breach_closure_criterion": "Back under warning for two weeks",
        "cohort_dimensions": ["intent", "team"],
        "required_cuts": ["intent"],
        "evidence_level": "E3",
        "next_review": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_anonymous_requests_are_refused(client, contract):
    assert client.get(URL).status_code == 403


def test_the_list_shows_only_visible_contracts_and_filters_like_the_page(
    api_for, pm, outsider, capability, other_capability, contract
):
    MetricContractFactory(capability=other_capability, metric_id="kyc_ai.cycle_time", category="cost")
    rows = api_for(pm).get(URL).json()["results"]
    assert [row["metric_id"] for row in rows] == [METRIC_ID]
    assert rows[0]["capability"] == capability.slug
    assert rows[0]["page"].endswith(f"/contracts/{METRIC_ID}/")
    assert [row["metric_id"] for row in api_for(outsider).get(URL).json()["results"]] == ["kyc_ai.cycle_time"]
    assert api_for(pm).get(URL, {"category": "cost"}).json()["results"] == []


def test_the_detail_is_addressed_by_metric_id_and_hidden_from_outsiders(api_for, pm, outsider, contract):
    response = api_for(pm).get(DETAIL)
    assert response.status_code == 200
    assert response.json()["cohort_dimensions"] == contract.cohort_dimensions
    assert api_for(outsider).get(DETAIL).status_code == 404


def test_the_pm_creates_a_draft_contract(api_for, pm, analyst, capability):
    response = api_for(pm).post(URL, body(capability, pm, analyst), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["status"] == "draft"
    contract = MetricContract.objects.get()
    assert contract.business_owner == pm and contract.required_cuts == ["intent"]
    assert contract.history.get().history_change_reason == "Contract drafted"


@pytest.mark.parametrize(
    ("direction", "thresholds", "field", "message"),
    [
        ("lower", {"target": 10, "warning": 16, "breach": 15}, "breach", "warning ≤ breach must hold"),
        ("higher", {"target": 80, "warning": 85, "breach": 70}, "warning", "target ≥ warning must hold"),
    ],
)
def test_incoherent_thresholds_are_refused_naming_the_field(
    api_for, pm, analyst, capability, direction, thresholds, field, message
):
    response = api_for(pm).post(
        URL, body(capability, pm, analyst, direction=direction, **thresholds), format="json"
    )
    assert response.status_code == 400
    assert message in response.json()[field][0]
    assert not MetricContract.objects.exists()


def test_bad_fields_are_named(api_for, pm, analyst, capability):
    response = api_for(pm).post(
        URL,
        body(capability, pm, analyst, metric_id="Repeat Contact", cohort_dimensions=["Intent"], target=None),
        format="json",
    )
    assert response.status_code == 400
    assert {"metric_id", "cohort_dimensions", "target"} <= set(response.json())


def test_a_guardrail_of_another_capability_is_refused_as_unknown(
    api_for, pm, analyst, capability, other_capability
):
    MetricContractFactory(capability=other_capability, metric_id="kyc_ai.cycle_time")
    response = api_for(pm).post(
        URL, body(capability, pm, analyst, guardrails=["kyc_ai.cycle_time"]), format="json"
    )
    assert response.status_code == 400
    assert "guardrails" in response.json()


def test_a_viewer_and_an_outsider_cannot_create(api_for, viewer, outsider, pm, analyst, capability):
    assert api_for(viewer).post(URL, body(capability, pm, analyst), format="json").status_code == 403
    assert api_for(outsider).post(URL, body(capability, pm, analyst), format="json").status_code == 403
    assert not MetricContract.objects.exists()


def test_a_definition_change_through_the_api_records_the_decision(api_for, pm, active):
    response = api_for(pm).patch(DETAIL, {"breach": 16, "population_channel": "Chat"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["breach"] == 16.0
    decision = Decision.objects.get(type="metric_definition_change")
    assert decision.details["before"] == {"population_channel": "", "breach": 15.0}
    assert decision.details["after"] == {"population_channel": "Chat", "breach": 16.0}


def test_an_incoherent_update_is_refused_naming_the_field(api_for, pm, active):
    response = api_for(pm).patch(DETAIL, {"target": 13}, format="json")
    assert response.status_code == 400
    assert "target ≤ warning must hold" in response.json()["warning"][0]
    assert not Decision.objects.exists()


def test_the_metric_id_cannot_be_changed(api_for, pm, active):
    response = api_for(pm).patch(DETAIL, {"metric_id": "cc_agent_assist.other"}, format="json")
    assert response.status_code == 200
    active.refresh_from_db()
    assert active.metric_id == METRIC_ID


def test_a_viewer_cannot_update_and_contracts_are_never_deleted(api_for, viewer, pm, contract):
    assert api_for(viewer).patch(DETAIL, {"name": "x"}, format="json").status_code == 403
    assert api_for(pm).delete(DETAIL).status_code == 405
    assert MetricContract.objects.filter(pk=contract.pk).exists()


def test_activation_names_what_is_missing(api_for, pm, capability):
    contract_create(by=pm, **contract_kwargs(capability, next_review=None))
    response = api_for(pm).post(f"{DETAIL}activate/")
    assert response.status_code == 400
    assert set(response.json()) == {"business_owner", "analytics_owner", "next_review"}


def test_activate_and_retire(api_for, pm, viewer, outsider, contract):
    assert api_for(pm).get(f"{DETAIL}activate/").status_code == 405
    assert api_for(viewer).post(f"{DETAIL}activate/").status_code == 403
    assert api_for(outsider).post(f"{DETAIL}activate/").status_code == 404
    response = api_for(pm).post(f"{DETAIL}activate/")
    assert response.status_code == 200 and response.json()["status"] == "active"
    assert api_for(pm).post(f"{DETAIL}activate/").status_code == 409
    refused = api_for(pm).post(f"{DETAIL}retire/", {"reason": ""}, format="json")
    assert refused.status_code == 400 and "reason" in refused.json()
    response = api_for(pm).post(f"{DETAIL}retire/", {"reason": "Replaced"}, format="json")
    assert response.json()["status"] == "retired"


# --- signals ------------------------------------------------------------------------------


def test_signals_are_listed_open_first_and_filtered(api_for, pm, outsider, capability, active):
    resolved = SignalFactory(contract=active, cut="intent=fees", resolved_period=datetime.date(2026, 2, 2))
    opened = SignalFactory(contract=active, cut="intent=billing", level="breach")
    api = api_for(pm)
    assert [row["id"] for row in api.get("/api/v1/signals/").json()["results"]] == [opened.pk, resolved.pk]
    assert [row["id"] for row in api.get("/api/v1/signals/", {"open": "true"}).json()["results"]] == [
        opened.pk
    ]
    assert [row["id"] for row in api.get("/api/v1/signals/", {"level": "breach"}).json()["results"]] == [
        opened.pk
    ]
    row = api.get(f"/api/v1/signals/{opened.pk}/").json()
    assert row["contract"] == METRIC_ID and row["capability"] == capability.slug and row["is_open"]
    assert api_for(outsider).get(f"/api/v1/signals/{opened.pk}/").status_code == 404
    assert api.post("/api/v1/signals/", {}, format="json").status_code == 405


def test_lifting_a_hold_goes_through_the_service(api_for, risk, pm, outsider, active):
    signal = SignalFactory(contract=active, level="stop", worst_level="stop")
    hold = StopHold.objects.create(capability=active.capability, signal=signal, reason="Stop rule fired")
    url = f"/api/v1/signals/{signal.pk}/lift-hold/"
    assert api_for(outsider).post(url, {"comment": "x"}, format="json").status_code == 404
    assert api_for(pm).post(url, {"comment": "x"}, format="json").status_code == 403  # not a risk role
    refused = api_for(risk).post(url, {"comment": ""}, format="json")
    assert refused.status_code == 400 and "comment" in refused.json()
    response = api_for(risk).post(url, {"comment": "Eval set updated"}, format="json")
    assert response.status_code == 200
    assert response.json()["stop_holds"][0]["lift_comment"] == "Eval set updated"
    hold.refresh_from_db()
    assert hold.lifted_by == risk
