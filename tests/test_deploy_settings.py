"""Production settings (issue 9): `manage.py check --deploy` has nothing to say, cookies are
secure, secrets come only from the environment, and the demo on plain HTTP still works."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# 64 characters of the kind `python -c "import secrets; print(secrets.token_urlsafe(48))"` prints.
PRODUCTION_KEY = "kQ7v2Jx9pL4mN8rT1wZ6yB3cF5hD0sG8aE2uI9oK4lM7qW_xR3tY6uP1nV5bC8zA"
PRODUCTION = {"DEBUG": "false", "SECRET_KEY": PRODUCTION_KEY, "ALLOWED_HOSTS": "productops.bank.example"}
# Variables a developer's shell or CI may hold that would change what production looks like.
_CLEARED = {
    "DEBUG",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "ALLOWED_HOSTS",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "TRUST_X_FORWARDED_PROTO",
    "DJANGO_ALLOW_ASYNC_UNSAFE",  # set by conftest for Playwright; never in production
}


def run(args, tmp_path, **environment):
    """Run a Python command in a fresh process with exactly this environment on top of the
    current one (without the variables above), its var/ in ``tmp_path``."""
    env = {key: value for key, value in os.environ.items() if key not in _CLEARED}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "productops.settings",
            "PRODUCTOPS_VAR_DIR": str(tmp_path / "var"),
            "STATIC_ROOT": str(tmp_path / "static"),
            **environment,
        }
    )
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )


def settings_values(tmp_path, names, **environment) -> dict[str, str]:
    """The repr of each named setting as a process started with this environment sees it."""
    script = "from django.conf import settings\n" + "".join(
        f"print(repr(getattr(settings, {name!r}, None)))\n" for name in names
    )
    result = run(["-c", script], tmp_path, **environment)
    assert result.returncode == 0, result.stderr
    return dict(zip(names, result.stdout.splitlines(), strict=True))


def test_production_settings_pass_check_deploy_with_no_warnings(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_would_see_an_install_left_on_plain_http(tmp_path):
    """The test above proves something: the same check does warn when the switches are off."""
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        tmp_path,
        **PRODUCTION,
        SESSION_COOKIE_SECURE="false",
        SECURE_SSL_REDIRECT="false",
        SECURE_HSTS_SECONDS="0",
    )
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012"):
        assert check in result.stderr, result.stderr


def test_production_refuses_to_start_without_a_secret_key_from_the_environment(tmp_path):
    result = run(["manage.py", "check"], tmp_path, DEBUG="false", ALLOWED_HOSTS="productops.bank.example")
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_production_refuses_an_empty_secret_key(tmp_path):
    result = run(
        ["manage.py", "check"],
        tmp_path,
        DEBUG="false",
        SECRET_KEY="",
        ALLOWED_HOSTS="productops.bank.example",
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr


def test_the_secret_key_and_its_fallbacks_are_the_environments(tmp_path):
    values = settings_values(
        tmp_path, ["SECRET_KEY", "SECRET_KEY_FALLBACKS"], **PRODUCTION, SECRET_KEY_FALLBACKS="old-1,old-2"
    )
    assert values == {"SECRET_KEY": repr(PRODUCTION_KEY), "SECRET_KEY_FALLBACKS": "['old-1', 'old-2']"}


SWITCHES = [
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
]


def test_production_cookies_are_secure_and_https_is_enforced_behind_the_proxy(tmp_path):
    assert settings_values(tmp_path, SWITCHES, **PRODUCTION) == {
        "SESSION_COOKIE_SECURE": "True",
        "CSRF_COOKIE_SECURE": "True",
        "SESSION_COOKIE_HTTPONLY": "True",
        "SECURE_SSL_REDIRECT": "True",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_PROXY_SSL_HEADER": "('HTTP_X_FORWARDED_PROTO', 'https')",
    }


def test_the_demo_on_plain_http_sets_no_secure_cookie_and_no_redirect(tmp_path):
    assert settings_values(tmp_path, ["DEBUG", *SWITCHES]) == {
        "DEBUG": "True",
        "SESSION_COOKIE_SECURE": "False",
        "CSRF_COOKIE_SECURE": "False",
        "SESSION_COOKIE_HTTPONLY": "True",
        "SECURE_SSL_REDIRECT": "False",
        "SECURE_HSTS_SECONDS": "0",
        "SECURE_PROXY_SSL_HEADER": "None",
    }


def test_a_production_install_may_turn_a_switch_off_from_the_environment(tmp_path):
    values = settings_values(
        tmp_path,
        ["SECURE_SSL_REDIRECT", "SECURE_PROXY_SSL_HEADER", "SESSION_COOKIE_SECURE"],
        **PRODUCTION,
        SECURE_SSL_REDIRECT="false",
        TRUST_X_FORWARDED_PROTO="no",
    )
    assert values == {
        "SECURE_SSL_REDIRECT": "False",
        "SECURE_PROXY_SSL_HEADER": "None",
        "SESSION_COOKIE_SECURE": "True",
    }
