from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods
from django.views.decorators.vary import vary_on_headers

from decisions.access import get_decision_for_user, get_decision_to_supersede
from decisions.filtersets import DecisionFilterSet
from decisions.forms import DecisionForm, capabilities_to_record_for
from decisions.models import Decision, EvidenceLink
from decisions.services import decision_record, decision_supersede
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.permissions import can_change
from productops.roles import Activity

PAGE_SIZE = 50


def _evidence_cell(decision) -> str:
    links = decision.evidence_links.all()
    if not links:
        return _("no evidence")
    return "; ".join(link.reference or link.url or link.label for link in links)


def _csv(decisions):
    header = [
        _("Id"),
        _("Date"),
        _("Capability"),
        _("Type"),
        _("Decision"),
        _("Options considered"),
        _("Evidence"),
        _("Owner"),
        _("Review trigger"),
        _("Review date"),
        _("Supersedes"),
        _("Superseded by"),
        _("Recorded by"),
    ]
    rows = (
        [
            decision.readable_id,
            decision.decided_on.isoformat(),
            decision.capability.name,
            decision.get_type_display(),
            decision.decision,
            decision.options_considered,
            _evidence_cell(decision),
            decision.owner,
            decision.review_trigger,
            decision.review_date.isoformat() if decision.review_date else "",
            decision.supersedes.readable_id if decision.supersedes else "",
            decision.successor.readable_id if decision.successor else "",
            decision.recorded_by or _("the system"),
        ]
        for decision in decisions.iterator(chunk_size=500)
    )
    return csv_response("decisions.csv", header, rows)


@require_GET
@vary_on_headers("HX-Request")
def decision_list(request):
    filterset = DecisionFilterSet(
        request.GET, queryset=Decision.objects.visible_to(request.user).for_list(), request=request
    )
    decisions = filterset.qs
    if request.GET.get("format") == "csv":
        return _csv(decisions)
    page = Paginator(decisions, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filterset": filterset,
        "page": page,
        "decisions": page.object_list,
        "query": query.urlencode(),
        "can_record": capabilities_to_record_for(request.user).exists(),
    }
    template = "decisions/decision_list.html#rows" if request.htmx else "decisions/decision_list.html"
    return render(request, template, context)


@require_GET
def decision_detail(request, readable_id):
    decision = get_decision_for_user(request.user, readable_id)
    evidence = list(
        EvidenceLink.objects.filter(decision=decision)
        .select_related("content_type")
        .prefetch_related("target")
    )
    return render(
        request,
        "decisions/decision_detail.html",
        {
            "decision": decision,
            "evidence": evidence,
            "chain": decision.chain(),
            "can_supersede": decision.is_current
            and can_change(request.user, Activity.DECISION_LOG, decision.capability),
            "history": history_entries(decision),
        },
    )


def _apply_domain_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


@require_http_methods(["GET", "POST"])
def decision_create(request):
    capabilities = capabilities_to_record_for(request.user)
    if not capabilities.exists():
        raise PermissionDenied(_("Your roles do not allow you to change the decision log here."))
    initial = {}
    slug = request.GET.get("capability") or request.session.get("current_capability")
    if slug:
        initial["capability"] = capabilities.filter(slug=slug).first()
    form = DecisionForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            decision = decision_record(
                capability=form.cleaned_data["capability"], by=request.user, **form.service_arguments()
            )
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            messages.success(request, _("Decision %(id)s recorded.") % {"id": decision.readable_id})
            return redirect(decision)
    return render(request, "decisions/decision_form.html", {"form": form, "old": None})


@require_http_methods(["GET", "POST"])
def decision_supersede_view(request, readable_id):
    old = get_decision_to_supersede(request.user, readable_id)
    if not old.is_current:
        messages.error(
            request,
            _("%(old)s was already superseded by %(new)s; supersede that one instead.")
            % {"old": old.readable_id, "new": old.successor.readable_id},
        )
        return redirect(old.successor)
    initial = {
        "type": old.type,
        "decision": old.decision,
        "options_considered": old.options_considered,
        "evidence": ", ".join(
            link.reference or link.url for link in old.evidence_links.all() if link.reference or link.url
        ),
        "owner": old.owner,
        "review_trigger": old.review_trigger,
        "review_date": old.review_date,
    }
    form = DecisionForm(request.POST or None, user=request.user, capability=old.capability, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            decision = decision_supersede(old=old, by=request.user, **form.service_arguments())
        except DomainError as error:
            _apply_domain_error(form, error)
        else:
            messages.success(
                request,
                _("Decision %(new)s recorded; it supersedes %(old)s.")
                % {"new": decision.readable_id, "old": old.readable_id},
            )
            return redirect(decision)
    return render(request, "decisions/decision_form.html", {"form": form, "old": old})
