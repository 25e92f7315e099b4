import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from experiments import charts
from experiments.access import get_experiment_for_user
from experiments.choices import MOVE_LABELS, MOVE_PATHS, ExperimentState
from experiments.filtersets import ExperimentFilterSet
from experiments.forms import MOVE_FORMS, CapabilityPickForm, ExperimentForm, capabilities_to_change
from experiments.models import Experiment
from experiments.readout import experiment_readout
from experiments.services import experiment_create, experiment_update
from productops.errors import DomainError
from productops.exports import csv_response
from productops.history import history_entries
from productops.permissions import can_change, require_change
from productops.roles import Activity

PAGE_SIZE = 50
PRIMARY_MOVES = {"start", "begin_readout", "decide"}

MOVE_DONE = {
    "start": gettext_lazy("%(id)s is running."),
    "begin_readout": gettext_lazy("%(id)s: the readout has begun."),
    "extend": gettext_lazy("%(id)s runs longer."),
    "decide": gettext_lazy("%(id)s: the decision is recorded in the decision log."),
}


def _csv(experiments):
    rows = experiments.with_list_related().prefetch_related("guardrails").iterator(chunk_size=2000)

    def lines():
        for experiment in rows:
            yield [
                experiment.readable_id,
                experiment.capability.name,
                experiment.title,
                experiment.hypothesis,
                experiment.population,
                experiment.treatment,
                experiment.control_or_baseline,
                experiment.primary_metric.metric_id,
                ", ".join(sorted(contract.metric_id for contract in experiment.guardrails.all())),
                experiment.start_date.isoformat(),
                experiment.planned_end_date.isoformat(),
                experiment.owner,
                experiment.get_state_display(),
                experiment.result,
                experiment.get_decision_display(),
                experiment.decision_comment,
                experiment.tested_assumption.readable_id if experiment.tested_assumption else "",
            ]

    return csv_response(
        "experiments.csv",
        [
            _("Experiment id"),
            _("Capability"),
            _("Title"),
            _("Hypothesis"),
            _("Population"),
            _("Treatment"),
            _("Control or baseline"),
            _("Primary metric"),
            _("Guardrails"),
            _("Start"),
            _("Planned end"),
            _("Owner"),
            _("State"),
            _("Result"),
            _("Decision"),
            _("Decision comment"),
            _("Tested assumption"),
        ],
        lines(),
    )


@require_GET
def experiment_list(request):
    """The experiment registry (playbook 13.1): filters, sort, CSV export."""
    visible = Experiment.objects.visible_to(request.user)
    filterset = ExperimentFilterSet(request.GET, queryset=visible, request=request)
    if request.GET.get("format") == "csv":
        return _csv(filterset.qs)
    page = Paginator(filterset.qs.with_list_related(), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {"filterset": filterset, "page": page, "experiments": page.object_list}
    if request.htmx:
        response = render(request, "experiments/experiment_list.html#rows", context)
    else:
        counts = filterset.qs.order_by().aggregate(
            **{state: Count("pk", filter=Q(state=state)) for state in ExperimentState.values}
        )
        context.update(
            state_counts=[(label, counts[value]) for value, label in ExperimentState.choices],
            can_create=bool(capabilities_to_change(request.user)),
        )
        response = render(request, "experiments/experiment_list.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def readout_for_page(experiment) -> tuple[dict | None, bool]:
    """(readout dict, frozen): the snapshot the decision rests on once decided, the live
    computation while it runs or is read out, nothing before it starts."""
    if experiment.state == ExperimentState.DECIDED and experiment.readout_snapshot:
        return experiment.readout_snapshot, True
    if experiment.state == ExperimentState.PROPOSED:
        return None, False
    return experiment_readout(experiment).as_dict(), False


def _chart_html(readout: dict | None) -> str:
    if readout is None:
        return ""
    figure = charts.cohort_effects_figure(readout)
    if figure is None:
        return ""
    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"experiment-effects-{uuid.uuid4().hex[:8]}",
        config={"displaylogo": False, "responsive": True},
    )


def url_name(move: str) -> str:
    return f"experiments:experiment-{MOVE_PATHS[move]}"


def _render_detail(request, experiment, *, bound_move=None, bound_form=None, status=200):
    moves = []
    for move in experiment.allowed_moves(request.user):
        form_class = MOVE_FORMS[move]
        if move == bound_move:
            form = bound_form
        elif form_class is not None:
            form = form_class(experiment=experiment, auto_id=f"id_{move}_%s")
        else:
            form = None
        moves.append(
            {
                "move": move,
                "label": MOVE_LABELS[move],
                "form": form,
                "url_name": url_name(move),
                "primary": move in PRIMARY_MOVES,
            }
        )
    readout, frozen = readout_for_page(experiment)
    context = {
        "experiment": experiment,
        "guardrails": sorted(experiment.guardrails.all(), key=lambda contract: contract.metric_id),
        "readout": readout,
        "frozen": frozen,
        "chart_html": _chart_html(readout),
        "moves": moves,
        "can_edit": experiment.state != ExperimentState.DECIDED
        and can_change(request.user, Activity.EXPERIMENT_REGISTRY, experiment.capability),
        "history": history_entries(experiment),
    }
    return render(request, "experiments/experiment_detail.html", context, status=status)


@require_GET
def experiment_detail(request, readable_id):
    """The registry row and its readout: the six questions of the experiment review (13.3)."""
    return _render_detail(request, get_experiment_for_user(request.user, readable_id))


@require_POST
def experiment_move(request, readable_id, move):
    """One move of the experiment's state machine; the model method decides, this view reports."""
    experiment = get_experiment_for_user(request.user, readable_id)
    require_change(request.user, Activity.EXPERIMENT_REGISTRY, experiment.capability)
    form_class = MOVE_FORMS[move]
    inputs = {}
    form = None
    if form_class is not None:
        form = form_class(request.POST, experiment=experiment, auto_id=f"id_{move}_%s")
        if not form.is_valid():
            messages.error(request, _("Check the highlighted fields."))
            return _render_detail(request, experiment, bound_move=move, bound_form=form)
        inputs = form.cleaned_data
    try:
        getattr(experiment, move)(by=request.user, **inputs)
    except DomainError as error:
        if form is not None and error.field in form.fields:
            form.add_error(error.field, error.message)
            return _render_detail(request, experiment, bound_move=move, bound_form=form)
        messages.error(request, error.message)
        return redirect(experiment)
    messages.success(request, MOVE_DONE[move] % {"id": experiment.readable_id})
    return redirect(experiment)


@require_http_methods(["GET", "POST"])
def experiment_create_view(request):
    """Register an experiment: first its capability (which decides the contracts and assumptions
    offered), then the registry fields."""
    allowed = capabilities_to_change(request.user)
    if not allowed:
        raise PermissionDenied(_("Your roles do not allow you to register experiments."))
    source = request.POST if request.method == "POST" else request.GET
    # The capability switcher's choice preselects it, unless the person asked to choose again.
    slug = source.get(
        "capability", request.session.get("current_capability", "") if source is request.GET else ""
    )
    capability = next((c for c in allowed if c.slug == slug), None)
    if capability is None:
        pick = CapabilityPickForm(user=request.user, initial={"capability": slug or None})
        return render(request, "experiments/experiment_form.html", {"pick": pick, "experiment": None})
    form = ExperimentForm(
        request.POST if request.method == "POST" else None,
        capability=capability,
        initial={"owner": request.user.pk},
    )
    if request.method == "POST" and form.is_valid():
        try:
            experiment = experiment_create(capability=capability, by=request.user, **form.service_kwargs())
        except DomainError as error:
            form.add_error(form.field_for_error(error.field), error.message)
        else:
            messages.success(request, _("Experiment %(id)s registered.") % {"id": experiment.readable_id})
            return redirect(experiment)
    return render(
        request,
        "experiments/experiment_form.html",
        {"form": form, "capability": capability, "experiment": None},
    )


@require_http_methods(["GET", "POST"])
def experiment_edit(request, readable_id):
    experiment = get_experiment_for_user(request.user, readable_id)
    require_change(request.user, Activity.EXPERIMENT_REGISTRY, experiment.capability)
    if experiment.state == ExperimentState.DECIDED:
        messages.error(request, _("A decided experiment is a record: it is not edited."))
        return redirect(experiment)
    form = ExperimentForm(
        request.POST if request.method == "POST" else None,
        capability=experiment.capability,
        instance=experiment,
    )
    if request.method == "POST" and form.is_valid():
        try:
            experiment_update(experiment=experiment, by=request.user, fields=form.service_kwargs())
        except DomainError as error:
            form.add_error(form.field_for_error(error.field), error.message)
        else:
            messages.success(request, _("Experiment %(id)s saved.") % {"id": experiment.readable_id})
            return redirect(experiment)
    return render(
        request,
        "experiments/experiment_form.html",
        {"form": form, "capability": experiment.capability, "experiment": experiment},
    )
