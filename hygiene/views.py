"""The hygiene pages: one per capability and one for the portfolio, a waiver form (htmx, with a
plain POST fallback), and "run the checks now"."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from hygiene.access import get_capability_for_user, get_finding_for_user
from hygiene.choices import Trigger
from hygiene.forms import WaiverForm
from hygiene.pages import capability_hygiene, finding_row, portfolio_hygiene
from hygiene.services import can_waive, hygiene_run, waiver_grant
from productops.errors import DomainError
from productops.permissions import can_change
from productops.roles import Activity

# Who may ask for a run now: those who run the weekly ops review (A/R on its RACI row).
RUN_ACTIVITY = Activity.WEEKLY_OPS_REVIEW


@require_GET
def hygiene_index(request):
    return render(request, "hygiene/index.html", {"page": portfolio_hygiene(request.user)})


@require_GET
def hygiene_capability(request, slug):
    capability = get_capability_for_user(request.user, slug)
    return render(
        request,
        "hygiene/capability.html",
        {
            "page": capability_hygiene(capability, request.user),
            "capability": capability,
            "can_run": can_change(request.user, RUN_ACTIVITY, capability),
        },
    )


@require_POST
def hygiene_run_now(request, slug):
    capability = get_capability_for_user(request.user, slug)
    if not can_change(request.user, RUN_ACTIVITY, capability):
        raise PermissionDenied(_("Your roles do not allow you to run the checks here."))
    run = hygiene_run(capability=capability, trigger=Trigger.MANUAL)
    messages.success(
        request,
        _("Checks run: score %(score)s, %(n)s open finding(s).")
        % {"score": run.score, "n": run.open_findings},
    )
    return redirect("hygiene:capability", slug=capability.slug)


def _capability_url(finding) -> str:
    return (
        reverse("hygiene:capability", kwargs={"slug": finding.run.capability.slug}) + f"#finding-{finding.pk}"
    )


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def finding_waive(request, pk):
    """GET: the waiver form on its own page. POST: waive; htmx gets the finding's row back (with
    the form's errors when refused), a plain POST is redirected to the capability's page."""
    finding = get_finding_for_user(request.user, pk)
    if not can_waive(request.user, finding):
        raise PermissionDenied(_("Your roles do not allow you to waive this finding."))
    form = WaiverForm(request.POST or None, prefix=f"waive-{finding.pk}")
    if request.method == "POST" and form.is_valid():
        try:
            waiver = waiver_grant(finding=finding, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            text = _("Finding waived until %(day)s; decision %(decision)s recorded.") % {
                "day": waiver.expires_on.isoformat(),
                "decision": waiver.decision.readable_id,
            }
            if request.htmx:
                return render(
                    request,
                    "hygiene/_finding.html",
                    {"row": finding_row(finding, request.user), "notice": text},
                )
            messages.success(request, text)
            return redirect(_capability_url(finding))
    if request.htmx:
        row = finding_row(finding, request.user)
        row.form = form
        return render(request, "hygiene/_finding.html", {"row": row, "form_open": True})
    return render(
        request, "hygiene/waive.html", {"finding": finding, "form": form, "back": _capability_url(finding)}
    )
