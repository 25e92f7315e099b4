from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from assumptions import services
from assumptions.access import capabilities_to_change, get_assumption_for_user, get_assumption_to_change
from assumptions.choices import AssumptionStatus
from assumptions.filtersets import AssumptionFilterSet
from assumptions.forms import AssumptionForm, ReviewForm, owners_for
from assumptions.models import Assumption, AssumptionReview
from productops.errors import DomainError, TransitionNotAllowed
from productops.exports import csv_response
from productops.history import history_entries
from productops.permissions import can_change
from productops.roles import Activity

PAGE_SIZE = 50
CSV_HEADER = [
    gettext_lazy("Id"),
    gettext_lazy("Capability"),
    gettext_lazy("Statement"),
    gettext_lazy("Type"),
    gettext_lazy("Owner"),
    gettext_lazy("Evidence"),
    gettext_lazy("Confidence"),
    gettext_lazy("Expiry"),
    gettext_lazy("Status"),
    gettext_lazy("Decision impact"),
    gettext_lazy("Tested by contracts"),
    gettext_lazy("Depends on"),
    gettext_lazy("Next review"),
]


def _add_domain_error(form, error: DomainError, aliases=None) -> None:
    """Put a rule's refusal on the field it names, or on the form as a whole."""
    field = (aliases or {}).get(error.field, error.field)
    form.add_error(field if field in form.fields else None, error.message)


def _csv_rows(assumptions):
    for a in assumptions.iterator(chunk_size=500):
        yield [
            a.readable_id,
            a.capability.name,
            a.statement,
            a.get_type_display(),
            a.owner,
            a.evidence,
            a.get_confidence_display(),
            a.expires_on.isoformat(),
            a.get_status_display(),
            a.decision_impact,
            " ".join(a.tested_by_contracts),
            " ".join(a.depends_on_object_types),
            a.next_review_on.isoformat() if a.next_review_on else "",
        ]


@require_GET
def assumption_list(request):
    """The assumption ledger (playbook 14.2) across the capabilities the person can see."""
    base = Assumption.objects.visible_to(request.user).select_related("capability", "owner")
    filterset = AssumptionFilterSet(request.GET, queryset=base, request=request)
    assumptions = filterset.qs
    if request.GET.get("format") == "csv":
        return csv_response("assumptions.csv", CSV_HEADER, _csv_rows(assumptions))
    page = Paginator(assumptions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "page": page,
        "assumptions": page.object_list,
        "counts": [(AssumptionStatus(status), n) for status, n in assumptions.counts_by_status().items()],
        "query": query.urlencode(),
        "today": timezone.localdate(),
        "can_create": capabilities_to_change(request.user).exists(),
    }
    template = "assumptions/assumption_list.html#rows" if request.htmx else "assumptions/assumption_list.html"
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _detail(request, assumption, review_form=None):
    reviews = (
        AssumptionReview.objects.filter(assumption=assumption)
        .select_related("reviewed_by")
        .prefetch_related("source")
    )
    may_change = can_change(request.user, Activity.ASSUMPTION_LEDGER, assumption.capability)
    if review_form is None and may_change and assumption.allowed_statuses():
        review_form = ReviewForm(assumption=assumption, user=request.user)
    return render(
        request,
        "assumptions/assumption_detail.html",
        {
            "assumption": assumption,
            "reviews": reviews,
            "can_edit": may_change,
            "review_form": review_form if may_change else None,
            "today": timezone.localdate(),
            "history": history_entries(assumption),
        },
    )


@require_GET
def assumption_detail(request, readable_id):
    return _detail(request, get_assumption_for_user(request.user, readable_id))


@require_POST
def assumption_review(request, readable_id):
    """Record one review: the only way an assumption's status changes."""
    assumption = get_assumption_to_change(request.user, readable_id)
    form = ReviewForm(request.POST, assumption=assumption, user=request.user)
    if form.is_valid():
        try:
            assumption.review(by=request.user, **form.service_arguments())
        except TransitionNotAllowed as error:
            # Someone moved it first, or the move does not exist: show the ledger as it is now.
            messages.error(request, error.message)
            return redirect(assumption)
        except DomainError as error:
            _add_domain_error(form, error, aliases={"status": "new_status"})
        else:
            messages.success(
                request,
                _("%(id)s reviewed: now %(status)s.")
                % {"id": assumption.readable_id, "status": assumption.get_status_display()},
            )
            return redirect(assumption)
    return _detail(request, assumption, review_form=form)


@require_http_methods(["GET", "POST"])
def assumption_create(request):
    capabilities = capabilities_to_change(request.user)
    if not capabilities.exists():
        raise PermissionDenied(_("Your roles do not allow you to add to any assumption ledger."))
    initial = {
        "owner": request.user,
        "capability": request.GET.get("capability") or request.session.get("current_capability"),
    }
    form = AssumptionForm(
        request.POST or None, capabilities=capabilities, owners=owners_for(None), initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = services.assumption_create(by=request.user, **form.cleaned_data)
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, _("%(id)s added to the ledger.") % {"id": created.readable_id})
            return redirect(created)
    return render(request, "assumptions/assumption_form.html", {"form": form, "assumption": None})


@require_http_methods(["GET", "POST"])
def assumption_edit(request, readable_id):
    """Edit what the assumption says; its status is not on this form (it moves by review)."""
    assumption = get_assumption_to_change(request.user, readable_id)
    form = AssumptionForm(request.POST or None, assumption=assumption)
    if request.method == "POST" and form.is_valid():
        try:
            services.assumption_update(assumption=assumption, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _add_domain_error(form, error)
        else:
            messages.success(request, _("%(id)s saved.") % {"id": assumption.readable_id})
            return redirect(assumption)
    return render(request, "assumptions/assumption_form.html", {"form": form, "assumption": assumption})
