from django import forms
from django.apps import apps
from django.utils.translation import gettext_lazy as _

from portfolio.choices import (
    REQUIRED_LINK_TEXT,
    SCORE_MAX,
    SCORE_MIN,
    SCORE_PARTS,
    BacklogClass,
    BacklogStatus,
    IncidentSeverity,
    MetricDirection,
)
from portfolio.models import Capability

PRODUCT_FIELDS = [
    "name",
    "slug",
    "workflow",
    "target_users",
    "case_types",
    "customer_impact",
    "operations_impact",
    "risk_tier",
    "lifecycle_status",
]
DECISION_RIGHT_FIELDS = [
    "decisions_product",
    "decisions_risk_review",
    "decisions_platform_review",
    "decisions_executive_review",
]
SUCCESS_FIELDS = [
    "success_outcome",
    "success_adoption",
    "success_quality",
    "success_risk",
    "success_cost",
    "success_reliability",
    "success_learning",
]
BASELINE_FIELDS = [
    "baseline_outcome",
    "baseline_quality",
    "baseline_cost",
    "baseline_risk",
    "baseline_capacity",
]


class CapabilityForm(forms.ModelForm):
    """The Product Ops charter of a capability (playbook 21.1), in the charter's sections."""

    fieldsets = [
        (_("Product"), PRODUCT_FIELDS),
        (_("Decision rights"), DECISION_RIGHT_FIELDS),
        (_("Success criteria"), SUCCESS_FIELDS),
        (_("Pre-AI baseline"), BASELINE_FIELDS),
    ]

    class Meta:
        model = Capability
        fields = PRODUCT_FIELDS + DECISION_RIGHT_FIELDS + SUCCESS_FIELDS + BASELINE_FIELDS
        widgets = {
            name: forms.Textarea(attrs={"rows": 2})
            for name in ["case_types", "customer_impact", "operations_impact"]
            + DECISION_RIGHT_FIELDS
            + SUCCESS_FIELDS
            + BASELINE_FIELDS
        }

    def grouped(self):
        """The bound fields, section by section, for the template."""
        return [(title, [self[name] for name in names]) for title, names in self.fieldsets]


# --- Backlog governance ------------------------------------------------------------------------

SCORE_CHOICES = [(value, str(value)) for value in range(SCORE_MIN, SCORE_MAX + 1)]


def _styled(fields) -> None:
    """Bootstrap classes on each widget (the shared form_field include renders them as they are)."""
    for field in fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        else:
            css = "form-control"
        widget.attrs.setdefault("class", css)


def evidence_help_text() -> str:
    required = "; ".join(f"{label} — {REQUIRED_LINK_TEXT[value]}" for value, label in BacklogClass.choices)
    return str(
        _(
            "The id of the record the item rests on: INC-0003, EXP-001, REL-2026-001, ASM-0002, DEC-0007, "
            "a signal as SIG-12, or a metric id such as cc_agent_assist.repeat_contact_7d. Without one the "
            "item never enters the top band. What each class requires (16.1): %(required)s."
        )
    ) % {"required": required}


class MetricContractChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.metric_id} — {obj.name}"


class BacklogItemForm(forms.Form):
    """Raise or edit a backlog item: its class and the evidence that class requires (16.1), the
    metric movement it promises (16.3), the score parts of 16.2 and the harm override."""

    title = forms.CharField(label=_("Title"), max_length=200)
    item_class = forms.ChoiceField(label=_("Class"), choices=BacklogClass.choices)
    description = forms.CharField(
        label=_("Description"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Markdown."),
    )
    evidence = forms.CharField(label=_("Evidence link"), required=False, max_length=120)
    expected_metric = MetricContractChoiceField(
        label=_("Expected metric"),
        queryset=None,
        to_field_name="metric_id",
        help_text=_("The metric contract of this capability the item should move (16.3)."),
    )
    expected_direction = forms.ChoiceField(label=_("Direction"), choices=MetricDirection.choices)
    expected_movement = forms.CharField(
        label=_("Expected movement"),
        required=False,
        max_length=200,
        help_text=_("How much, by when, e.g. “−2 points on billing intents within 8 weeks”."),
    )
    outcome_impact = forms.TypedChoiceField(
        label=_("Outcome impact"), choices=SCORE_CHOICES, coerce=int, initial=0
    )
    risk_reduction = forms.TypedChoiceField(
        label=_("Risk reduction"), choices=SCORE_CHOICES, coerce=int, initial=0
    )
    adoption_unblock = forms.TypedChoiceField(
        label=_("Adoption unblock"), choices=SCORE_CHOICES, coerce=int, initial=0
    )
    cost_capacity_relief = forms.TypedChoiceField(
        label=_("Cost/capacity relief"), choices=SCORE_CHOICES, coerce=int, initial=0
    )
    evidence_need = forms.TypedChoiceField(
        label=_("Evidence need"), choices=SCORE_CHOICES, coerce=int, initial=0
    )
    platform_reuse = forms.TypedChoiceField(
        label=_("Platform reuse"), choices=SCORE_CHOICES, coerce=int, initial=0
    )
    delivery_effort = forms.TypedChoiceField(
        label=_("Delivery effort"), choices=SCORE_CHOICES, coerce=int, initial=0, help_text=_("Subtracted.")
    )
    change_saturation = forms.TypedChoiceField(
        label=_("Change saturation"), choices=SCORE_CHOICES, coerce=int, initial=0, help_text=_("Subtracted.")
    )
    risk_override = forms.BooleanField(
        label=_("Risk/customer-harm override"),
        required=False,
        help_text=_(
            "Puts the item on top regardless of its score; it still needs an evidence link for the top band."
        ),
    )
    override_reason = forms.CharField(
        label=_("Override reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required with the override: the harm it prevents."),
    )
    incident_severity = forms.ChoiceField(
        label=_("Incident severity"),
        required=False,
        choices=[("", _("Not an incident correction"))] + list(IncidentSeverity.choices),
        help_text=_("When the item corrects an incident: Sev1 and Sev2 corrections outrank other work."),
    )
    problem_key = forms.CharField(
        label=_("Problem key"),
        required=False,
        max_length=60,
        help_text=_(
            "A short name for a problem other capabilities may repeat, e.g. evidence-citation; the same "
            "key on several capabilities makes a platform-reuse group."
        ),
    )

    fieldsets = [
        (_("Item"), ["title", "item_class", "description", "evidence"]),
        (_("Expected metric movement"), ["expected_metric", "expected_direction", "expected_movement"]),
        (_("Score parts (0–5)"), SCORE_PARTS),
        (
            _("Overrides and grouping"),
            ["risk_override", "override_reason", "incident_severity", "problem_key"],
        ),
    ]

    def __init__(self, *args, capability, instance=None, **kwargs):
        if instance is not None:
            initial = {name: getattr(instance, name) for name in self.base_fields if hasattr(instance, name)}
            initial["expected_metric"] = (
                instance.expected_metric.metric_id if instance.expected_metric_id else None
            )
            initial["evidence"] = (
                instance.evidence_reference.split(" · ")[0] if instance.has_evidence_link else ""
            )
            kwargs["initial"] = {**initial, **kwargs.get("initial", {})}
        super().__init__(*args, **kwargs)
        self.capability = capability
        contracts = apps.get_model("contracts", "MetricContract")._default_manager
        self.fields["expected_metric"].queryset = contracts.filter(capability=capability).order_by(
            "metric_id"
        )
        self.fields["evidence"].help_text = evidence_help_text()
        _styled(self.fields)

    def clean_problem_key(self):
        return self.cleaned_data["problem_key"].strip().lower()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("risk_override") and not (cleaned.get("override_reason") or "").strip():
            self.add_error("override_reason", _("Say what harm the override prevents."))
        return cleaned

    def grouped(self):
        return [(title, [self[name] for name in names]) for title, names in self.fieldsets]

    def service_kwargs(self) -> dict:
        """The cleaned values as ``backlog_item_create`` / ``backlog_item_update`` take them
        (the typed evidence reference is resolved and checked by the service)."""
        return {name: self.cleaned_data.get(name) for name in self.fields}

    def field_for_error(self, name: str | None) -> str | None:
        return name if name in self.fields else None


class BacklogMoveForm(forms.Form):
    """A status move on an item's page."""

    status = forms.ChoiceField(label=_("Move to"), choices=BacklogStatus.choices)
    reason = forms.CharField(
        label=_("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when dropping an item, or taking it back out of done or dropped."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _styled(self.fields)
