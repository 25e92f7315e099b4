"""Answers the API fuzzer (tests/test_api_fuzz.py) found wrong, each pinned by the request that
found it: every one was a 500 or an answer the OpenAPI schema did not describe."""

import datetime

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator

from actions.models import Action
from forums.choices import Cadence, Frequency, Weekday
from forums.models import Session
from forums.services import forum_create

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema():
    return SchemaGenerator().get_schema(request=None, public=True)


def component(schema, name):
    return schema["components"]["schemas"][name]


# --- addresses and query parameters --------------------------------------------------------------


def test_an_api_address_that_matches_no_route_answers_json(api_for, pm, client_for):
    # A quarter that is not one never reaches the view: the resolver's 404 was the HTML page.
    answer = api_for(pm).get("/api/v1/portfolio-reviews/next-quarter/")
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/json" and answer.json() == {"detail": "Not found."}
    page = client_for(pm).get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


@pytest.fixture
def sessions(pm, capability):
    forum = forum_create(
        by=pm,
        scope=[capability],
        attendees=[pm],
        name="Weekly ops review",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=pm,
        decision_types=["continue"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
    )
    at = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=datetime.UTC)
    return [
        Session.objects.create(
            forum=forum, scheduled_at=at + datetime.timedelta(days=7 * n), decision_requested="?"
        )
        for n in range(2)
    ]


def test_a_session_filter_reads_any_utc_offset_as_the_moment_it_names(api_for, pm, sessions):
    # "+16:37" is a valid ISO offset that PostgreSQL refuses in a query: it was a 500.
    api = api_for(pm)
    # 2026-03-10T02:40+16:37 is 2026-03-09T10:03 UTC: after the first session, before the second.
    answer = api.get("/api/v1/forum-sessions/", {"after": "2026-03-10T02:40:00+16:37"})
    assert answer.status_code == 200
    assert [row["id"] for row in answer.json()["results"]] == [sessions[1].pk]


def test_a_session_filter_too_near_year_one_is_a_400_naming_it(api_for, pm, sessions):
    answer = api_for(pm).get("/api/v1/forum-sessions/", {"before": "0001-01-01T00:00:00+01:00"})
    assert answer.status_code == 400 and list(answer.json()) == ["before"]


def test_a_nul_in_a_search_names_the_parameter(api_for, pm, capability):
    # DRF refused it with a bare list; every 400 of the API is an object naming the input.
    answer = api_for(pm).get("/api/v1/actions/", {"search": "fee\x00"})
    assert answer.status_code == 400 and list(answer.json()) == ["search"]


# --- bodies -----------------------------------------------------------------------------------------


def action_body(capability, pm, **changes):
    return {
        "capability": capability.slug,
        "action": "Sample 50 billing calls",
        "owner": pm.username,
        "due_date": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "closure_criterion": "QA sample below warning",
        **changes,
    }


@pytest.mark.parametrize("body_format", ["json", "multipart"])
def test_a_nul_in_a_value_that_names_a_record_is_a_400_naming_the_field(api_for, pm, capability, body_format):
    # An owner "pm\x00" went to the database as a username lookup, which PostgreSQL refused (500).
    answer = api_for(pm).post(
        "/api/v1/actions/", action_body(capability, pm, owner="pm\x00"), format=body_format
    )
    assert answer.status_code == 400 and list(answer.json()) == ["owner"]
    assert not Action.objects.exists()
    made = api_for(pm).post("/api/v1/actions/", action_body(capability, pm), format=body_format)
    assert made.status_code == 201


def test_a_nested_refusal_is_described_by_the_schema(api_for, pm, capability, schema):
    answer = api_for(pm).post(
        "/api/v1/actions/", action_body(capability, pm, reopen_trigger={}), format="json"
    )
    assert answer.status_code == 400 and answer.json() == {
        "reopen_trigger": {"kind": ["This field is required."]}
    }
    reasons = component(schema, "FieldErrors")["additionalProperties"]["anyOf"]
    assert {"$ref": "#/components/schemas/FieldErrors"} in reasons


# --- what the schema promises ---------------------------------------------------------------------


def test_read_only_fields_are_nullable_or_blank_where_their_column_is(schema):
    assert component(schema, "Action")["properties"]["escalated_to"]["nullable"] is True
    assert component(schema, "Decision")["properties"]["supersedes"]["nullable"] is True
    decision = component(schema, "Experiment")["properties"]["decision"]
    assert {"$ref": "#/components/schemas/BlankEnum"} in decision["oneOf"]
    link = component(schema, "ClosureEvidence")["properties"]["link"]
    assert {"type": "string", "maxLength": 0} in link["oneOf"]
    # A column that is never empty is not described as maybe empty.
    assert "nullable" not in component(schema, "Action")["properties"]["owner"]


def test_times_of_day_and_months_are_described_as_written(schema):
    time_of_day = component(schema, "Forum")["properties"]["time_of_day"]
    assert "format" not in time_of_day and time_of_day["pattern"].startswith("^\\d{2}:\\d{2}")
    month = component(schema, "ValueMemo")["properties"]["month"]
    assert "format" not in month and month["example"] == "2026-03"


def test_an_edit_of_a_record_documents_the_409_of_a_state_that_refuses_it(schema):
    operation = schema["paths"]["/api/v1/releases/{readable_id}/"]["patch"]
    assert "409" in operation["responses"]
