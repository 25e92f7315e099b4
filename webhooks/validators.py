"""What address a webhook may point at."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from webhooks.choices import SUBSCRIBABLE_EVENTS

# A receiver on the same machine (a local relay, a test server) may use plain HTTP.
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def is_local_host(host: str | None) -> bool:
    host = (host or "").lower().rstrip(".")
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def validate_endpoint_url(value: str) -> None:
    """An absolute http(s) address; HTTPS unless DEBUG is on or the host is this machine, because
    the body names capabilities and incidents and must not cross a network in clear text."""
    URLValidator(schemes=["http", "https"], message=_("Enter a full http:// or https:// address."))(value)
    parts = urlsplit(value)
    if parts.username or parts.password:
        raise ValidationError(
            _("Put no user name or password in the address: the signature authenticates each request."),
            code="credentials",
        )
    if parts.scheme != "https" and not (settings.DEBUG or is_local_host(parts.hostname)):
        raise ValidationError(
            _("Use an https:// address: plain http is allowed only for localhost."), code="https_required"
        )


def validate_events(value) -> None:
    """A non-empty list of events a webhook may subscribe to, each once."""
    allowed = {key for key, _label in SUBSCRIBABLE_EVENTS}
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one event."), code="required")
    unknown = [str(item) for item in value if item not in allowed]
    if unknown:
        raise ValidationError(
            _("Unknown events: %(names)s.") % {"names": ", ".join(unknown)}, code="invalid_choice"
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Name each event once."), code="duplicate")
