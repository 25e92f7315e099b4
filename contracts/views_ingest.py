"""The CSV upload page for observations and the page that follows its import job."""

from django import forms
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from contracts.ingest import FIELDS, error_count, import_job_create, validate_import_file
from contracts.models import ImportJob
from portfolio.models import Capability
from productops.errors import DomainError
from productops.permissions import can_change, visible_capability_ids
from productops.roles import Activity

RECENT_JOBS = 10
_RUNNING = {ImportJob.State.QUEUED, ImportJob.State.RUNNING}


def capabilities_to_ingest(user) -> list[Capability]:
    """Capabilities whose contracts the person may feed (A or R on metric contracts)."""
    return [c for c in Capability.objects.visible_to(user) if can_change(user, Activity.METRIC_CONTRACT, c)]


class ObservationImportForm(forms.Form):
    capability = forms.ModelChoiceField(
        label=gettext_lazy("Capability"),
        queryset=Capability.objects.none(),
        help_text=gettext_lazy("Every row must name a contract of this capability."),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    file = forms.FileField(
        label=gettext_lazy("CSV file"),
        validators=[validate_import_file],
        help_text=gettext_lazy("UTF-8, at most 200 MB, one observation per line after the header."),
        widget=forms.ClearableFileInput(attrs={"class": "form-control", "accept": ".csv,text/csv"}),
    )

    def __init__(self, *args, capabilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].queryset = Capability.objects.filter(pk__in=[c.pk for c in capabilities])


def get_import_job_for_user(user, pk: int) -> ImportJob:
    """An import job, for people holding a role on its capability (404 for anyone else)."""
    jobs = ImportJob.objects.select_related("capability", "created_by")
    visible = visible_capability_ids(user)
    if visible is not None:
        jobs = jobs.filter(capability_id__in=visible)
    return get_object_or_404(jobs, pk=pk)


@require_http_methods(["GET", "POST"])
def observation_import(request):
    capabilities = capabilities_to_ingest(request.user)
    if not capabilities:
        raise PermissionDenied(_("Your roles do not allow you to ingest observations."))
    current = request.session.get("current_capability")
    initial = {"capability": next((c.pk for c in capabilities if c.slug == current), None)}
    form = ObservationImportForm(
        request.POST or None, request.FILES or None, capabilities=capabilities, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            job = import_job_create(
                capability=form.cleaned_data["capability"], file=form.cleaned_data["file"], by=request.user
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            return redirect("contracts:observation-import-status", pk=job.pk)
    jobs = ImportJob.objects.select_related("capability", "created_by")
    visible = visible_capability_ids(request.user)
    if visible is not None:
        jobs = jobs.filter(capability_id__in=visible)
    return render(
        request,
        "contracts/import_form.html",
        {
            "form": form,
            "jobs": jobs[:RECENT_JOBS],
            "fields": sorted(FIELDS),
        },
    )


@require_GET
def observation_import_status(request, pk):
    job = get_import_job_for_user(request.user, pk)
    context = {"job": job, "error_total": error_count(job), "running": job.state in _RUNNING}
    if request.htmx:
        response = render(request, "contracts/import_status.html#progress", context)
    else:
        response = render(request, "contracts/import_status.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response
