"""The person's API tokens page (user menu → API tokens): list, create (shown once), revoke."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from productops.errors import DomainError
from productops.forms import ApiTokenForm
from productops.models import ApiToken
from productops.tokens import token_create, token_revoke

TEMPLATE = "productops/api_tokens.html"


def _page(request, *, form=None, new_token=None, created=None, status=200):
    """The whole page, or only its token panel for an htmx request."""
    context = {
        "form": form or ApiTokenForm(),
        "tokens": ApiToken.objects.of(request.user),
        "now": timezone.now(),
        "new_token": new_token,
        "created": created,
    }
    template = f"{TEMPLATE}#token-panel" if request.htmx else TEMPLATE
    return TemplateResponse(request, template, context, status=status)


@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """GET: the person's tokens and the form. POST: create one and show its secret this once
    (in the answer itself: it is never stored, so reloading the page cannot show it again)."""
    if request.method == "GET":
        return _page(request)
    form = ApiTokenForm(request.POST)
    if form.is_valid():
        try:
            token, raw = token_create(user=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return _page(request, new_token=raw, created=token)
    return _page(request, form=form, status=400 if not request.htmx else 200)


@require_http_methods(["GET", "POST"])
def api_token_revoke(request, pk: int):
    """GET: ask to confirm (the page without JavaScript). POST: revoke; another person's token
    is a 404, as if it did not exist."""
    token = ApiToken.objects.of(request.user).filter(pk=pk).first()
    if token is None:
        raise Http404(_("No such token."))
    if request.method == "GET":
        return render(request, "productops/api_token_revoke.html", {"token": token})
    try:
        token_revoke(token=token, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Token “%(name)s” revoked: it no longer works.") % {"name": token.name})
    if request.htmx:
        return _page(request)
    return redirect("api-tokens")
