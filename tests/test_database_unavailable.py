"""A database that cannot be reached answers 503 with a clear message (JSON for the API, a page
for people), never a 500; an API write whose answer could not be read back is not saved.

The real thing (PostgreSQL stopped and started under load) is tests/test_database_restart.py;
these check the same answers on the test client in a moment.
"""

import datetime
from unittest import mock

import pytest
from django.db import InterfaceError, OperationalError
from django.test import Client

from actions.models import Action

pytestmark = pytest.mark.django_db

MESSAGE = (
    "The database cannot be reached right now (it may be restarting). Nothing from this request "
    "was saved; try again in a few seconds."
)


@pytest.fixture
def signed_in_client(settings, pm):
    settings.DEBUG = False  # handler500 answers only with DEBUG off, as in a team install
    client = Client(raise_request_exception=False)
    client.force_login(pm)
    return client


def session_lost(error):
    """Reading the session (the first query of every request) raises ``error``."""
    return mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=error)


@pytest.mark.parametrize(
    "error", [OperationalError("connection refused"), InterfaceError("connection already closed")]
)
def test_the_api_answers_503_json_while_the_database_is_away(signed_in_client, error):
    with session_lost(error):
        response = signed_in_client.post("/api/v1/actions/", {}, content_type="application/json")
    assert response.status_code == 503
    assert response.json() == {"detail": MESSAGE, "code": "database_unavailable"}
    assert response["Retry-After"] == "5"


def test_a_page_says_the_database_is_away_with_503(signed_in_client):
    with session_lost(OperationalError("the database system is shutting down")):
        response = signed_in_client.get("/actions/")
    assert response.status_code == 503
    page = response.content.decode()
    assert "ProductOps is briefly unavailable" in page
    assert MESSAGE in page


def test_any_other_error_is_still_the_500_page(signed_in_client):
    with session_lost(RuntimeError("a bug")):
        response = signed_in_client.get("/actions/")
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()


def test_an_api_write_whose_answer_cannot_be_read_back_is_not_saved(signed_in_client, capability, pm):
    """The database goes away after the action is written but before the answer is read: the
    client is told 503, and the action is not there (it would otherwise be raised twice by a
    client that retries)."""
    body = {
        "capability": capability.slug,
        "action": "Sample 50 edited suggestions",
        "owner": pm.username,
        "due_date": (datetime.date.today() + datetime.timedelta(days=7)).isoformat(),
        "closure_criterion": "Defect class below warning",
    }
    lost = OperationalError("server closed the connection unexpectedly")
    with mock.patch("actions.api.serializers.ActionSerializer.get_allowed_moves", side_effect=lost):
        response = signed_in_client.post("/api/v1/actions/", body, content_type="application/json")
    assert response.status_code == 503
    assert not Action.objects.exists()

    response = signed_in_client.post("/api/v1/actions/", body, content_type="application/json")
    assert response.status_code == 201
    assert Action.objects.count() == 1


def test_a_refused_api_write_leaves_nothing_behind(signed_in_client, capability, pm):
    response = signed_in_client.post(
        "/api/v1/actions/",
        {"capability": capability.slug, "action": "No owner", "closure_criterion": "x"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert not Action.objects.exists()
