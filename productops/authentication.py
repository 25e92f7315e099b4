"""How a machine signs in to the API: ``Authorization: Bearer <token>`` (or ``Token <token>``).

The request then acts as the token's person, so every permission check is the one a page
makes for them; a read token is refused any unsafe method here, before any view runs.
"""

from django.utils.translation import gettext as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from productops.tokens import token_allows, token_authenticate

KEYWORDS = ("bearer", "token")


class ApiTokenAuthentication(BaseAuthentication):
    """A person's named API token (see ``productops.tokens``); ``request.auth`` is the token."""

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1").lower() not in KEYWORDS:
            return None  # not ours: another scheme, or the browser's session
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as “Authorization: Bearer <token>”, with no spaces in the token.")
            )
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as error:
            raise exceptions.AuthenticationFailed(_("The token is not valid.")) from error
        token = token_authenticate(raw)
        if token is None:
            raise exceptions.AuthenticationFailed(
                _("The token is not valid, has been revoked or has expired.")
            )
        if not token_allows(token, request.method):
            raise exceptions.PermissionDenied(
                _("Token “%(name)s” is read-only: create a write token to change anything.")
                % {"name": token.name}
            )
        return token.user, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema, so /api/docs/ offers "Authorize" to paste one."""

    target_class = ApiTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": _(
                "A personal API token from the “API tokens” page of your user menu "
                "(sent as “Authorization: Bearer po_…”; “Token po_…” is accepted too). "
                "A read token may only make GET requests."
            ),
        }
