"""The people bench/load.py sends at a ProductOps server (run by locust, headless, from
bench/load.py; not a pytest module).

- ``BoardReader``: someone opening the weekly ops board before the forum, again and again,
  in a browser session of their own.
- ``TelemetryPipeline``: a telemetry pipeline posting batches of observations with a write API
  token; the batches of all pipelines overlap (the same rows sent again, as a retrying pipeline
  does), so the idempotent upsert is under load, not only the insert.
- ``HealthProbe``: ``GET /healthz`` (one SQL ``SELECT 1``), the server's own floor.

Everything comes from the environment bench/load.py sets: ``LOAD_SESSIONS`` (session cookies,
comma-separated: bench/load.py signs the reader in beforehand, because 20 password checks at
once would measure the password hasher, not the board), ``LOAD_TOKEN``, ``LOAD_BOARD_PATH``,
``LOAD_BATCHES`` (a JSON file: a list of batches).

The server runs as in production (DEBUG off), behind a proxy that would terminate TLS: each
request says ``X-Forwarded-Proto: https``, and the secure session cookie is sent by hand.
"""

import itertools
import json
import os
import random

from locust import HttpUser, constant, task

FORWARDED = {"X-Forwarded-Proto": "https"}
SESSIONS = itertools.cycle(os.environ.get("LOAD_SESSIONS", "").split(","))


class BoardReader(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        self.headers = {**FORWARDED, "Cookie": f"sessionid={next(SESSIONS)}"}

    @task
    def weekly_board(self):
        with self.client.get(
            os.environ["LOAD_BOARD_PATH"],
            headers=self.headers,
            name="weekly board",
            allow_redirects=False,
            catch_response=True,
        ) as answer:
            # A lost session answers 302 to the login page: that is a failure here, not a page.
            if answer.status_code != 200:
                answer.failure(f"answered {answer.status_code}")


class TelemetryPipeline(HttpUser):
    wait_time = constant(0)

    def on_start(self):
        with open(os.environ["LOAD_BATCHES"], "rb") as batches:
            self.batches = [json.dumps(batch) for batch in json.load(batches)]
        self.headers = {
            **FORWARDED,
            "Authorization": f"Bearer {os.environ['LOAD_TOKEN']}",
            "Content-Type": "application/json",
        }

    @task
    def ingest(self):
        self.client.post(
            "/api/v1/observations/", data=random.choice(self.batches), headers=self.headers, name="ingest"
        )


class HealthProbe(HttpUser):
    wait_time = constant(0)

    @task
    def healthz(self):
        self.client.get("/healthz", headers=FORWARDED, name="healthz")
