"""Pages of the monthly value review: the memos by month and capability, one memo as a document
with its decision matrix, generating, editing, sending, recording the forum's decision, the
Markdown export, and the memo panel of a monthly session. Thin: load, bind, call
``forums.memos``, render or redirect."""

import datetime

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forums import memos as memo_services
from forums.access import get_session_for_user
from forums.choices import Cadence
from forums.forms.memos import MemoDecideForm, MemoEditForm, MemoGenerateForm, month_from_text
from forums.memos import (
    ACTIVITY,
    can_decide_memo,
    can_edit_memo,
    memo_for_user,
    memo_sections,
    memos_visible_to,
    session_memo_rows,
)
from portfolio.models import Capability
from productops.errors import DomainError
from productops.permissions import can_change

PAGE_SIZE = 50


def _form_error(form, error: DomainError) -> None:
    field = error.field if error.field in form.fields else None
    form.add_error(field, error.message)


@require_GET
def memo_list(request):
    """Every memo the person may read, newest month first, filtered by month and capability."""
    capabilities = list(Capability.objects.visible_to(request.user).order_by("name"))
    # The list reads the matrix, never the memo's sections (the large part of each row).
    memos = memos_visible_to(request.user).defer("fields").order_by("-month", "capability__name")
    month = month_from_text(request.GET.get("month", ""))
    slug = request.GET.get("capability", "")
    if month:
        memos = memos.filter(month=month)
    if slug:
        memos = memos.filter(capability__slug=slug)
    page = Paginator(memos, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "forums/memo_list.html",
        {
            "page": page,
            "capabilities": capabilities,
            "month": request.GET.get("month", ""),
            "capability_slug": slug,
            "can_generate": any(can_change(request.user, ACTIVITY, c) for c in capabilities),
        },
    )


def _render_memo(request, memo, *, status=200):
    result = memo.matrix or {}
    meta = (memo.fields or {}).get("meta") or {}
    edited_at = datetime.datetime.fromisoformat(meta["edited_at"]) if meta.get("edited_at") else None
    return render(
        request,
        "forums/memo_detail.html",
        {
            "memo": memo,
            "meta": meta,
            "edited_at": edited_at,
            "sections": memo_sections(memo),
            "result": result,
            "fields": memo.fields or {},
            "can_edit": can_edit_memo(request.user, memo),
            "can_decide": can_decide_memo(request.user, memo),
        },
        status=status,
    )


@require_GET
def memo_detail(request, pk):
    return _render_memo(request, memo_for_user(request.user, pk))


@require_http_methods(["GET", "POST"])
def memo_generate(request):
    """Choose a capability, a month and (optionally) the session, and generate its memo."""
    initial = {
        key: request.GET.get(key) for key in ("capability", "month", "session") if request.GET.get(key)
    }
    form = MemoGenerateForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            memo = memo_services.memo_generate(
                capability=data["capability"], month=data["month"], session=data["session"], by=request.user
            )
        except DomainError as error:
            _form_error(form, error)
            return render(request, "forums/memo_generate.html", {"form": form}, status=error.status_code)
        messages.success(
            request, _("Memo generated from the data of %(month)s.") % {"month": f"{memo.month:%Y-%m}"}
        )
        return redirect(memo)
    status = 400 if request.method == "POST" else 200
    return render(request, "forums/memo_generate.html", {"form": form}, status=status)


@require_POST
def memo_regenerate(request, pk):
    memo = memo_for_user(request.user, pk)
    try:
        memo_services.memo_generate(
            capability=memo.capability, month=memo.month, session=memo.session, by=request.user
        )
    except DomainError as error:
        messages.error(request, error.message)
        return _render_memo(request, memo, status=error.status_code)
    messages.success(
        request, _("Memo regenerated from the data as it stands now; earlier edits were replaced.")
    )
    return redirect(memo)


@require_http_methods(["GET", "POST"])
def memo_edit(request, pk):
    memo = memo_for_user(request.user, pk)
    if not can_change(request.user, ACTIVITY, memo.capability):
        raise PermissionDenied(_("Your roles do not allow you to edit this memo."))
    if memo.is_sent:
        messages.error(request, _("The memo was sent and is kept as sent: it can no longer be edited."))
        return _render_memo(request, memo, status=409)
    form = MemoEditForm(request.POST or None, memo=memo)
    if request.method == "POST" and form.is_valid():
        try:
            memo_services.memo_update(memo=memo, by=request.user, **form.service_kwargs())
        except DomainError as error:
            field = (error.field or "").replace(".", "__")
            form.add_error(field if field in form.fields else None, error.message)
        else:
            messages.success(request, _("Memo saved; the decision matrix ran again."))
            return redirect(memo)
    status = 400 if request.method == "POST" else 200
    return render(request, "forums/memo_form.html", {"memo": memo, "form": form}, status=status)


@require_POST
def memo_send(request, pk):
    memo = memo_for_user(request.user, pk)
    try:
        memo_services.memo_send(memo=memo, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return _render_memo(request, memo, status=error.status_code)
    messages.success(request, _("Memo sent to the forum's attendees; it is now kept as sent."))
    return redirect(memo)


@require_http_methods(["GET", "POST"])
def memo_decide(request, pk):
    """Record the forum's decision on a sent memo and its assumption ledger update."""
    memo = memo_for_user(request.user, pk)
    if not can_change(request.user, ACTIVITY, memo.capability):
        raise PermissionDenied(
            _("Your roles do not allow you to record the monthly value review's decision.")
        )
    if not can_decide_memo(request.user, memo):
        messages.error(
            request,
            _("The forum decides on a sent memo, once.")
            if memo.decision_id is None
            else _("The forum's decision on this memo is already recorded."),
        )
        return _render_memo(request, memo, status=409)
    form = MemoDecideForm(request.POST or None, memo=memo)
    if request.method == "POST" and form.is_valid():
        try:
            record = memo_services.memo_decide(memo=memo, by=request.user, **form.service_kwargs())
        except DomainError as error:
            if error.field and error.field.startswith("assumption_"):
                form.add_error(None, error.message)
            else:
                _form_error(form, error)
        else:
            messages.success(
                request,
                _("Decision %(id)s recorded in the decision log; the assumption ledger is updated.")
                % {"id": record.readable_id},
            )
            return redirect(memo)
    status = 400 if request.method == "POST" else 200
    return render(request, "forums/memo_decide.html", {"memo": memo, "form": form}, status=status)


@require_GET
def memo_export(request, pk):
    """The memo as Markdown (plain text that reads as a document)."""
    memo = memo_for_user(request.user, pk)
    response = HttpResponse(memo_services.memo_text(memo), content_type="text/markdown; charset=utf-8")
    name = f"value-memo-{memo.capability.slug}-{memo.month:%Y-%m}.md"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_GET
def session_memos(request, pk):
    """The memo of each capability in a monthly session's scope, with its state and a button to
    generate it: the session page's panel (htmx), or a page of its own without JavaScript."""
    session = get_session_for_user(request.user, pk)
    if session.forum.cadence != Cadence.MONTHLY_VALUE_REVIEW:
        raise Http404
    context = {
        "session": session,
        "rows": session_memo_rows(session, request.user),
        "month": memo_services.month_reviewed(session),
    }
    template = "forums/memo_session.html#panel" if request.htmx else "forums/memo_session.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
