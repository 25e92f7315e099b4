"""Pages of a session's review pack: the pack as a page and as the PDF that was e-mailed, and the
POSTs that build it and send it now (in place with htmx, or as plain forms). Thin views over
``forums.pack_delivery``."""

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from forums import pack_delivery
from forums.access import get_session_for_user
from forums.models import ReviewPack
from forums.pdf import pack_html
from productops.errors import DomainError

PANEL = "forums/session_pack_panel.html#panel"


def _stored_pack(session, *fields) -> ReviewPack:
    pack = ReviewPack.objects.filter(session=session).only("pk", "session", "sent_at", *fields).first()
    if pack is None:
        raise Http404(_("No review pack has been built for this session yet."))
    return pack


@require_GET
def session_pack(request, pk):
    """The stored pack as a page: the same document as the PDF, with the same chart images."""
    session = get_session_for_user(request.user, pk)
    pack = _stored_pack(session, "snapshot", "charts")
    page = {
        "session_url": session.get_absolute_url(),
        "pdf_url": reverse("forums:session-pack-pdf", kwargs={"pk": session.pk}),
        "sent_at": timezone.localtime(pack.sent_at).strftime("%Y-%m-%d %H:%M") if pack.sent_at else "",
    }
    return HttpResponse(pack_html(pack.snapshot, charts=pack.charts, page=page))


@require_GET
def session_pack_pdf(request, pk):
    """The stored PDF: the very file the attendees received."""
    session = get_session_for_user(request.user, pk)
    pack = _stored_pack(session, "pdf", "pdf_sha256")
    response = HttpResponse(bytes(pack.pdf), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, pack_delivery.pack_filename(session))
    response["ETag"] = f'"{pack.pdf_sha256}"'
    response["Cache-Control"] = "private, no-cache"
    return response


def _after(request, session, *, error: str = "", done: str = ""):
    """htmx: the panel again, in place (a refusal is shown in it: htmx swaps only 2xx answers).
    Without JS: back to the session page with the message."""
    if request.htmx:
        context = pack_delivery.pack_panel(session, request.user)
        context.update(error=error, done=done)
        response = render(request, PANEL, context)
        patch_vary_headers(response, ["HX-Request"])
        return response
    if error:
        messages.error(request, error)
    else:
        messages.success(request, done)
    return redirect(session.get_absolute_url() + "#pack")


@require_POST
def session_pack_build(request, pk):
    """Build (or rebuild) the pack from today's data; refused once it was sent."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    try:
        pack = pack_delivery.pack_build(session=session, by=request.user)
    except DomainError as error:
        return _after(request, session, error=error.message)
    return _after(
        request, session, done=_("Review pack built: %(pages)s pages.") % {"pages": pack.page_count}
    )


@require_POST
def session_pack_send(request, pk):
    """Send the pack to the attendees now (building it first if needed)."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    try:
        pack_delivery.pack_send(session=session, by=request.user)
    except DomainError as error:
        return _after(request, session, error=error.message)
    return _after(request, session, done=_("Review pack sent to the attendees."))
