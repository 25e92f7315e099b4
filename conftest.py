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
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    return go


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness protects real passwords; in tests it only costs minutes.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _tasks_run_in_process(request):
    """Tasks run eagerly in tests, except in those that ask for a real worker.

    With CELERY_BROKER_URL set (CI), a task queued by an ordinary test would otherwise wait in
    Redis for a worker that never comes, and later be picked up by another test's worker.
    """
    from productops.celery import app

    if "real_celery_worker" in request.fixturenames:
        yield
        return
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture
def celery_worker_env():
    """Extra environment for ``real_celery_worker``'s process; a test module overrides this
    fixture, e.g. ``{"EMAIL_URL": "smtp://127.0.0.1:2525"}`` to send through a local listener
    instead of the file backend (``mail_dir`` then stays empty)."""
    return {}


@pytest.fixture
def real_celery_worker(transactional_db, tmp_path, celery_worker_env):
    """A real ``celery worker`` process on its own queue, reading the test database.

    Yields an object with ``mail_dir`` (e-mails the worker sent, one file each) and ``stop()``.
    Needs PostgreSQL and Redis (the worker is another process: SQLite's in-memory test database
    is invisible to it); skips on a laptop without them, fails in CI. ``celery_worker_env``
    adds to (or overrides) the worker's environment.
    """
    import subprocess
    import sys
    import time
    import uuid

    from django.conf import settings
    from django.db import connection

    from productops.celery import app

    if not settings.CELERY_BROKER_URL:
        missing_service("A real Celery worker needs CELERY_BROKER_URL (Redis).")
    if connection.vendor != "postgresql":
        missing_service("A real Celery worker needs PostgreSQL (it cannot see an in-memory SQLite test DB).")

    queue = f"test-{uuid.uuid4().hex[:10]}"
    mail_dir = tmp_path / "mail"
    mail_dir.mkdir()
    db = connection.settings_dict
    database_url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": f"filemail://{mail_dir}",
        "DEBUG": "true",
        **celery_worker_env,
    }
    log = open(tmp_path / "worker.log", "w")
    node = f"{queue}@localhost"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "productops",
            "worker",
            "-Q",
            queue,
            "-n",
            node,
            "--concurrency",
            "1",
            "--pool",
            "prefork",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "info",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    app.conf.task_always_eager = False

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"celery worker exited: {(tmp_path / 'worker.log').read_text()[-2000:]}")
        if app.control.ping(destination=[node], timeout=0.5):
            break
    else:
        process.kill()
        pytest.fail("celery worker did not answer a ping within 30 s")

    class Worker:
        pass

    worker = Worker()
    worker.process, worker.queue, worker.mail_dir, worker.log_path = (
        process,
        queue,
        mail_dir,
        tmp_path / "worker.log",
    )

    def stop():
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()

    worker.stop = stop
    yield worker
    stop()
    log.close()
    app.conf.task_default_queue = previous_queue
    with app.connection_for_write() as conn:  # leave nothing behind in Redis
        conn.default_channel.queue_purge(queue)
