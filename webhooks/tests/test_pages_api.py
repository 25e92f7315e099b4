"""The settings pages and the API: organisation admins only; the secret shown once; a bad URL
is a field error; ping, disable and retry from the page; the same through /api/v1/webhooks/."""

import pytest
from django.urls import reverse

from webhooks.models import Delivery, Endpoint

pytestmark = pytest.mark.django_db

HTTPS = "https://chat.example.com/hooks/abc"


@pytest.fixture
def endpoint(make_endpoint):
    return make_endpoint(HTTPS)


# --- who may -------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["pm", "viewer", "executive", "risk", "outsider"])
def test_people_who_are_not_organisation_admins_can_neither_see_nor_change_webhooks(
    request, who, endpoint, client_for, api_for
):
    person = request.getfixturevalue(who)
    client = client_for(person)
    pages = [
        ("get", reverse("webhooks:settings")),
        ("get", reverse("webhooks:endpoint-create")),
        ("get", endpoint.get_absolute_url()),
        ("get", reverse("webhooks:endpoint-edit", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint-toggle", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint-rotate-secret", args=[endpoint.pk])),
        ("post", reverse("webhooks:endpoint-ping", args=[endpoint.pk])),
    ]
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code == 403, url
        assert endpoint.secret not in response.content.decode()
    api = api_for(person)
    assert api.get("/api/v1/webhooks/endpoints/").status_code == 403
    assert api.get("/api/v1/webhooks/deliveries/").status_code == 403
    assert (
        api.post(
            "/api/v1/webhooks/endpoints/",
            {"name": "x", "url": HTTPS, "events": ["incident.sev1"]},
            format="json",
        ).status_code
        == 403
    )
    assert (
        api.patch(f"/api/v1/webhooks/endpoints/{endpoint.pk}/", {"active": False}, format="json").status_code
        == 403
    )
    endpoint.refresh_from_db()
    assert endpoint.active and Endpoint.objects.count() == 1
    assert "Webhooks" not in client.get(reverse("home")).content.decode()


def test_an_anonymous_caller_is_sent_to_log_in_or_refused(client, endpoint):
    assert client.get(reverse("webhooks:settings")).status_code == 302
    assert client.get("/api/v1/webhooks/endpoints/").status_code in (401, 403)


# --- the pages -----------------------------------------------------------------------------


def test_an_admin_creates_an_endpoint_and_sees_its_secret_once(admin, client_for):
    client = client_for(admin)
    assert "Webhooks" in client.get(reverse("home")).content.decode()  # in the user menu
    response = client.post(
        reverse("webhooks:endpoint-create"),
        {"name": "Ops chat", "url": HTTPS, "events": ["signal.opened", "incident.sev1"], "active": "on"},
    )
    endpoint = Endpoint.objects.get()
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert endpoint.secret.startswith("whsec_") and endpoint.secret in response.content.decode()
    assert (endpoint.events, endpoint.active, endpoint.created_by) == (
        ["signal.opened", "incident.sev1"],
        True,
        admin,
    )
    # Never again: not on its page, not in the list, not in the API.
    assert endpoint.secret not in client.get(endpoint.get_absolute_url()).content.decode()
    listing = client.get(reverse("webhooks:settings")).content.decode()
    assert "Ops chat" in listing and endpoint.secret not in listing
    assert "secret" not in client.get(f"/api/v1/webhooks/endpoints/{endpoint.pk}/").json()


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://chat.example.com/hooks", "Use an https:// address"),
        ("ftp://chat.example.com/hooks", "Enter a full http:// or https:// address."),
        ("chat.example.com", "Enter a full http:// or https:// address."),
        ("https://user:pw@chat.example.com/hooks", "Put no user name or password"),
    ],
)
def test_a_bad_url_is_a_field_error_on_the_page_and_in_the_api(admin, client_for, api_for, url, message):
    response = client_for(admin).post(
        reverse("webhooks:endpoint-create"), {"name": "Ops chat", "url": url, "events": ["incident.sev1"]}
    )
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["url"])
    answer = api_for(admin).post(
        "/api/v1/webhooks/endpoints/",
        {"name": "Ops chat", "url": url, "events": ["incident.sev1"]},
        format="json",
    )
    assert answer.status_code == 400
    assert message in answer.json()["url"][0]
    assert not Endpoint.objects.exists()


def test_plain_http_is_allowed_for_localhost_and_when_debug_is_on(admin, api_for, settings):
    api = api_for(admin)
    local = api.post(
        "/api/v1/webhooks/endpoints/",
        {"name": "Relay", "url": "http://localhost:9000/h", "events": ["ping"]},
        format="json",
    )
    assert local.status_code == 400 and "events" in local.json()  # a ping is sent, never subscribed to
    assert (
        api.post(
            "/api/v1/webhooks/endpoints/",
            {"name": "Relay", "url": "http://localhost:9000/h", "events": ["incident.sev1"]},
            format="json",
        ).status_code
        == 201
    )
    settings.DEBUG = True
    assert (
        api.post(
            "/api/v1/webhooks/endpoints/",
            {"name": "Lab", "url": "http://lab.internal/h", "events": ["incident.sev1"]},
            format="json",
        ).status_code
        == 201
    )


def test_an_endpoint_needs_a_name_and_an_event(admin, client_for):
    response = client_for(admin).post(reverse("webhooks:endpoint-create"), {"name": "Ops chat", "url": HTTPS})
    assert response.context["form"].errors["events"] == ["Choose at least one event."]
    assert not Endpoint.objects.exists()


def test_an_admin_edits_disables_and_rotates_the_secret(admin, client_for, endpoint):
    client = client_for(admin)
    old_secret = endpoint.secret
    response = client.post(
        reverse("webhooks:endpoint-edit", args=[endpoint.pk]),
        {"name": "Risk chat", "url": HTTPS, "events": ["incident.sev1"], "active": "on"},
    )
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.events) == ("Risk chat", ["incident.sev1"])

    client.post(reverse("webhooks:endpoint-toggle", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.active is False
    assert "Disabled" in client.get(reverse("webhooks:settings")).content.decode()

    response = client.post(reverse("webhooks:endpoint-rotate-secret", args=[endpoint.pk]))
    endpoint.refresh_from_db()
    assert endpoint.secret != old_secret and endpoint.secret in response.content.decode()
    # Who changed what is on record; the secret is not.
    assert endpoint.history.first().history_user == admin
    assert not hasattr(endpoint.history.first(), "secret")


def test_a_test_ping_from_the_page_reaches_the_receiver_and_shows_in_the_log(
    admin, client_for, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:endpoint-ping", args=[endpoint.pk]), follow=True)
    assert "Test ping queued" in response.content.decode()
    assert receiver.events() == ["ping"]
    delivery = Delivery.objects.get()
    assert delivery.status == "delivered"
    page = client.get(endpoint.get_absolute_url()).content.decode()
    assert f'data-delivery="{delivery.pk}"' in page and "Delivered" in page
    detail = client.get(reverse("webhooks:delivery-detail", args=[delivery.pk])).content.decode()
    assert "answer 200" in detail and "this endpoint is wired" in detail


def test_a_failed_delivery_shows_in_the_log_and_the_retry_button_sends_it_again(
    admin, client_for, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint = make_endpoint(receiver.url)
    receiver.default_status = 410
    client = client_for(admin)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("webhooks:endpoint-ping", args=[endpoint.pk]))
    delivery = Delivery.objects.get()
    failed = client.get(reverse("webhooks:settings") + "?status=failed").content.decode()
    assert f'data-delivery="{delivery.pk}"' in failed and "Failed" in failed
    assert reverse("webhooks:delivery-retry", args=[delivery.pk]) in failed

    receiver.default_status = 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("webhooks:delivery-retry", args=[delivery.pk]), follow=True)
    assert "queued again" in response.content.decode()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    # A delivered one is not retried.
    response = client.post(reverse("webhooks:delivery-retry", args=[delivery.pk]), follow=True)
    assert "Only a failed delivery is retried" in response.content.decode()


def test_a_disabled_endpoint_cannot_be_pinged(admin, client_for, make_endpoint):
    endpoint = make_endpoint(HTTPS, active=False)
    response = client_for(admin).post(reverse("webhooks:endpoint-ping", args=[endpoint.pk]), follow=True)
    assert "Enable the endpoint before sending it a test ping." in response.content.decode()
    assert not Delivery.objects.exists()


# --- the API -------------------------------------------------------------------------------


def test_the_api_creates_lists_edits_pings_and_retries(
    admin, api_for, receiver, django_capture_on_commit_callbacks
):
    api = api_for(admin)
    created = api.post(
        "/api/v1/webhooks/endpoints/",
        {"name": "Ops chat", "url": receiver.url, "events": ["release.awaiting_approval"]},
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    endpoint = Endpoint.objects.get()
    assert body["secret"] == endpoint.secret and body["active"] is True
    listed = api.get("/api/v1/webhooks/endpoints/").json()
    assert [row["name"] for row in listed["results"]] == ["Ops chat"]
    assert "secret" not in listed["results"][0]

    receiver.default_status = 404
    with django_capture_on_commit_callbacks(execute=True):
        pinged = api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/ping/")
    assert pinged.status_code == 202
    delivery_id = pinged.json()["id"]
    log = api.get("/api/v1/webhooks/deliveries/", {"status": "failed"}).json()["results"]
    assert [(row["id"], row["event"], row["last_status_code"], row["attempts"]) for row in log] == [
        (delivery_id, "ping", 404, 1)
    ]
    receiver.default_status = 200
    with django_capture_on_commit_callbacks(execute=True):
        retried = api.post(f"/api/v1/webhooks/deliveries/{delivery_id}/retry/")
    assert retried.status_code == 202
    assert Delivery.objects.get().status == "delivered"
    again = api.post(f"/api/v1/webhooks/deliveries/{delivery_id}/retry/")
    assert again.status_code == 409 and "status" in again.json()

    patched = api.patch(f"/api/v1/webhooks/endpoints/{endpoint.pk}/", {"active": False}, format="json")
    assert patched.status_code == 200 and patched.json()["active"] is False
    rotated = api.post(f"/api/v1/webhooks/endpoints/{endpoint.pk}/rotate-secret/").json()
    endpoint.refresh_from_db()
    assert rotated["secret"] == endpoint.secret
    assert api.delete(f"/api/v1/webhooks/endpoints/{endpoint.pk}/").status_code == 405
