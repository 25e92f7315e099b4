"""POST /api/v1/observations/: bulk ingest over HTTP, the same rules as contracts.ingest."""

import datetime
import json

import pytest
from django.test import Client

from contracts.ingest import MAX_ROWS_PER_REQUEST
from contracts.models import Observation
from contracts.tests.factories import MetricContractFactory
from contracts.tests.test_ingest import MONDAY, daily_rows, ingest_urlconf, make_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(capability):
    return MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.repeat_contact_7d",
        cohort_dimensions=["intent", "team"],
    )


@pytest.fixture
def other_contract(other_capability):
    return MetricContractFactory(capability=other_capability, metric_id="kyc_onboarding.false_pass_rate")


URL = "/api/v1/observations/"


@pytest.fixture(autouse=True)
def _urls(settings):
    settings.ROOT_URLCONF = ingest_urlconf()


def post(api, body):
    return api.post(URL, body, format="json")


def test_anonymous_requests_are_refused(client, contract):
    response = client.post(URL, json.dumps([make_row(contract)]), content_type="application/json")
    assert response.status_code == 403
    assert not Observation.objects.exists()


def test_listing_observations_needs_a_contract(api_for, pm):
    # The table is read through (contract, period_start) only: no whole-table listing.
    response = api_for(pm).get(URL)
    assert response.status_code == 400
    assert "contract" in response.json()


def test_a_contracts_observations_are_listed_filtered_and_sorted(api_for, pm, contract, other_contract):
    api = api_for(pm)
    rows = [make_row(contract, period_start=f"2026-06-0{day}", value=day / 10) for day in (1, 2, 3)]
    assert post(api, rows).status_code == 200
    Observation.objects.create(contract=other_contract, period_start="2026-06-01", value=1, sample_size=10)
    listed = api.get(URL, {"contract": contract.metric_id}).json()
    assert listed["count"] == 3
    assert [row["period_start"] for row in listed["results"]] == ["2026-06-03", "2026-06-02", "2026-06-01"]
    assert listed["results"][0]["contract"] == contract.metric_id
    page = api.get(
        URL,
        {"contract": contract.metric_id, "period_from": "2026-06-02", "ordering": "value", "limit": 1},
    ).json()
    assert page["count"] == 2 and [row["value"] for row in page["results"]] == [0.2]
    # Another capability's contract shows nothing, as if it had no observations.
    assert api.get(URL, {"contract": other_contract.metric_id}).json()["count"] == 0


def test_a_viewer_is_refused_and_nothing_is_written(api_for, viewer, contract):
    response = post(api_for(viewer), [make_row(contract)])
    assert response.status_code == 403
    assert "ingest" in response.json()["detail"]
    assert not Observation.objects.exists()


def test_an_outsider_is_told_the_contract_is_unknown_and_nothing_is_written(api_for, outsider, contract):
    response = post(api_for(outsider), [make_row(contract)])
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "row": 1,
                "field": "contract",
                "error": "Unknown contract “cc_agent_assist.repeat_contact_7d”, or not one you may ingest for.",
            }
        ]
    }
    assert not Observation.objects.exists()


def test_the_pm_ingests_a_batch_and_resending_it_changes_nothing(api_for, pm, contract):
    rows = daily_rows(contract, days=5)
    api = api_for(pm)

    first = post(api, rows)
    assert first.status_code == 200
    assert first.json() == {"received": 10, "written": 10, "unchanged": 0, "contracts": [contract.metric_id]}
    stored = list(Observation.objects.order_by("pk").values())

    second = post(api, rows)
    assert second.json() == {"received": 10, "written": 0, "unchanged": 10, "contracts": []}
    assert list(Observation.objects.order_by("pk").values()) == stored


def test_a_bad_batch_answers_400_with_every_row_and_field_and_writes_nothing(api_for, pm, contract):
    rows = daily_rows(contract, days=20)
    rows[0]["denominator"] = -1
    rows[7]["cohort"] = {"channel": "chat"}
    del rows[30]["period_start"]
    rows[39]["value"] = "twelve"

    response = post(api_for(pm), rows)

    assert response.status_code == 400
    assert [(e["row"], e["field"]) for e in response.json()["errors"]] == [
        (1, "denominator"),
        (8, "cohort"),
        (31, "period_start"),
        (40, "value"),
    ]
    assert not Observation.objects.exists()


def test_nan_and_infinity_in_the_body_are_refused_by_row(api_for, pm, contract):
    body = json.dumps([make_row(contract), make_row(contract, grain="month", value=float("nan"))])
    assert "NaN" in body  # json.dumps writes the non-standard literal, as many pipelines do
    response = api_for(pm).post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == [{"row": 2, "field": "value", "error": "nan is not a finite number."}]


def test_10000_rows_are_accepted_and_10001_refused_naming_the_limit(api_for, pm, contract):
    rows = daily_rows(contract, days=MAX_ROWS_PER_REQUEST // 2)
    assert len(rows) == 10_000
    api = api_for(pm)
    assert post(api, rows).json()["written"] == 10_000

    response = post(api, [*rows, make_row(contract, grain="week")])
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "row": None,
                "field": "non_field_errors",
                "error": "At most 10,000 rows a request; this one has 10,001. Split the batch.",
            }
        ]
    }


@pytest.mark.parametrize(
    "body, words",
    [
        ('{"contract": "x"}', "JSON list"),
        ("[{", "not valid JSON"),
    ],
)
def test_a_body_that_is_not_a_json_list_is_refused(api_for, pm, body, words):
    response = api_for(pm).post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert words in json.dumps(response.json())


def test_the_session_login_with_csrf_works_like_the_telemetry_pipeline(pm, contract):
    client = Client(enforce_csrf_checks=True)
    client.force_login(pm)
    refused = client.post(URL, json.dumps([make_row(contract)]), content_type="application/json")
    assert refused.status_code == 403  # no CSRF token
    client.get("/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        URL, json.dumps([make_row(contract)]), content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200


@pytest.mark.parametrize("days", [50, 500])
def test_the_query_count_does_not_grow_with_the_batch(
    api_for, pm, contract, days, django_assert_max_num_queries
):
    api = api_for(pm)
    # Session-free client: roles (1), contracts (1), then the write (at most 6 with savepoints),
    # plus the savepoint of the request's own transaction (productops.api.AtomicWritesMixin, 2).
    with django_assert_max_num_queries(10):
        response = post(api, daily_rows(contract, days=days))
    assert response.json()["written"] == 2 * days


def test_the_openapi_schema_documents_the_list_body_and_both_answers(api_for, pm):
    schema = api_for(pm).get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/observations/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert body["items"]["$ref"].endswith("/ObservationRow")
    # Its own 400 (row by row) and the 403 every operation documents (productops.api_schema).
    assert set(operation["responses"]) == {"200", "400", "403"}
    assert operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/IngestErrors"
    )
    row = schema["components"]["schemas"]["ObservationRow"]
    assert {"contract", "period_start", "value", "sample_size"} <= set(row["required"])


@pytest.mark.parametrize(
    "change, field",
    [
        ({"contract": "cc_agent_assist\x00"}, "contract"),
        ({"cohort": {"intent": "bill\x00ing"}}, "cohort"),
        ({"cohort": {"in\x00tent": "billing"}}, "cohort"),
        ({"version_set": {"prompt": "v\x00"}}, "version_set"),
        ({"source": "crm\x00"}, "source"),
    ],
)
def test_text_with_a_nul_character_is_refused_naming_row_and_field(api_for, pm, contract, change, field):
    # Found by the API fuzzer: PostgreSQL stores no NUL, and the batch failed in the database (500).
    next_day = (MONDAY + datetime.timedelta(days=1)).isoformat()
    rows = [make_row(contract), {**make_row(contract, period_start=next_day), **change}]
    response = post(api_for(pm), rows)
    assert response.status_code == 400
    assert {(error["row"], error["field"]) for error in response.json()["errors"]} == {(2, field)}
    assert not Observation.objects.exists()


def test_a_body_that_is_not_utf8_is_refused_in_the_shape_of_every_ingest_error(api_for, pm):
    # Found by the API fuzzer: the parser answered {"detail": ...}, not the documented {"errors": [...]}.
    response = api_for(pm).post(URL, b"\xb1", content_type="application/json")
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["row"] is None and error["field"] == "non_field_errors"
    assert "not valid JSON" in error["error"]
