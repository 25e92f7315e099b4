from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.forms import PersonChoiceField, style_widgets
from assumptions.models import Assumption
from contracts.choices import ContractStatus
from contracts.models import MetricContract
from experiments.choices import AssumptionOutcome, ExperimentDecision
from experiments.services import EDITABLE_FIELDS, EDITABLE_IN_STATE
from portfolio.models import Capability
from productops.models import RoleAssignment, User
from productops.permissions import can_change
from productops.roles import Activity, roles_that_change


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def capabilities_to_change(user):
    """Capabilities on which the person may register experiments (A or R on the registry)."""
    return [
        c for c in Capability.objects.visible_to(user) if can_change(user, Activity.EXPERIMENT_REGISTRY, c)
    ]


def experimenters_on(capability):
    """People who may own the capability's experiments (A or R on the experiment registry)."""
    assignments = RoleAssignment.objects.filter(
        Q(capability__isnull=True) | Q(capability=capability),
        role__in=roles_that_change(Activity.EXPERIMENT_REGISTRY),
    )
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=assignments.values("user_id")) | Q(is_superuser=True))
        .order_by("first_name", "last_name", "username")
    )


class ContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.metric_id} — {obj.name}"


class ContractMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.metric_id} — {obj.name} ({obj.get_category_display().lower()})"


class AssumptionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.readable_id} · {obj.get_status_display()} · {obj.statement[:90]}"


class CapabilityPickForm(forms.Form):
    """The first step of registering an experiment: its capability decides which contracts and
    assumptions the form offers."""

    capability = forms.ModelChoiceField(
        label=_("Capability"), queryset=Capability.objects.none(), to_field_name="slug", empty_label="—"
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].queryset = Capability.objects.filter(
            pk__in=[c.pk for c in capabilities_to_change(user)]
        ).order_by("name")
        style_widgets(self.fields)


class ExperimentForm(forms.Form):
    """A registry row (playbook 13.1) for one capability: the primary metric and guardrails are
    its active contracts, the tested assumption one of its live assumptions."""

    title = forms.CharField(label=_("Title"), max_length=200)
    hypothesis = forms.CharField(
        label=_("Hypothesis"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. “Shorter, policy-cited suggestions reduce AHT and edits.”"),
    )
    population = forms.CharField(
        label=_("Population"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who is in it and how they are split between the arms."),
    )
    treatment = forms.CharField(label=_("Treatment"), widget=forms.Textarea(attrs={"rows": 2}))
    control_or_baseline = forms.CharField(
        label=_("Control or baseline"), widget=forms.Textarea(attrs={"rows": 2})
    )
    primary_metric = ContractChoiceField(
        label=_("Primary metric"), queryset=MetricContract.objects.none(), to_field_name="metric_id"
    )
    guardrails = ContractMultipleChoiceField(
        label=_("Guardrails"),
        queryset=MetricContract.objects.none(),
        to_field_name="metric_id",
        required=False,
        help_text=_("Contracts that must hold in the treatment arm."),
    )
    tested_assumption = AssumptionChoiceField(
        label=_("Tested assumption"),
        queryset=Assumption.objects.none(),
        to_field_name="readable_id",
        required=False,
        help_text=_("The assumption ledger entry the readout confirms, weakens or invalidates."),
    )
    start_date = forms.DateField(label=_("Start"), widget=_date_input())
    planned_end_date = forms.DateField(label=_("Planned end"), widget=_date_input())
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none())
    arm_key = forms.CharField(
        label=_("Arm tag"),
        max_length=40,
        initial="arm",
        help_text=_("The version-set key of the telemetry that tags the arm."),
    )
    treatment_value = forms.CharField(label=_("Treatment tag value"), max_length=80, initial="treatment")
    control_value = forms.CharField(label=_("Control tag value"), max_length=80, initial="control")

    fieldsets = [
        (_("Experiment"), ["title", "hypothesis", "population", "treatment", "control_or_baseline"]),
        (_("What it is judged on"), ["primary_metric", "guardrails", "tested_assumption"]),
        (_("Duration and owner"), ["start_date", "planned_end_date", "owner"]),
        (_("Arms in the telemetry"), ["arm_key", "treatment_value", "control_value"]),
    ]

    def __init__(self, *args, capability, instance=None, **kwargs):
        current_contracts = []
        if instance is not None:
            initial = {name: getattr(instance, name) for name in EDITABLE_FIELDS}
            initial.update(
                primary_metric=instance.primary_metric.metric_id,
                guardrails=[contract.metric_id for contract in instance.guardrails.all()],
                tested_assumption=getattr(instance.tested_assumption, "readable_id", None),
                owner=instance.owner_id,
            )
            kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
            current_contracts = [instance.primary_metric_id, *(c.pk for c in instance.guardrails.all())]
        super().__init__(*args, **kwargs)
        self.capability = capability
        self.instance = instance
        # Active contracts, and the ones it already uses (a contract retired since stays listed).
        contracts = MetricContract.objects.filter(
            Q(status=ContractStatus.ACTIVE) | Q(pk__in=current_contracts), capability=capability
        ).order_by("category", "metric_id")
        assumptions = Assumption.objects.for_capability(capability).live()
        if instance is not None and instance.tested_assumption_id:
            # The one it tests stays listed, whatever has happened to it since.
            assumptions = Assumption.objects.filter(
                Q(pk__in=assumptions.values("pk")) | Q(pk=instance.tested_assumption_id)
            )
        self.fields["primary_metric"].queryset = contracts
        self.fields["guardrails"].queryset = contracts
        self.fields["guardrails"].widget.attrs["size"] = 8
        self.fields["tested_assumption"].queryset = assumptions.order_by("-pk")
        self.fields["owner"].queryset = experimenters_on(capability)
        if instance is not None:
            editable = EDITABLE_IN_STATE[instance.state]
            for name in EDITABLE_FIELDS:
                if name not in editable:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = _("Fixed while the experiment is %(state)s.") % {
                        "state": instance.get_state_display().lower()
                    }
        style_widgets(self.fields)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("planned_end_date")
        if start and end and end <= start:
            self.add_error("planned_end_date", _("The planned end must be after the start."))
        primary, guardrails = cleaned.get("primary_metric"), cleaned.get("guardrails") or []
        if primary is not None and primary in guardrails:
            self.add_error("guardrails", _("The primary metric is not its own guardrail."))
        return cleaned

    def grouped(self):
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.fieldsets
        ]

    def service_kwargs(self) -> dict:
        """The changed fields' values (disabled fields keep the stored value and are left out)."""
        return {
            name: self.cleaned_data.get(name)
            for name in EDITABLE_FIELDS
            if name in self.fields and not self.fields[name].disabled
        }

    def field_for_error(self, name: str | None) -> str | None:
        return name if name in self.fields else None


class MoveForm(forms.Form):
    """The input of one move on an experiment's page."""

    def __init__(self, *args, experiment, **kwargs):
        self.experiment = experiment
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class ExtendForm(MoveForm):
    planned_end_date = forms.DateField(
        label=_("New planned end"),
        widget=_date_input(),
        help_text=_("The experiment runs again until then; the readout counts every day from the start."),
    )


class DecideForm(MoveForm):
    """The experiment review's decision: what follows, why, and what it did to the assumption."""

    decision = forms.ChoiceField(label=_("Decision"), choices=ExperimentDecision.choices)
    comment = forms.CharField(
        label=_("Decision comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Why, and the release, backlog or policy decision that follows. Markdown."),
    )
    assumption_status = forms.ChoiceField(
        label=_("Tested assumption is now"), choices=[("", "—"), *AssumptionOutcome.choices]
    )
    assumption_evidence = forms.CharField(
        label=_("Note for the assumption review"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Added to the readout figures the review records as evidence."),
    )

    def __init__(self, *args, experiment, **kwargs):
        super().__init__(*args, experiment=experiment, **kwargs)
        assumption = experiment.tested_assumption
        if assumption is None:
            del self.fields["assumption_status"]
            del self.fields["assumption_evidence"]
        else:
            self.fields["assumption_status"].help_text = _("%(id)s: %(statement)s") % {
                "id": assumption.readable_id,
                "statement": assumption.statement,
            }


# The form each move's POST binds (None: the move takes no input).
MOVE_FORMS = {"start": None, "begin_readout": None, "extend": ExtendForm, "decide": DecideForm}
