from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.forms import PersonChoiceField, style_widgets
from contracts.models import MetricContract
from contracts.services import CONTRACT_FIXED_FIELDS
from portfolio.models import Capability
from productops.models import RoleAssignment, User
from productops.permissions import can_change, visible_capability_ids
from productops.roles import Activity

# The sections of the playbook's contract template (10.1), in its order, and what each holds.
SECTIONS = [
    (_("Metric"), ["metric_id", "name", "capability", "category", "watch"]),
    (_("Business question"), ["business_question", "decision_supported"]),
    (
        _("Definition"),
        [
            "numerator",
            "denominator",
            "inclusion_rules",
            "exclusion_rules",
            "time_window",
            "unit",
            "direction",
            "is_ratio",
        ],
    ),
    (
        _("Population"),
        [
            "population_workflow",
            "population_user_roles",
            "population_case_types",
            "population_channel",
            "population_risk_tier",
        ],
    ),
    (_("Source and trace"), ["source_systems", "event_names", "version_fields", "join_keys", "data_latency"]),
    (_("Owner"), ["business_owner", "analytics_owner", "risk_reviewer"]),
    (
        _("Thresholds and action rules"),
        [
            "target",
            "warning",
            "breach",
            "stop_level",
            "stop_rule",
            "warning_action",
            "warning_action_owner_role",
            "warning_action_due_days",
            "warning_closure_criterion",
            "breach_action",
            "breach_action_owner_role",
            "breach_action_due_days",
            "breach_closure_criterion",
            "closure_periods",
        ],
    ),
    (
        _("Guardrails"),
        ["guardrails", "guardrail_customer_harm", "guardrail_cost", "guardrail_quality", "guardrail_risk"],
    ),
    (
        _("Segmentation"),
        ["cohort_dimensions", "required_cuts", "vulnerable_customer_review", "manager_team_cut"],
    ),
    (_("Noise gating"), ["grain", "min_sample_size", "consecutive_periods"]),
    (_("Evidence quality"), ["evidence_level", "sampling_approach", "last_reviewed", "next_review"]),
]
FORM_FIELDS = [name for _title, names in SECTIONS for name in names]
_SHORT_TEXT = {"decision_supported", "inclusion_rules", "exclusion_rules", "stop_rule"}


class DimensionListField(forms.CharField):
    """Dimension names typed as ``intent, team, agent_tenure``; stored as a list."""

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(item) for item in value)
        return value

    def to_python(self, value):
        if isinstance(value, list | tuple):
            return list(value)
        text = super().to_python(value) or ""
        return [part.strip() for part in text.split(",") if part.strip()]


class ContractChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} ({obj.metric_id})"


def capabilities_to_change(user):
    """Capabilities on which the person may draft and edit metric contracts."""
    return [c for c in Capability.objects.visible_to(user) if can_change(user, Activity.METRIC_CONTRACT, c)]


def people_on(capability=None, *, user=None):
    """People who hold a role on the capability (or, before one is chosen, on any capability the
    person sees): the service checks the exact capability."""
    assignments = RoleAssignment.objects.all()
    if capability is not None:
        assignments = assignments.filter(Q(capability__isnull=True) | Q(capability=capability))
    elif user is not None:
        visible = visible_capability_ids(user)
        if visible is not None:
            assignments = assignments.filter(Q(capability__isnull=True) | Q(capability_id__in=visible))
    return User.objects.filter(is_active=True, pk__in=assignments.values("user_id")).order_by(
        "first_name", "last_name", "username"
    )


class ContractForm(forms.ModelForm):
    """A metric contract in the sections of the playbook's template. The model's rules
    (thresholds coherent with the direction, cuts among the cohort dimensions) put their errors
    beside the fields; the service adds owners and guardrails."""

    capability = forms.ModelChoiceField(
        label=_("Capability"), queryset=Capability.objects.none(), to_field_name="slug"
    )
    cohort_dimensions = DimensionListField(
        label=_("Cohort dimensions"),
        required=False,
        help_text=_("Comma-separated dimensions observations may carry, e.g. intent, team, agent_tenure."),
    )
    required_cuts = DimensionListField(
        label=_("Required cohort cuts"),
        required=False,
        help_text=_("Comma-separated; each must be a cohort dimension, e.g. intent, team."),
    )
    guardrails = ContractChoiceField(
        label=_("Guardrail contracts"),
        queryset=MetricContract.objects.none(),
        required=False,
        help_text=_("Other contracts of the capability that must hold while this one improves."),
    )
    business_owner = PersonChoiceField(
        label=_("Business owner"), queryset=User.objects.none(), required=False
    )
    analytics_owner = PersonChoiceField(
        label=_("Analytics owner"), queryset=User.objects.none(), required=False
    )
    risk_reviewer = PersonChoiceField(label=_("Risk reviewer"), queryset=User.objects.none(), required=False)

    class Meta:
        model = MetricContract
        fields = FORM_FIELDS
        widgets = {
            "last_reviewed": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "next_review": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        editing = self.instance.pk is not None
        if editing:
            for name in CONTRACT_FIXED_FIELDS:
                del self.fields[name]
            capability = self.instance.capability
        else:
            self.fields["capability"].queryset = Capability.objects.filter(
                pk__in=[c.pk for c in capabilities_to_change(user)]
            )
            capability = self._chosen_capability()
        people = people_on(capability, user=user)
        for name in ("business_owner", "analytics_owner", "risk_reviewer"):
            self.fields[name].queryset = people
        guardrails = MetricContract.objects.all()
        if capability is not None:
            guardrails = guardrails.filter(capability=capability)
        else:
            guardrails = guardrails.filter(capability__in=self.fields["capability"].queryset)
        if editing:
            guardrails = guardrails.exclude(pk=self.instance.pk)
        self.fields["guardrails"].queryset = guardrails.select_related("capability").order_by(
            "category", "metric_id"
        )
        for name, field in self.fields.items():
            if isinstance(field.widget, forms.Textarea):
                field.widget.attrs["rows"] = 2 if name in _SHORT_TEXT else 3
        style_widgets(self.fields)

    def _chosen_capability(self):
        slug = self.data.get("capability") if self.is_bound else self.initial.get("capability")
        if isinstance(slug, Capability):
            return slug
        if not slug:
            return None
        return self.fields["capability"].queryset.filter(slug=slug).first()

    def sections(self):
        return [(title, [self[name] for name in names if name in self.fields]) for title, names in SECTIONS]

    def service_fields(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.fields}

    def add_service_errors(self, error) -> None:
        """Put a service's ValidationError beside its fields (others at the top of the form)."""
        for name, messages in error.message_dict.items():
            target = name if name in self.fields else None
            for message in messages:
                self.add_error(target, message)


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("Why retire it"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class LiftHoldForm(forms.Form):
    comment = forms.CharField(
        label=_("Why the hold can be lifted"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The evidence that the stop condition no longer holds. Markdown."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)
