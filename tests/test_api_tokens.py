"""Personal API tokens: created on the user-menu page and shown once, stored as a digest,
revoked for good, scoped read or write, and acting with exactly their person's roles."""

import datetime
import hashlib
import re

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from portfolio.models import Capability
from productops.models import ApiToken
from productops.tokens import token_create

pytestmark = pytest.mark.django_db

PAGE = "/account/api-tokens/"
CAPABILITIES = "/api/v1/capabilities/"


def bearer(raw, keyword="Bearer"):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"{keyword} {raw}")
    return api


def create_on_page(client, **data):
    response = client.post(PAGE, {"name": "CRM export job", "scope": "write", **data})
    html = response.content.decode()
    match = re.search(r'id="new-token-value"[^>]*value="(po_[^"]+)"', html)
    return response, (match.group(1) if match else None)


def test_the_user_menu_leads_to_the_token_page(client_for, pm):
    html = client_for(pm).get("/").content.decode()
    assert f'href="{PAGE}"' in html


def test_a_token_is_shown_once_and_stored_only_as_a_digest(client_for, pm):
    client = client_for(pm)
    response, raw = create_on_page(client)
    assert response.status_code == 200
    assert raw and len(raw) > 40
    assert "shown only this once" in response.content.decode()
    token = ApiToken.objects.get()
    assert (token.user, token.name, token.scope) == (pm, "CRM export job", "write")
    assert token.digest == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.startswith(token.prefix) and len(token.prefix) < 15
    # Nothing stored holds the secret: not the row, not its history.
    stored = [str(value) for value in ApiToken.objects.values_list().get()]
    stored += [str(value) for row in token.history.values_list() for value in row]
    assert not any(raw in value or raw[len(token.prefix) :] in value for value in stored)
    # The page lists the token by its prefix and never shows the secret again.
    again = client.get(PAGE).content.decode()
    assert f"{token.prefix}…" in again
    assert raw not in again
    assert 'id="new-token-value"' not in again


def test_the_token_works_as_bearer_and_as_token(client_for, pm, capability):
    _, raw = create_on_page(client_for(pm), scope="read")
    for keyword in ("Bearer", "Token"):
        response = bearer(raw, keyword).get(CAPABILITIES)
        assert response.status_code == 200
        assert [row["slug"] for row in response.json()["results"]] == [capability.slug]


def test_a_bad_or_missing_token_is_refused_in_json(capability):
    for header in ("Bearer po_not-a-token", "Bearer", "Bearer a b"):
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=header)
        response = api.get(CAPABILITIES)
        assert response.status_code in (401, 403)
        assert "detail" in response.json()


def test_a_read_token_gets_a_clear_403_on_any_change(pm, capability):
    _, raw = token_create(user=pm, name="dashboard", scope="read")
    api = bearer(raw)
    response = api.patch(f"{CAPABILITIES}{capability.slug}/", {"success_risk": "No harm"}, format="json")
    assert response.status_code == 403
    assert "read-only" in response.json()["detail"]
    assert api.post("/api/v1/observations/", [], format="json").status_code == 403
    capability.refresh_from_db()
    assert capability.success_risk != "No harm"


def test_a_write_token_changes_what_its_person_may(pm, capability):
    _, raw = token_create(user=pm, name="release tool", scope="write")
    response = bearer(raw).patch(
        f"{CAPABILITIES}{capability.slug}/", {"success_risk": "No harm"}, format="json"
    )
    assert response.status_code == 200, response.json()
    capability.refresh_from_db()
    assert capability.success_risk == "No harm"
    # The change is the person's, in the asset's history.
    assert capability.history.latest().history_user == pm


def test_a_write_token_of_a_viewer_still_changes_nothing(viewer, capability, other_capability):
    _, raw = token_create(user=viewer, name="curious script", scope="write")
    api = bearer(raw)
    assert api.get(CAPABILITIES).status_code == 200
    response = api.patch(f"{CAPABILITIES}{capability.slug}/", {"name": "Renamed"}, format="json")
    assert response.status_code == 403
    created = api.post(CAPABILITIES, {"name": "Shadow AI", "slug": "shadow-ai"}, format="json")
    assert created.status_code in (400, 403)
    assert api.post("/api/v1/observations/", [], format="json").status_code == 403
    assert set(Capability.objects.values_list("slug", flat=True)) == {capability.slug, other_capability.slug}
    capability.refresh_from_db()
    assert capability.name == "Contact-centre agent assist"


def test_a_revoked_token_stops_working_and_stays_listed(client_for, pm, capability):
    client = client_for(pm)
    _, raw = create_on_page(client, scope="read")
    token = ApiToken.objects.get()
    assert bearer(raw).get(CAPABILITIES).status_code == 200
    confirm = client.get(f"{PAGE}{token.pk}/revoke/")
    assert "stops working at once" in confirm.content.decode()
    assert client.post(f"{PAGE}{token.pk}/revoke/").status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert bearer(raw).get(CAPABILITIES).status_code in (401, 403)
    page = client.get(PAGE).content.decode()
    assert "revoked" in page and token.prefix in page
    # Creation and revocation are in the token's history, with who did them.
    assert [
        (row.history_change_reason, row.history_user) for row in token.history.order_by("history_id")
    ] == [
        ("Token created", pm),
        ("Token revoked", pm),
    ]


def test_revoking_through_htmx_answers_the_panel(client_for, pm):
    client = client_for(pm)
    _, raw = create_on_page(client)
    token = ApiToken.objects.get()
    response = client.post(f"{PAGE}{token.pk}/revoke/", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="token-panel">')
    assert "revoked: it no longer works" in html


def test_an_expired_token_is_refused(pm, capability):
    token, raw = token_create(user=pm, name="short-lived", scope="read", expires_in_days=30)
    assert bearer(raw).get(CAPABILITIES).status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert bearer(raw).get(CAPABILITIES).status_code in (401, 403)


def test_an_inactive_persons_token_is_refused(pm, capability):
    _, raw = token_create(user=pm, name="job", scope="read")
    pm.is_active = False
    pm.save()
    assert bearer(raw).get(CAPABILITIES).status_code in (401, 403)


def test_use_is_recorded_without_a_history_row(pm, capability):
    token, raw = token_create(user=pm, name="job", scope="read")
    assert token.last_used_at is None
    bearer(raw).get(CAPABILITIES)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.history.count() == 1


def test_other_peoples_tokens_are_invisible_and_cannot_be_revoked(client_for, pm, viewer):
    theirs, _ = token_create(user=viewer, name="viewer's job", scope="read")
    client = client_for(pm)
    assert "viewer&#x27;s job" not in client.get(PAGE).content.decode()
    assert client.get(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"{PAGE}{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_bad_input_names_the_field_and_writes_nothing(client_for, pm):
    client = client_for(pm)
    response, raw = create_on_page(client, name="  ")
    assert response.status_code == 400 and raw is None
    assert "This field is required" in response.content.decode()
    create_on_page(client, name="job")
    response, raw = create_on_page(client, name="JOB")
    assert response.status_code == 400 and raw is None
    assert "already have a live token named" in response.content.decode()
    response, raw = create_on_page(client, name="other", scope="admin")
    assert response.status_code == 400 and raw is None
    assert ApiToken.objects.count() == 1


def test_the_admin_is_read_only(admin_client, pm):
    token, _ = token_create(user=pm, name="job", scope="read")
    assert admin_client.get("/admin/productops/apitoken/").status_code == 200
    assert admin_client.get("/admin/productops/apitoken/add/").status_code == 403
    detail = admin_client.get(f"/admin/productops/apitoken/{token.pk}/change/")
    assert detail.status_code == 200
    assert token.digest not in detail.content.decode()
    assert (
        admin_client.post(f"/admin/productops/apitoken/{token.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_the_docs_offer_the_bearer_scheme(client_for, viewer):
    schema = client_for(viewer).get("/api/schema/", {"format": "json"}).json()
    assert schema["components"]["securitySchemes"]["tokenAuth"]["scheme"] == "bearer"
    operation = schema["paths"]["/api/v1/observations/"]["post"]
    assert {"tokenAuth": []} in operation["security"]
