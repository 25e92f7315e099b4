import copy
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from contracts import charts, services
from contracts.access import get_contract_for_user, get_contract_to_change, get_signal_for_user
from contracts.filtersets import ContractFilterSet, SignalFilterSet
from contracts.forms import ContractForm, LiftHoldForm, RetireForm, capabilities_to_change
from contracts.markers import markers_for
from contracts.models import Evaluation, MetricContract, Signal
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.permissions import can_change
from productops.roles import Activity

PAGE_SIZE = 100
EVALUATION_ROWS = 20


def _with_vary(response):
    patch_vary_headers(response, ["HX-Request"])
    return response


def _latest_level(cut: str = ""):
    latest = Evaluation.objects.filter(contract=OuterRef("pk"), cut=cut).order_by("-period_start")
    return Subquery(latest.values("level")[:1])


def _contract_rows(queryset):
    """The list's rows: owners, capability, latest whole-population level and open signals in
    the same query, however many contracts there are."""
    open_signals = (
        Signal.objects.open()
        .filter(contract=OuterRef("pk"))
        .order_by()
        .values("contract")
        .annotate(count=Count("pk"))
    )
    return (
        queryset.select_related("capability", "business_owner", "analytics_owner")
        .annotate(
            latest_level=_latest_level(),
            open_signals=Coalesce(Subquery(open_signals.values("count")[:1]), 0),
        )
        .order_by("capability__name", "category", "metric_id")
    )


def _csv(contracts):
    header = [
        _("Metric id"),
        _("Name"),
        _("Capability"),
        _("Category"),
        _("Status"),
        _("Direction"),
        _("Unit"),
        _("Target"),
        _("Warning"),
        _("Breach"),
        _("Stop level"),
        _("Business owner"),
        _("Analytics owner"),
        _("Evidence level"),
        _("Last reviewed"),
        _("Next review"),
        _("Latest level"),
        _("Open signals"),
    ]

    def lines():
        for contract in contracts.iterator(chunk_size=2000):
            yield [
                contract.metric_id,
                contract.name,
                contract.capability.name,
                contract.get_category_display(),
                contract.get_status_display(),
                contract.get_direction_display(),
                contract.unit,
                contract.target,
                contract.warning,
                contract.breach,
                contract.stop_level,
                contract.business_owner,
                contract.analytics_owner,
                contract.evidence_level,
                contract.last_reviewed.isoformat() if contract.last_reviewed else "",
                contract.next_review.isoformat() if contract.next_review else "",
                contract.latest_level or "",
                contract.open_signals,
            ]

    return csv_response("metric-contracts.csv", header, lines())


@require_GET
def contract_list(request):
    """Metric contracts by capability and category, with their latest level and open signals."""
    filterset = ContractFilterSet(
        request.GET, queryset=MetricContract.objects.visible_to(request.user), request=request
    )
    contracts = _contract_rows(filterset.qs)
    if request.GET.get("format") == "csv":
        return _csv(contracts)
    page = Paginator(contracts, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filterset": filterset,
        "page": page,
        "contracts": page.object_list,
        "today": timezone.localdate(),
    }
    if request.htmx:
        return _with_vary(render(request, "contracts/contract_list.html#rows", context))
    context["can_create"] = bool(capabilities_to_change(request.user))
    return _with_vary(render(request, "contracts/contract_list.html", context))


def _chart_context(request, contract) -> dict:
    """The trend chart as the page asks for it: ``?by=cohort&dimension=intent&cut=team=north``."""
    by = request.GET.get("by", "")
    dimension = request.GET.get("dimension", "")
    cut = request.GET.get("cut", "")
    fig = charts.contract_trend(
        contract, cut=cut, by=by or None, dimension=dimension, markers=markers_for(contract)
    )
    meta = fig.layout.meta or {}
    cuts = list(
        Evaluation.objects.filter(contract=contract)
        .exclude(cut="")
        .order_by("cut")
        .values_list("cut", flat=True)
        .distinct()
    )
    return {
        "chart_html": fig.to_html(
            full_html=False,
            include_plotlyjs=False,
            # A new id per render: htmx "settles" attributes of elements whose id survives a swap,
            # which would strip the classes plotly.js just gave the new plot.
            div_id=f"contract-trend-plot-{uuid.uuid4().hex[:8]}",
            default_height="460px",
            config={"displaylogo": False, "responsive": True},
        ),
        "chart_table": charts.figure_table(fig),
        "chart_by": meta.get("by", ""),
        "chart_dimension": meta.get("dimension", ""),
        "chart_cut": meta.get("cut", ""),
        "chart_cuts": cuts,
    }


@require_GET
def contract_detail(request, metric_id):
    """A contract read like the playbook's template (10.1), its trend and its signals."""
    contract = get_contract_for_user(request.user, metric_id)
    context = {"contract": contract, **_chart_context(request, contract)}
    if request.htmx:
        return _with_vary(render(request, "contracts/contract_detail.html#chart", context))
    guardrail_level = _latest_level()
    context.update(
        guardrails=contract.guardrails.annotate(latest_level=guardrail_level).order_by("metric_id"),
        guarded=contract.guarded_contracts.order_by("metric_id"),
        evaluations=contract.evaluations.order_by("-period_start", "cut")[:EVALUATION_ROWS],
        # Newest first; within a period the whole population, then its cuts by name (a fixed order
        # on every database, not the order rows happen to come in).
        open_signals=contract.signals.open().select_related("action").order_by("-opened_period", "cut", "pk"),
        can_edit=can_change(request.user, Activity.METRIC_CONTRACT, contract.capability),
        retire_form=RetireForm(),
        history=history_entries(contract),
        review_due=bool(contract.next_review and contract.next_review <= timezone.localdate()),
    )
    return _with_vary(render(request, "contracts/contract_detail.html", context))


@require_http_methods(["GET", "POST"])
def contract_create(request):
    if not capabilities_to_change(request.user):
        raise PermissionDenied(_("Your roles do not allow you to draft metric contracts."))
    initial = {"capability": request.GET.get("capability") or request.session.get("current_capability")}
    form = ContractForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(by=request.user, **form.service_fields())
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            messages.success(request, _("Contract %(id)s drafted.") % {"id": contract.metric_id})
            return redirect(contract)
    return render(request, "contracts/contract_form.html", {"form": form, "contract": None})


@require_http_methods(["GET", "POST"])
def contract_edit(request, metric_id):
    contract = get_contract_to_change(request.user, metric_id)
    # The form validates a copy: the page keeps showing the stored contract until it is saved.
    form = ContractForm(request.POST or None, user=request.user, instance=copy.copy(contract))
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(contract=contract, by=request.user, fields=form.service_fields())
        except ValidationError as error:
            form.add_service_errors(error)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            reason = contract.history.latest().history_change_reason or ""
            messages.success(
                request, _("Contract %(id)s saved. %(reason)s") % {"id": metric_id, "reason": reason}
            )
            return redirect(contract)
    return render(request, "contracts/contract_form.html", {"form": form, "contract": contract})


def _report_errors(request, error: ValidationError) -> None:
    for name, problems in error.message_dict.items():
        try:
            label = str(MetricContract._meta.get_field(name).verbose_name)
        except Exception:
            label = ""
        for problem in problems:
            messages.error(request, f"{label[:1].upper()}{label[1:]}: {problem}" if label else problem)


@require_POST
def contract_activate(request, metric_id):
    contract = get_contract_to_change(request.user, metric_id)
    try:
        services.contract_activate(contract=contract, by=request.user)
    except ValidationError as error:
        messages.error(request, _("%(id)s cannot be activated yet:") % {"id": metric_id})
        _report_errors(request, error)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(id)s is active: it is evaluated from now on.") % {"id": metric_id})
    return redirect(contract)


@require_POST
def contract_retire(request, metric_id):
    contract = get_contract_to_change(request.user, metric_id)
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say why the contract is retired."))
        return redirect(contract)
    try:
        services.contract_retire(contract=contract, by=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("%(id)s is retired.") % {"id": metric_id})
    return redirect(contract)


# --- signals --------------------------------------------------------------------------------


@require_GET
def signal_list(request):
    """Threshold signals, open first, newest first."""
    filterset = SignalFilterSet(
        request.GET, queryset=Signal.objects.visible_to(request.user), request=request
    )
    signals = filterset.qs.select_related("contract__capability", "action").order_by(
        F("resolved_period").asc(nulls_first=True), "-opened_period", "-pk"
    )
    page = Paginator(signals, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "page": page, "signals": page.object_list}
    template = "contracts/signal_list.html#rows" if request.htmx else "contracts/signal_list.html"
    return _with_vary(render(request, template, context))


def _render_signal(request, signal, *, lift_form=None, status=200):
    capability = signal.contract.capability
    holds = list(signal.stop_holds.select_related("lifted_by").order_by("-created_at"))
    open_hold = next((hold for hold in holds if hold.lifted_at is None), None)
    may_lift = open_hold is not None and services.may_lift_stop_hold(request.user, capability)
    context = {
        "signal": signal,
        "contract": signal.contract,
        "holds": holds,
        "open_hold": open_hold,
        "may_lift": may_lift,
        "lift_form": lift_form or LiftHoldForm(),
        "rule": charts.action_rule_text(signal.contract, signal.worst_level)
        if signal.worst_level in ("warning", "breach", "stop")
        else "",
        "evaluations": Evaluation.objects.filter(
            contract=signal.contract,
            cut=signal.cut,
            period_start__gte=signal.opened_period,
        ).order_by("period_start")[:52],
        "history": history_entries(signal),
    }
    return render(request, "contracts/signal_detail.html", context, status=status)


@require_GET
def signal_detail(request, pk):
    return _render_signal(request, get_signal_for_user(request.user, pk))


@require_POST
def signal_lift_hold(request, pk):
    """Lift the stop hold a signal put on the capability's pending releases (risk roles)."""
    signal = get_signal_for_user(request.user, pk)
    if not services.may_lift_stop_hold(request.user, signal.contract.capability):
        raise PermissionDenied(_("Only a risk reviewer may lift a stop hold."))
    hold = signal.stop_holds.filter(lifted_at__isnull=True).first()
    if hold is None:
        messages.info(request, _("This signal holds no releases."))
        return redirect(signal)
    form = LiftHoldForm(request.POST)
    if not form.is_valid():
        return _render_signal(request, signal, lift_form=form)
    try:
        services.stop_hold_lift(hold=hold, by=request.user, comment=form.cleaned_data["comment"])
    except DomainError as error:
        form.add_error("comment" if error.field in (None, "comment") else None, error.message)
        return _render_signal(request, signal, lift_form=form)
    messages.success(request, _("The stop hold is lifted."))
    return redirect(signal)
