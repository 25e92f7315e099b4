"""Fixtures every app's tests share: capabilities, people per role, a real browser, real services.

With PRODUCTOPS_REQUIRE_SERVICES=1 (set by .ci/run) a missing PostgreSQL, Redis or Chromium
fails the run; on a laptop the tests that need them skip and say why.
"""

import os
import shutil

import pytest

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to be called
# from such a thread unless told it is safe (it is: the loop only drives the browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

REQUIRE_SERVICES = os.environ.get("PRODUCTOPS_REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def pytest_sessionstart(session):
    if not REQUIRE_SERVICES:
        return
    from django.conf import settings

    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        pytest.exit(f"PRODUCTOPS_REQUIRE_SERVICES=1 but the database engine is {engine}, not PostgreSQL.", 3)
    if not settings.CELERY_BROKER_URL:
        pytest.exit("PRODUCTOPS_REQUIRE_SERVICES=1 but CELERY_BROKER_URL is not set.", 3)
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.exit(f"PRODUCTOPS_REQUIRE_SERVICES=1 but no Chromium at {CHROMIUM}.", 3)


def missing_service(reason: str):
    """Skip on a laptop, fail in CI."""
    if REQUIRE_SERVICES:
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture
def capability(db):
    from portfolio.tests.factories import CapabilityFactory

    return CapabilityFactory(name="Contact-centre agent assist", slug="cc-agent-assist")


@pytest.fixture
def other_capability(db):
    from portfolio.tests.factories import CapabilityFactory

    return CapabilityFactory(name="KYC onboarding assistant", slug="kyc-onboarding", risk_tier="critical")


@pytest.fixture
def make_person(db):
    """make_person("risk_compliance", capability=None) -> a user holding that role there."""
    from portfolio.tests.factories import RoleAssignmentFactory, UserFactory

    def make(role, capability=None, username=None):
        user = UserFactory(**({"username": username} if username else {}))
        RoleAssignmentFactory(user=user, role=role, capability=capability)
        return user

    return make


@pytest.fixture
def pm(make_person, capability):
    return make_person("ai_pm", capability, username="pm")


@pytest.fixture
def risk(make_person):
    return make_person("risk_compliance", username="risk")


@pytest.fixture
def executive(make_person):
    return make_person("executive", username="exec")


@pytest.fixture
def viewer(make_person):
    return make_person("viewer", username="viewer")


@pytest.fixture
def outsider(make_person, other_capability):
    """A PM of another capability: holds no role on ``capability``."""
    return make_person("ai_pm", other_capability, username="outsider")


@pytest.fixture
def org_pm(make_person):
    """An AI PM across the organisation (may create capabilities)."""
    return make_person("ai_pm", username="org-pm")


@pytest.fixture
def client_for(client):
    """client_for(user) -> the test client logged in as that person."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def api_for():
    """api_for(user) -> a DRF APIClient authenticated as that person."""
    from rest_framework.test import APIClient

    def make(user):
        api = APIClient()
        api.force_authenticate(user)
        return api

    return make


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the session, driven by Playwright."""
    if not os.path.exists(CHROMIUM):
        missing_service(f"Chromium not found at {CHROMIUM}: install Debian's chromium package.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def log_in(page, live_server):
    """log_in(username, password) in the real browser, through the login form."""

    def go(username, password="pw"):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return go


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; in tests it only costs minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
