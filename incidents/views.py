from django import forms as django_forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from incidents import forms, services
from incidents.access import get_incident_for_user
from incidents.choices import MOVE_LABELS, IncidentSeverity
from incidents.filtersets import IncidentFilterSet
from incidents.markdown import incident_markdown
from incidents.models import Incident
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.permissions import can_change, require_change
from productops.roles import Activity

PAGE_SIZE = 50


def _call(method):
    return lambda incident, by, **kw: getattr(incident, method)(by=by, **kw)


# Each step of the record page: its form and what it calls (the same model method or service as the API).
STEPS = {
    "contain": (forms.ContainForm, _call("contain")),
    "record_root_causes": (forms.RootCauseForm, _call("record_root_causes")),
    "add_corrective_action": (
        forms.CorrectiveActionForm,
        lambda incident, by, **kw: services.incident_add_corrective_action(incident=incident, by=by, **kw),
    ),
    "agree_corrective_actions": (None, _call("agree_corrective_actions")),
    "add_learning_item": (
        forms.LearningItemForm,
        lambda incident, by, **kw: services.incident_add_learning_item(incident=incident, by=by, **kw),
    ),
    "record_learning": (forms.RecordLearningForm, _call("record_learning")),
    "record_forum_review": (forms.ForumReviewForm, _call("record_forum_review")),
    "set_watchlist": (forms.WatchlistForm, _call("set_watchlist")),
    "close": (None, _call("close")),
}


def _csv(incidents):
    def lines():
        for incident in incidents.select_related("capability").iterator(chunk_size=2000):
            yield [
                incident.readable_id,
                incident.capability.name,
                incident.title,
                incident.get_source_display(),
                incident.get_severity_display(),
                incident.occurred_on.isoformat(),
                incident.get_state_display(),
                _("yes") if incident.is_recurrence else "",
            ]

    return csv_response(
        "incidents.csv",
        [
            _("Id"),
            _("Capability"),
            _("Title"),
            _("Source"),
            _("Severity"),
            _("Date"),
            _("State"),
            _("Recurrence"),
        ],
        lines(),
    )


@require_GET
def incident_list(request):
    """Open incidents by severity, then age."""
    data = request.GET.copy()
    if "open" not in data:
        data["open"] = "true"
    visible = Incident.objects.visible_to(request.user)
    filterset = IncidentFilterSet(data, queryset=visible, request=request)
    qs = filterset.qs.by_severity_and_age()
    if request.GET.get("format") == "csv":
        return _csv(qs)
    page = Paginator(qs.with_list_related(), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "incidents/incident_list.html",
        {
            "filterset": filterset,
            "page": page,
            "incidents": page.object_list,
            "can_create": bool(forms.capabilities_to_change(request.user)),
        },
    )


def _may_change(user, incident) -> bool:
    return can_change(user, Activity.INCIDENT_LEARNING, incident.capability)


def _render_detail(request, incident, *, bound_step=None, bound_form=None, status=200):
    steps = []
    if _may_change(request.user, incident) and incident.is_open:
        available = set(incident.allowed_moves(request.user))
        if incident.severity != IncidentSeverity.SEV1 or incident.is_contained:
            available |= {"add_corrective_action", "add_learning_item"}
            if incident.needs_forum_review:
                available.add("record_forum_review")
            if incident.severity == IncidentSeverity.SEV4:
                available.add("set_watchlist")
        for step, (form_class, _call_it) in STEPS.items():
            if step not in available:
                continue
            if step == bound_step:
                form = bound_form
            elif form_class is not None:
                form = form_class(incident=incident, user=request.user, auto_id=f"id_{step}_%s")
            else:
                form = None
            steps.append(
                {"step": step, "label": MOVE_LABELS[step], "form": form, "url": step.replace("_", "-")}
            )
    actions = (
        incident.corrective_actions().select_related("owner", "reopen_trigger").prefetch_related("evidence")
    )
    context = {
        "incident": incident,
        "root_causes": incident.root_causes.all(),
        "suggested": incident.suggested_root_causes(),
        "actions": actions,
        "learning_items": incident.learning_items.select_related("created_by"),
        "affected_releases": incident.affected_releases.all(),
        "close_blockers": incident.close_blockers() if incident.is_open else [],
        "steps": steps,
        "history": history_entries(incident),
    }
    return render(request, "incidents/incident_detail.html", context, status=status)


@require_GET
def incident_detail(request, readable_id):
    return _render_detail(request, get_incident_for_user(request.user, readable_id))


@require_GET
def incident_markdown_view(request, readable_id):
    incident = get_incident_for_user(request.user, readable_id)
    response = HttpResponse(incident_markdown(incident), content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="{incident.readable_id}.md"'
    return response


@require_POST
def incident_step(request, readable_id, step):
    """One step of the incident record; the model method or service decides, this view reports."""
    incident = get_incident_for_user(request.user, readable_id)
    require_change(request.user, Activity.INCIDENT_LEARNING, incident.capability)
    form_class, call = STEPS[step]
    form = None
    inputs = {}
    if form_class is not None:
        form = form_class(request.POST, incident=incident, user=request.user, auto_id=f"id_{step}_%s")
        try:
            valid = form.is_valid()
            inputs = form.move_kwargs() if valid and hasattr(form, "move_kwargs") else dict(form.cleaned_data)
        except django_forms.ValidationError:
            valid = False
        if not valid:
            messages.error(request, _("Check the highlighted fields."))
            return _render_detail(request, incident, bound_step=step, bound_form=form, status=400)
    try:
        call(incident, request.user, **inputs)
    except DomainError as error:
        if form is not None and error.field in form.fields:
            form.add_error(error.field, error.message)
            return _render_detail(request, incident, bound_step=step, bound_form=form, status=400)
        messages.error(request, error.message)
        return redirect(incident)
    messages.success(
        request, _("%(id)s: %(step)s done.") % {"id": incident.readable_id, "step": MOVE_LABELS[step]}
    )
    return redirect(incident)


@require_http_methods(["GET", "POST"])
def incident_create(request):
    if not forms.capabilities_to_change(request.user):
        raise PermissionDenied(_("Your roles do not allow you to report incidents."))
    form = forms.IncidentForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        capability = data.pop("capability")
        try:
            incident = services.incident_report(capability=capability, by=request.user, **data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Incident %(id)s reported.") % {"id": incident.readable_id})
            return redirect(incident)
    return render(request, "incidents/incident_form.html", {"form": form})
