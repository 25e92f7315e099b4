"""The team install's docker-compose.yml: parsed and checked (no Docker engine runs here)."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_it_has_web_worker_beat_database_and_redis():
    assert set(compose()["services"]) == {"web", "worker", "beat", "db", "redis"}


def test_web_runs_gunicorn_after_migrating():
    command = compose()["services"]["web"]["command"]
    assert "migrate --noinput" in command
    assert "gunicorn productops.wsgi:application" in command


def test_worker_and_beat_run_celery_with_the_database_scheduler():
    services = compose()["services"]
    assert services["worker"]["command"].startswith("celery -A productops worker")
    assert "django_celery_beat.schedulers:DatabaseScheduler" in services["beat"]["command"]


def test_app_services_point_at_the_compose_database_and_broker_with_debug_off():
    for name in ("web", "worker", "beat"):
        service = compose()["services"][name]
        env = service["environment"]
        assert env["DATABASE_URL"].startswith("postgres://") and "@db:5432/" in env["DATABASE_URL"]
        assert env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["DEBUG"] == "false"
        assert service["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }


def test_database_and_redis_have_health_checks_and_the_database_a_volume():
    services = compose()["services"]
    for name in ("db", "redis", "web"):
        assert services[name]["healthcheck"]["test"], name
    assert "pgdata:/var/lib/postgresql/data" in services["db"]["volumes"]
    assert "pgdata" in compose()["volumes"]


def test_the_web_health_check_hits_a_real_url(client, db):
    assert "/healthz" in " ".join(compose()["services"]["web"]["healthcheck"]["test"])
    response = client.get("/healthz")
    assert response.status_code == 200
    # Tests run their jobs in-process (conftest), so the job service reads "in-process".
    assert response.json() == {"database": "ok", "broker": "in-process", "queued_jobs": 0}


def test_the_image_installs_from_the_lock_with_fonts_for_chinese_packs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "uv sync --frozen" in dockerfile
    assert "fonts-noto-cjk" in dockerfile
