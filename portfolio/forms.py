from django import forms
from django.utils.translation import gettext_lazy as _

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
