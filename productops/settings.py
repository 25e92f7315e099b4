"""ProductOps settings: everything that differs between a laptop, CI and a bank's install
comes from the environment through the typed helpers in ``productops.env``."""

from datetime import timedelta
from pathlib import Path

import plotly
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from productops.env import (
    env_bool,
    env_database,
    env_email,
    env_int,
    env_list,
    env_str,
    env_time_zone,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("PRODUCTOPS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

# A laptop and the demo run with DEBUG on; a team install sets DEBUG=false and a real key.
DEBUG = env_bool("DEBUG", True)
_DEVELOPMENT_KEY = "productops-development-key-not-for-production"
SECRET_KEY = env_str("SECRET_KEY", _DEVELOPMENT_KEY)
# Rotating the key: the previous ones, comma-separated, keep sessions and signed links valid.
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
if not DEBUG and SECRET_KEY == _DEVELOPMENT_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off: the development key is public.")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, not a CDN
    "simple_history",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",  # login attempts rate-limited (productops/login_limits.py)
    # ProductOps, bottom layer first (see ARCHITECTURE.md).
    "productops",
    "webhooks",
    "portfolio",
    "actions",
    "decisions",
    "assumptions",
    "contracts",
    "releases",
    "experiments",
    "incidents",
    "forums",
    "boards",
    "hygiene",
    "readiness",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "productops.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Jobs that could not be queued (Redis down) tell the request's person (productops.jobs).
    "productops.jobs.DeferredJobsMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "productops.urls"
WSGI_APPLICATION = "productops.wsgi.application"
AUTH_USER_MODEL = "productops.User"
LOGIN_URL = "login"
# django-axes first: it refuses a locked-out username and address before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "productops.context_processors.navigation",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", VAR_DIR / "productops.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The organisation's zone: dates in packs and the operating calendar are shown in it.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_time_zone("TIME_ZONE", "Europe/London")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # plotly.js ships inside the plotly package: serve that copy so the browser and the
    # Python side always draw with the same version, and nothing comes from a CDN.
    ("vendor/plotly", Path(plotly.__file__).parent / "package_data"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG
# Uploaded evidence lives outside the static root and is served only through views that check access.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

_email = env_email("EMAIL_URL", "django.core.mail.backends.console.EmailBackend")
EMAIL_BACKEND = _email.pop("EMAIL_BACKEND")
for _key, _value in _email.items():
    globals()[_key] = _value
# Where links in e-mails point (the address people open ProductOps at).
PRODUCTOPS_BASE_URL = env_str("PRODUCTOPS_BASE_URL", "http://127.0.0.1:8000")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ProductOps <productops@localhost>")

# Security: strict when DEBUG is off (a team install behind TLS), so that `manage.py check
# --deploy` has nothing to say; each switch can be turned off from the environment for an install
# not (yet) behind HTTPS. The demo (DEBUG on, http://127.0.0.1:8000) needs none of them.
_BEHIND_TLS = not DEBUG
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _BEHIND_TLS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _BEHIND_TLS)
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions; the per-request read written by hand (productops/sessions.py).
SESSION_ENGINE = "productops.sessions"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only behind a proxy that sets X-Forwarded-Proto itself (and drops a client's): otherwise a
# client could claim HTTPS.
if env_bool("TRUST_X_FORWARDED_PROTO", _BEHIND_TLS):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _BEHIND_TLS)
# The container's own health check calls plain http://127.0.0.1:8000/healthz.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _BEHIND_TLS else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)

# Login attempts: LOGIN_FAILURE_LIMIT wrong passwords for one username from one address lock that
# pair out for LOGIN_LOCKOUT_MINUTES (every further try restarts the wait); signing in resets the
# count. An administrator unlocks early in the admin (Axes -> access attempts) or with
# `manage.py axes_reset_username <name>`. API tokens never go through the password check.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "productops.login_limits.locked_out"

REST_FRAMEWORK = {
    # The browser's session first (its CSRF check stays), then a person's API token (machines).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        "productops.authentication.ApiTokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "productops.filters.SearchFilter",
    ],
    # DRF's, refusing text PostgreSQL cannot store as a 400 naming the field (productops/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "productops.parsers.JSONParser",
        "productops.parsers.FormParser",
        "productops.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "productops.api_schema.ProductOpsAutoSchema",
    "EXCEPTION_HANDLER": "productops.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ProductOps API",
    "DESCRIPTION": "Review forums that govern AI products after launch.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several assets have a "status" or "type": name each enum after its asset in the schema.
    "ENUM_NAME_OVERRIDES": {
        "IncidentSeverityEnum": "portfolio.choices.IncidentSeverity",
        "LearningKindEnum": "incidents.choices.LearningKind",
        "RootCauseClassEnum": "incidents.choices.RootCauseClass",
        "ActionStatusEnum": "actions.choices.ActionStatus",
        "AssumptionStatusEnum": "assumptions.choices.AssumptionStatus",
        "AssumptionTypeEnum": "assumptions.choices.AssumptionType",
        "DecisionTypeEnum": "decisions.choices.DecisionType",
        "CapabilityRiskTierEnum": "portfolio.choices.RiskTier",
        "CapabilityLifecycleStatusEnum": "portfolio.choices.LifecycleStatus",
        "ContractStatusEnum": "contracts.choices.ContractStatus",
        "SignalLevelEnum": "contracts.choices.SignalLevel",
        "RoleEnum": "productops.roles.Role",
        "FindingSeverityEnum": "hygiene.choices.Severity",
        "ReleaseStateEnum": "releases.choices.ReleaseState",
        "ImpactDecisionEnum": "releases.choices.ImpactDecision",
        "BacklogStatusEnum": "portfolio.choices.BacklogStatus",
        "ExperimentStateEnum": "experiments.choices.ExperimentState",
        "ExperimentDecisionEnum": "experiments.choices.ExperimentDecision",
        "PortfolioDecisionEnum": "forums.choices.PortfolioDecision",
    },
}

# Celery: with no broker, tasks run eagerly in-process (demo, laptop); with one, real workers.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL is None
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# The visibility timeout is longer than the longest task (pack build and e-mail), so a killed
# worker's task returns soon but a slow one is not delivered twice. A worker looks for such
# abandoned tasks every CELERY_UNACKED_RESTORE_INTERVAL seconds (kombu's default throttle would
# make that ten times longer) and at its start. The tests of a killed worker set a few seconds.
# Publishing never hangs a request on a broker that is gone: a short connect timeout, a socket
# timeout for a broker that vanished without closing the connection, and (productops.jobs) no
# publish retries — a job that cannot be queued is recorded in the outbox instead.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 900, minimum=1),
    "unacked_restore_interval": env_int("CELERY_UNACKED_RESTORE_INTERVAL", 10, minimum=1),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 2,
    "socket_timeout": 10,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# One queue per install by default; a test run or a second tenant on the same Redis picks its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "productops")
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Scheduled jobs (beat copies them into its database table at start; times in TIME_ZONE).
CELERY_BEAT_SCHEDULE = {
    # A safety net: ingest already evaluates what it touched. Runs before the 06:00 jobs so the
    # morning triage sees fresh signals.
    "contracts-evaluate-daily": {
        "task": "contracts.tasks.evaluate_all_contracts",
        "schedule": crontab(hour=5, minute=30),
    },
    "releases-impact-reviews-due-daily": {
        "task": "releases.tasks.remind_impact_reviews_due",
        "schedule": crontab(hour=6, minute=15),
    },
    "contracts-review-reminders-daily": {
        "task": "contracts.tasks.remind_contract_reviews",
        "schedule": crontab(hour=6, minute=10),
    },
    "assumptions-expire-daily": {
        "task": "assumptions.tasks.expire_assumptions",
        "schedule": crontab(hour=6, minute=0),
    },
    "actions-recheck-daily": {
        "task": "actions.tasks.reopen_due_rechecks",
        "schedule": crontab(hour=6, minute=5),
    },
    # Webhooks: an overdue action announced once, the morning after its due date passed.
    "actions-announce-overdue-daily": {
        "task": "actions.tasks.announce_overdue_actions",
        "schedule": crontab(hour=6, minute=20),
    },
    # Webhook deliveries whose task was lost (broker down, worker killed) are queued again.
    "webhooks-requeue-deliveries": {
        "task": "webhooks.tasks.requeue_webhook_deliveries",
        "schedule": crontab(minute="*/5"),
    },
    # Jobs recorded while the broker was away (productops.jobs): queued once it answers again.
    "productops-drain-job-outbox": {
        "task": "productops.tasks.drain_job_outbox",
        "schedule": 60.0,
    },
    # Review packs: build and e-mail each session's pack at its forum's lead time before it.
    "forums-send-due-packs": {
        "task": "forums.tasks.send_due_packs",
        "schedule": crontab(minute="*/15"),
    },
    # Ops hygiene: the anti-pattern checks over every capability, after the 06:00 jobs moved
    # the registers on (expiries, re-checks), so the morning reads today's findings.
    "hygiene-run-daily": {
        "task": "hygiene.tasks.run_hygiene_checks",
        "schedule": crontab(hour=6, minute=30),
    },
}

# Webhooks: the wait after a failed delivery attempt starts here and doubles (tests shorten it).
WEBHOOKS_BACKOFF_BASE_SECONDS = env_int("WEBHOOKS_BACKOFF_BASE_SECONDS", 30, minimum=1)

# Web processes: the garbage collector's young-generation threshold after start-up
# (productops.serving; 0 keeps Python's default of 700).
WEB_GC_THRESHOLD = env_int("WEB_GC_THRESHOLD", 50_000, minimum=0)

# Demo logins: refused with DEBUG off unless forced (see seed_demo).
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "demo")

SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # In-process (eager) tasks would log a line per task into the web or command output.
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
        # PDF and chart rendering narrate every page and browser step at INFO: noise, not events.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "choreographer": {"level": "WARNING"},
        "kaleido": {"level": "WARNING"},
        "logistro": {"level": "WARNING"},
        # django-axes: its start-up banner and every sign-in at INFO (the AccessLog table keeps
        # those); lockouts are still logged as warnings.
        "axes": {"level": "WARNING"},
    },
}
