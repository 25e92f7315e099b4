import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_openapi_schema_lists_the_capability_endpoints(client_for, viewer):
    response = client_for(viewer).get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert "/api/v1/capabilities/" in response.json()["paths"]


def test_the_api_docs_load_swagger_from_our_static_files(client_for, viewer):
    html = client_for(viewer).get("/api/docs/").content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"""(src|href)=["']https?://""", html)
