"""Login attempts are rate-limited (django-axes): after ``AXES_FAILURE_LIMIT`` wrong passwords
for one username from one address, that pair is refused for ``AXES_COOLOFF_TIME``; signing in
resets the count. The person sees the sign-in page again with the reason, not a bare error."""

from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.shortcuts import render
from django.utils.translation import ngettext


def lockout_message() -> str:
    """What a locked-out person reads: why, and when they may try again."""
    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    return ngettext(
        "Too many failed sign-in attempts for this username from your address. "
        "Try again in %(minutes)d minute, or ask an administrator to unlock the account.",
        "Too many failed sign-in attempts for this username from your address. "
        "Try again in %(minutes)d minutes, or ask an administrator to unlock the account.",
        minutes,
    ) % {"minutes": minutes}


def locked_out(request, original_response=None, credentials=None):
    """The sign-in page with the lockout message (HTTP 429), as axes' AXES_LOCKOUT_CALLABLE."""
    # Unbound, the username kept: validating the form would authenticate (and count) again.
    form = AuthenticationForm(request, initial={"username": request.POST.get("username", "")})
    return render(
        request,
        "registration/login.html",
        {"form": form, "lockout_message": lockout_message(), "next": request.POST.get("next", "")},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
