from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from actions import closure_checks
from actions.access import get_action_for_user
from actions.choices import AGE_BUCKETS, MOVE_LABELS, QuickView
from actions.filtersets import ActionFilterSet
from actions.forms import MOVE_FORMS, ActionEditForm, ActionForm, capabilities_to_change
from actions.models import Action, ClosureEvidence
from actions.querysets import closure_by_capability, closure_by_owner, closure_summary
from actions.services import action_create, action_update
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.permissions import require_change
from productops.roles import Activity
from productops.uploads import evidence_file_response

PAGE_SIZE = 50
# The move a person came to the page for: shown first and open.
PRIMARY_MOVES = {"start", "submit_evidence", "verify", "unblock"}

MOVE_DONE = {
    "start": gettext_lazy("%(id)s: work started."),
    "block": gettext_lazy("%(id)s is marked blocked."),
    "unblock": gettext_lazy("%(id)s is unblocked."),
    "submit_evidence": gettext_lazy("%(id)s: closure evidence submitted; it awaits verification."),
    "verify": gettext_lazy("%(id)s: evidence verified, the action is closed."),
    "send_back": gettext_lazy("%(id)s: evidence sent back to the owner."),
    "reopen": gettext_lazy("%(id)s is reopened."),
    "escalate": gettext_lazy("%(id)s is escalated."),
}


def _csv(actions):
    latest_evidence = ClosureEvidence.objects.filter(action=OuterRef("pk")).order_by("-submitted_at", "-id")
    rows = (
        actions.select_related("capability", "owner", "reviewer", "reopen_trigger")
        .annotate(latest_evidence=Subquery(latest_evidence.values("text")[:1]))
        .iterator(chunk_size=2000)
    )

    def lines():
        for action in rows:
            trigger = getattr(action, "reopen_trigger", None)
            yield [
                action.readable_id,
                action.capability.name,
                action.get_source_kind_display(),
                action.source_signal,
                action.action,
                action.owner,
                action.due_date.isoformat(),
                action.closure_criterion,
                action.latest_evidence,
                action.reviewer,
                action.get_status_display(),
                _("yes") if action.is_overdue else "",
                trigger.describe() if trigger else "",
            ]

    return csv_response(
        "actions.csv",
        [
            _("Action id"),
            _("Capability"),
            _("Source"),
            _("Source signal"),
            _("Action"),
            _("Owner"),
            _("Due date"),
            _("Closure criterion"),
            _("Closure evidence"),
            _("Reviewer"),
            _("Status"),
            _("Overdue"),
            _("Reopen trigger"),
        ],
        lines(),
    )


@require_GET
def action_list(request):
    """The action closure register: derived views, filters, sort, CSV export."""
    visible = Action.objects.visible_to(request.user)
    filterset = ActionFilterSet(request.GET, queryset=visible, request=request)
    if request.GET.get("format") == "csv":
        return _csv(filterset.qs)
    page = Paginator(filterset.qs.with_list_related(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "page": page, "actions": page.object_list}
    if request.htmx:
        response = render(request, "actions/action_list.html#rows", context)
    else:
        # The strip counts what the filters select, whichever quick view is open.
        strip_data = request.GET.copy()
        strip_data.pop("view", None)
        strip_data.pop("page", None)
        strip_qs = ActionFilterSet(strip_data, queryset=visible, request=request).qs
        summary = closure_summary(strip_qs)
        context.update(
            summary=summary,
            age_buckets=[(label, summary[key]) for key, label, _low, _high in AGE_BUCKETS],
            by_owner=closure_by_owner(strip_qs),
            by_capability=closure_by_capability(strip_qs),
            quick_views=QuickView.choices,
            current_view=request.GET.get("view", ""),
            strip_query=strip_data.urlencode(),
            can_create=bool(capabilities_to_change(request.user)),
        )
        response = render(request, "actions/action_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _render_detail(request, action, *, bound_move=None, bound_form=None, status=200):
    moves = action.allowed_moves(request.user)
    forms = []
    for move in moves:
        form_class = MOVE_FORMS[move]
        if move == bound_move:
            form = bound_form
        elif form_class is not None:
            form = form_class(action=action, auto_id=f"id_{move}_%s")
        else:
            form = None
        forms.append(
            {
                "move": move,
                "label": MOVE_LABELS[move],
                "form": form,
                "url_name": url_name(move),
                "primary": move in PRIMARY_MOVES,
            }
        )
    context = {
        "action": action,
        "trigger": getattr(action, "reopen_trigger", None),
        "evidence": action.evidence.select_related("submitted_by", "reviewed_by"),
        "reopenings": action.reopenings.select_related("reopened_by"),
        "moves": forms,
        "can_edit": _may_change(request, action),
        "history": history_entries(action),
        "source": action.source if action.source_content_type_id else None,
        "forum": action.forum if action.forum_content_type_id else None,
        "data_checks": closure_checks.checks_for(action),
    }
    return render(request, "actions/action_detail.html", context, status=status)


def _may_change(request, action) -> bool:
    try:
        require_change(request.user, Activity.ACTION_CLOSURE, action.capability)
    except PermissionDenied:
        return False
    return True


def url_name(move: str) -> str:
    return f"actions:action-{move.replace('_', '-')}"


@require_GET
def action_detail(request, readable_id):
    return _render_detail(request, get_action_for_user(request.user, readable_id))


@require_POST
def action_move(request, readable_id, move):
    """One move of the action's state machine; the model method decides, this view reports."""
    action = get_action_for_user(request.user, readable_id)
    require_change(request.user, Activity.ACTION_CLOSURE, action.capability)
    form_class = MOVE_FORMS[move]
    inputs = {}
    form = None
    if form_class is not None:
        form = form_class(request.POST, request.FILES, action=action, auto_id=f"id_{move}_%s")
        if not form.is_valid():
            messages.error(request, _("Check the highlighted fields."))
            return _render_detail(request, action, bound_move=move, bound_form=form)
        inputs = form.cleaned_data
    try:
        getattr(action, move)(by=request.user, **inputs)
    except DomainError as error:
        if form is not None and error.field in form.fields:
            form.add_error(error.field, error.message)
            return _render_detail(request, action, bound_move=move, bound_form=form)
        messages.error(request, error.message)
        return redirect(action)
    messages.success(request, MOVE_DONE[move] % {"id": action.readable_id})
    return redirect(action)


@require_http_methods(["GET", "POST"])
def action_create_view(request):
    if not capabilities_to_change(request.user):
        raise PermissionDenied(_("Your roles do not allow you to raise actions."))
    initial = {"capability": request.GET.get("capability") or request.session.get("current_capability")}
    form = ActionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            action = action_create(by=request.user, **form.service_kwargs())
        except DomainError as error:
            form.add_error(form.field_for_error(error.field), error.message)
        else:
            messages.success(request, _("Action %(id)s raised.") % {"id": action.readable_id})
            return redirect(action)
    return render(request, "actions/action_form.html", {"form": form, "action": None})


@require_http_methods(["GET", "POST"])
def action_edit(request, readable_id):
    action = get_action_for_user(request.user, readable_id)
    require_change(request.user, Activity.ACTION_CLOSURE, action.capability)
    form = ActionEditForm(request.POST or None, user=request.user, instance=action)
    if request.method == "POST" and form.is_valid():
        try:
            kwargs = form.service_kwargs()
            trigger = kwargs.pop("reopen_trigger")
            action_update(action=action, by=request.user, fields=kwargs, reopen_trigger=trigger)
        except DomainError as error:
            form.add_error(form.field_for_error(error.field), error.message)
        else:
            messages.success(request, _("Action %(id)s saved.") % {"id": action.readable_id})
            return redirect(action)
    return render(request, "actions/action_form.html", {"form": form, "action": action})


@require_GET
def evidence_file(request, readable_id, evidence_id):
    """Closure evidence files are served only to people who may read the action."""
    action = get_action_for_user(request.user, readable_id)
    evidence = get_object_or_404(ClosureEvidence, pk=evidence_id, action=action)
    return evidence_file_response(evidence.file, evidence.filename)
