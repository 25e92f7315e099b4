"""The product runs in closed bank networks: no page may load anything from the network."""

import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders

ROOT = Path(__file__).resolve().parent.parent
REMOTE = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//""", re.IGNORECASE)


def template_files():
    return [p for p in ROOT.glob("**/templates/**/*.html") if ".venv" not in p.parts]


def test_no_template_loads_from_the_network():
    offenders = [str(p) for p in template_files() if REMOTE.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize(
    "asset",
    ["django_htmx/htmx-2.min.js", "vendor/bootstrap/bootstrap.min.css", "vendor/plotly/plotly.min.js"],
)
def test_vendored_assets_are_served_from_static(asset):
    assert finders.find(asset), asset


@pytest.mark.django_db
def test_the_rendered_page_references_only_local_assets(client_for, viewer):
    html = client_for(viewer).get("/").content.decode()
    assert not REMOTE.search(html)
    assert "/static/django_htmx/htmx-2.min.js" in html
