"""The API under schemathesis (issue 9): every operation of the OpenAPI schema served at
/api/schema/, called with generated requests, valid and invalid, as a person with a write token
and roles on a capability that holds every asset; no answer is a 500, and every answer has a
status, content type and body that the schema documents.

Bounded and derandomized, so CI sees the same requests on every run: ``EXAMPLES`` generated
requests per operation plus the schema's own examples. Each operation runs in its own savepoint
of the world (tests/fuzz_world.py), so one operation's changes never reach another's. The
requests go to Django's WSGI handler in process, against the suite's PostgreSQL.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections, connection, transaction
from django.test.utils import override_settings
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import fuzz_world

EXAMPLES = 8
HOSTS = ["localhost", "testserver"]
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


class InProcessApp:
    """Django's WSGI application, keeping the test's database connection between requests.

    A real request closes the connection when it ends; here that connection holds the test's
    transaction, so (as Django's test client does) the recycling is switched off per call.
    """

    def __init__(self):
        self.handler = WSGIHandler()

    def __call__(self, environ, start_response):
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        try:
            response = self.handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                response.close()
        finally:
            signals.request_started.connect(close_old_connections)
            signals.request_finished.connect(close_old_connections)


APP = InProcessApp()
with override_settings(ALLOWED_HOSTS=HOSTS):
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        APP,
        # The coverage phase enumerates boundary values without a bound; generated examples
        # (valid and invalid) are bounded by EXAMPLES.
        config=schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}}),
    )

WORLD: dict = {}
# Body fields that name a record, and the kind of record (fuzz_world's ``references``).
REFERENCES = {
    "capability": "capabilities",
    "owner": "people",
    "reviewer": "people",
    "to": "people",
    "business_owner": "people",
    "analytics_owner": "people",
    "risk_reviewer": "people",
    "primary_metric": "metrics",
    "expected_metric": "metrics",
    "session": "sessions",
}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Most requests address a record that exists (so they reach the code behind the lookup);
    the generated value stays one choice among them, for the 404 of an unknown id."""
    if not path_parameters or not WORLD:
        return st.just(path_parameters)
    (name, generated), *rest = path_parameters.items()
    if rest:
        return st.just(path_parameters)
    prefix = context.operation.path.split("{")[0]
    known = WORLD["ids"].get(prefix) or WORLD["by_name"].get(name) or []
    return st.sampled_from([*known, generated]).map(lambda value: {name: value})


@schema.hook
def flatmap_body(context, body):
    """A body's references (the capability, an owner, a contract) name a record that exists in
    most requests, so creates and moves get past the lookup to the rules behind it."""
    if not isinstance(body, dict) or not WORLD:
        return st.just(body)
    choices = {
        name: st.sampled_from([*WORLD["references"][kind], value])
        for name, value in body.items()
        if (kind := REFERENCES.get(name)) and (value is None or isinstance(value, str | int))
    }
    if not choices:
        return st.just(body)
    return st.fixed_dictionaries(choices).map(lambda chosen: {**body, **chosen})


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """The world, built once for the module in a transaction rolled back at its end; each test's
    own transaction is a savepoint inside it."""
    from conftest import missing_service
    from productops.celery import app

    if connection.vendor != "postgresql":
        # The suite's database: several of the 500s this finds are PostgreSQL's refusals.
        missing_service("The API fuzzer runs against PostgreSQL: set DATABASE_URL.")
    media = tmp_path_factory.mktemp("fuzz-media")
    fast = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        MEDIA_ROOT=str(media),
        ALLOWED_HOSTS=HOSTS,
    )
    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    with django_db_blocker.unblock(), fast, transaction.atomic():
        WORLD.update(fuzz_world.build())
        try:
            yield WORLD
        finally:
            WORLD.clear()
            transaction.set_rollback(True)
    app.conf.task_always_eager = eager


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    # The world is shared by the examples of an operation on purpose (a move changes a state the
    # next example meets); generated bodies are large and slow to draw, which is fine here.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_answers_as_documented_and_never_500(case, world):
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {world['token']}"}
    case.call_and_validate(checks=CHECKS)
