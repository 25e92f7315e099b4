import pytest

pytestmark = pytest.mark.django_db


def test_a_missing_page_says_so_in_the_product_frame(client_for, viewer, settings):
    settings.DEBUG = False
    response = client_for(viewer).get("/capabilities/no-such-capability/")
    assert response.status_code == 404
    assert "belongs to a capability you hold no role on" in response.content.decode()


def test_a_refusal_names_the_reason(client_for, viewer, capability, settings):
    settings.DEBUG = False
    response = client_for(viewer).post(f"/capabilities/{capability.slug}/edit/", {})
    assert response.status_code == 403
    assert "Your roles do not allow you to change the product ops charter here." in response.content.decode()
