"""Typed readers of the process environment.

Every setting that comes from outside goes through one of these helpers, so that a
mistyped value stops the process at start-up with the variable's name in the message,
instead of turning into a silent default (``DEBUG=flase`` must not mean "off").
"""

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return None if value is None else value.strip()


def env_str(name: str, default: str | None = None) -> str | None:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={value!r} is not a boolean: use one of true/false, 1/0, yes/no, on/off."
    )


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_time_zone(name: str, default: str) -> str:
    value = env_str(name, default)
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not an IANA time zone (e.g. Europe/London)."
        ) from None
    return value


def env_database(name: str, default_sqlite_path) -> dict:
    """A Django DATABASES entry from a URL; unset means the embedded SQLite file."""
    value = env_str(name)
    if value is None:
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite_path)}
    try:
        config = environ.Env.db_url_config(value)
    except Exception as exc:  # environ raises several types for a malformed URL
        raise ImproperlyConfigured(f"{name} is not a database URL: {exc}") from None
    if config.get("ENGINE") not in set(environ.Env.DB_SCHEMES.values()):
        raise ImproperlyConfigured(f"{name} names an unknown database scheme: {value.split(':', 1)[0]!r}.")
    if config["ENGINE"] == "django.db.backends.postgresql":
        # Reuse connections between requests; health checks drop the broken ones.
        config.setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0))
        config.setdefault("CONN_HEALTH_CHECKS", True)
        # PostgreSQL's JIT compiles the boards' wide observation reads (one OR branch per
        # contract window) for seconds to save milliseconds: 11.7 s of the monthly board's 18 s
        # at a million observations (bench/README.md). A URL's own ?options= wins.
        config.setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
    return config


def env_email(name: str, default_backend: str) -> dict:
    """E-mail settings from a URL such as ``smtp+tls://user:pass@mail.bank.internal:587``."""
    value = env_str(name)
    if value is None:
        return {"EMAIL_BACKEND": default_backend}
    try:
        config = environ.Env.email_url_config(value)
    except Exception as exc:
        raise ImproperlyConfigured(f"{name} is not an e-mail URL: {exc}") from None
    if value.startswith("filemail://"):
        # environ drops the leading slash of an absolute path; keep the path as written.
        config["EMAIL_FILE_PATH"] = value.removeprefix("filemail://")
    return config
