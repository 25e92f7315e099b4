"""Login attempts are rate-limited (issue 9, django-axes): five wrong passwords for one username
from one address lock that pair out with a clear message; another address, a correct password
before the limit and the API tokens are not affected; the lock lifts after the cool-off."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from productops.tokens import token_create

pytestmark = pytest.mark.django_db

LOGIN = "/login/"
LOCKED = "Too many failed sign-in attempts for this username from your address."


def attempt(password, *, username="pm", address="10.0.0.1", client=None):
    client = client or Client(REMOTE_ADDR=address)
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def signed_in(response) -> bool:
    return response.status_code == 302 and response.wsgi_request.user.is_authenticated


def fail(times, **kwargs):
    return [attempt("wrong", **kwargs) for _ in range(times)]


def test_the_limit_is_five_failures_and_fifteen_minutes_by_default():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert settings.AXES_COOLOFF_TIME == datetime.timedelta(minutes=15)
    assert settings.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]


def test_four_wrong_passwords_say_the_password_is_wrong_and_the_right_one_still_signs_in(pm):
    for response in fail(4):
        assert response.status_code == 200
        assert "Please enter a correct username and password" in response.content.decode()
        assert LOCKED not in response.content.decode()
    assert signed_in(attempt("pw"))


def test_the_fifth_wrong_password_locks_the_username_out_from_that_address(pm):
    responses = fail(5)
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 429]
    html = responses[-1].content.decode()
    assert LOCKED in html
    assert "Try again in 15 minutes" in html
    # The sign-in page again, the username kept, no password echoed.
    assert 'id="id_username"' in html and 'value="pm"' in html
    assert 'name="password"' in html and "wrong" not in html

    locked = attempt("pw")
    assert locked.status_code == 429
    assert LOCKED in locked.content.decode()
    assert not locked.wsgi_request.user.is_authenticated
    assert "_auth_user_id" not in locked.wsgi_request.session


def test_the_lock_holds_for_that_username_and_address_only(pm, make_person):
    make_person("viewer", username="colleague")
    fail(5, address="10.0.0.1")
    assert attempt("pw", address="10.0.0.1").status_code == 429
    # The same person from another address, and a colleague from the same one, sign in.
    assert signed_in(attempt("pw", address="10.0.0.2"))
    assert signed_in(attempt("pw", username="colleague", address="10.0.0.1"))


def test_a_successful_sign_in_resets_the_count(pm):
    fail(4)
    assert signed_in(attempt("pw"))
    responses = fail(4)
    assert all(r.status_code == 200 for r in responses)
    assert signed_in(attempt("pw"))


def test_the_lock_lifts_after_the_cool_off(pm):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(5)
        assert attempt("pw").status_code == 429
    with time_machine.travel(start + datetime.timedelta(minutes=14), tick=False):
        assert attempt("pw").status_code == 429
    # Each try during the lock restarts the wait: 15 minutes after the last one, it is over.
    with time_machine.travel(start + datetime.timedelta(minutes=30), tick=False):
        assert signed_in(attempt("pw"))


def test_an_unknown_username_is_limited_too(db):
    responses = fail(5, username="nobody")
    assert responses[-1].status_code == 429


def test_api_tokens_still_work_for_a_locked_out_person(pm, capability):
    _token, raw = token_create(user=pm, name="CRM export job", scope="read")
    fail(5, address="127.0.0.1")
    assert attempt("pw", address="127.0.0.1").status_code == 429

    api = APIClient(REMOTE_ADDR="127.0.0.1")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    response = api.get("/api/v1/capabilities/")
    assert response.status_code == 200
    assert [row["slug"] for row in response.json()["results"]] == [capability.slug]


def test_a_signed_in_session_keeps_working_while_its_username_is_locked_elsewhere(pm, capability):
    browser = Client(REMOTE_ADDR="10.0.0.9")
    assert signed_in(attempt("pw", address="10.0.0.9", client=browser))
    fail(5, address="10.0.0.1")
    assert browser.get(capability.get_absolute_url(), REMOTE_ADDR="10.0.0.9").status_code == 200
