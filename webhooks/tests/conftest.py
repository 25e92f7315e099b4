"""Fixtures of the webhook tests: a real HTTP receiver on 127.0.0.1 (``http.server`` in a
thread) that records every request and answers with scripted status codes, an organisation
admin, and endpoints made through the service."""

import http.server
import threading
from dataclasses import dataclass, field

import pytest

from releases.tests.conftest import (  # noqa: F401  (fixtures reused from the release calendar)
    analyst,
    architect,
    attest_all,
    make_release,
    risk_partner,
    submitted,
)
from webhooks.choices import SUBSCRIBABLE_EVENTS

ALL_EVENTS = [key for key, _label in SUBSCRIBABLE_EVENTS]


@dataclass
class Received:
    path: str
    headers: dict
    body: bytes


@dataclass
class Receiver:
    """What the local server got, and the codes it answers next (then ``default_status``)."""

    url: str
    requests: list = field(default_factory=list)
    script: list = field(default_factory=list)
    default_status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> int:
        with self.lock:
            return self.script.pop(0) if self.script else self.default_status

    def events(self) -> list[str]:
        return [request.headers["X-ProductOps-Event"] for request in self.requests]


@pytest.fixture
def receiver():
    """A receiver listening on 127.0.0.1 at a free port, stopped after the test."""
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with state.lock:
                state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = state.answer()
            reply = f"answer {status}".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/productops"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def admin(make_person):
    """An organisation admin: the AI PM across the organisation (A/R on the charter)."""
    return make_person("ai_pm", username="org-admin")


@pytest.fixture
def make_endpoint(admin):
    from webhooks.services import endpoint_create

    def make(url, *, events=None, active=True, name="Ops chat"):
        return endpoint_create(by=admin, name=name, url=url, events=events or ALL_EVENTS, active=active)

    return make
