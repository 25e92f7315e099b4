"""Settings come from the environment and fail loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from productops import env

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def environ(monkeypatch):
    def set_(**values):
        for key, value in values.items():
            monkeypatch.setenv(key, value)

    return set_


def test_a_mistyped_boolean_stops_start_up_naming_the_variable(environ):
    environ(DEBUG="flase")
    with pytest.raises(ImproperlyConfigured, match="DEBUG='flase'"):
        env.env_bool("DEBUG", True)


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("Off", False), ("YES", True)])
def test_booleans_accept_the_usual_spellings(environ, raw, expected):
    environ(DEBUG=raw)
    assert env.env_bool("DEBUG", not expected) is expected


def test_an_unknown_time_zone_is_refused(environ):
    environ(TIME_ZONE="Mars/Olympus")
    with pytest.raises(ImproperlyConfigured, match="TIME_ZONE"):
        env.env_time_zone("TIME_ZONE", "UTC")


def test_a_bad_number_is_refused(environ):
    environ(CELERY_VISIBILITY_TIMEOUT="soon")
    with pytest.raises(ImproperlyConfigured, match="CELERY_VISIBILITY_TIMEOUT"):
        env.env_int("CELERY_VISIBILITY_TIMEOUT", 900)


def test_no_database_url_means_the_embedded_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    config = env.env_database("DATABASE_URL", tmp_path / "db.sqlite3")
    assert config == {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3")}


def test_a_postgres_url_configures_psycopg_with_pooled_connections(environ):
    environ(DATABASE_URL="postgres://po:secret@db.internal:5432/productops")
    config = env.env_database("DATABASE_URL", "unused")
    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["NAME"], config["USER"]) == ("db.internal", "productops", "po")
    assert config["CONN_HEALTH_CHECKS"] is True


@pytest.mark.django_db
def test_postgres_connections_run_without_jit():
    """The boards' wide observation reads cost seconds of JIT compiling (bench/README.md)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone() == ("off",)


def test_a_database_url_may_set_its_own_connection_options(environ):
    environ(DATABASE_URL="postgres://po@db.internal:5432/productops?options=-c%20statement_timeout%3D5000")
    config = env.env_database("DATABASE_URL", "unused")
    assert config["OPTIONS"]["options"] == "-c statement_timeout=5000"


def test_an_unknown_database_scheme_is_refused(environ):
    environ(DATABASE_URL="oracle2://x@y/z")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL"):
        env.env_database("DATABASE_URL", "unused")


def _import_settings(**overrides):
    environment = {k: v for k, v in os.environ.items() if k not in {"SECRET_KEY", "DEBUG"}}
    environment.update(overrides)
    return subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; settings.SECRET_KEY"],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "productops.settings"},
        capture_output=True,
        text=True,
    )


def test_it_refuses_to_start_with_debug_off_and_the_development_key():
    result = _import_settings(DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_it_starts_with_debug_off_and_a_real_key():
    result = _import_settings(
        DEBUG="false", SECRET_KEY="a-real-secret-from-the-vault", ALLOWED_HOSTS="po.bank"
    )
    assert result.returncode == 0, result.stderr


def test_tasks_run_eagerly_without_a_broker_and_on_workers_with_one():
    from django.conf import settings

    assert settings.CELERY_TASK_ALWAYS_EAGER is (settings.CELERY_BROKER_URL is None)
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
