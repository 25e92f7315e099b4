"""Machine tokens: create, revoke, and recognise one on a request.

The one place the token rules live; the token page, the API's authentication class and the
admin all go through it.

A token reads ``po_<secret>``, the secret 43 characters of ``secrets.token_urlsafe(32)``
(256 bits). Only ``sha256(token)`` is stored. A slow password hash (PBKDF2, Argon2) exists to
make guessing a *low-entropy* password expensive; a 256-bit random secret cannot be guessed
however fast the hash, so a plain SHA-256 is as safe here and lets a request find its token
with one indexed lookup instead of a deliberately slow computation on every API call.
"""

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.permissions import SAFE_METHODS

from productops.errors import DomainError, TransitionNotAllowed
from productops.models import ApiToken, ApiTokenScope

TOKEN_MARK = "po_"
PREFIX_LENGTH = 8  # characters of the secret shown in lists so a person can tell tokens apart
# Last use is written at most this often per token: a telemetry job posting every second
# should not turn every read into a write.
LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)
EXPIRY_CHOICES_DAYS = (30, 90, 365)


def digest_of(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def token_create(*, user, name: str, scope: str, expires_in_days: int | None = None) -> tuple[ApiToken, str]:
    """Create a token for ``user`` and return it with its secret (the only time it exists).

    Raises DomainError naming the field: a name is required and unique among the person's live
    tokens; the scope is read or write; the expiry, when given, is one of the offered periods.
    """
    name = (name or "").strip()
    if not name:
        raise DomainError(_("Give the token a name that says what uses it."), field="name")
    now = timezone.now()
    if ApiToken.objects.of(user).live(now).filter(name__iexact=name).exists():
        raise DomainError(
            _("You already have a live token named “%(name)s”: pick another name or revoke it first.")
            % {"name": name},
            field="name",
        )
    if scope not in ApiTokenScope.values:
        raise DomainError(_("Choose read or write."), field="scope")
    if expires_in_days is not None and expires_in_days not in EXPIRY_CHOICES_DAYS:
        raise DomainError(_("Choose one of the offered expiry periods."), field="expires_in_days")
    raw = TOKEN_MARK + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name,
        scope=scope,
        prefix=raw[: len(TOKEN_MARK) + PREFIX_LENGTH],
        digest=digest_of(raw),
        expires_at=now + datetime.timedelta(days=expires_in_days) if expires_in_days else None,
    )
    token._history_user = user
    token._change_reason = _("Token created")
    token.save()
    return token, raw


@transaction.atomic
def token_revoke(*, token: ApiToken, by) -> ApiToken:
    """Revoke a token for good; it stays listed (and in the history) as revoked.

    Only its own person revokes it (anyone else is told it does not exist); revoking twice is
    a 409.
    """
    row = ApiToken.objects.select_for_update().filter(pk=token.pk, user=by).first()
    if row is None:
        raise ApiToken.DoesNotExist
    if row.revoked_at is not None:
        raise TransitionNotAllowed(_("This token is already revoked."), field="revoked_at")
    row.revoked_at = timezone.now()
    row._history_user = by
    row._change_reason = _("Token revoked")
    row.save(update_fields=["revoked_at"])
    return row


def token_authenticate(raw: str) -> ApiToken | None:
    """The live token a request presents, with its user, or None (unknown, revoked, expired,
    or its person deactivated). Records the use."""
    if not raw.startswith(TOKEN_MARK):
        return None
    now = timezone.now()
    token = ApiToken.objects.live(now).select_related("user").filter(digest=digest_of(raw)).first()
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        # UPDATE, not save(): a use is not a change of the token and writes no history row.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def token_allows(token: ApiToken, method: str) -> bool:
    """A read token makes only safe requests (GET, HEAD, OPTIONS); a write token any request,
    which the person's roles then allow or refuse like for a page."""
    return token.scope == ApiTokenScope.WRITE or method in SAFE_METHODS
