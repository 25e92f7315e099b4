from django import forms
from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from decisions.choices import DecisionType
from decisions.services import evidence_split
from portfolio.models import Capability
from productops.permissions import can_change
from productops.roles import Activity

EVIDENCE_HELP = _(
    "Readable ids of the records this decision rests on, such as ACT-0003, REL-2026-001 or "
    "DEC-0012, and links to documents, separated by commas. Leave empty if there is none: "
    "the decision will be marked “no evidence”."
)


def capabilities_to_record_for(user):
    """Capabilities where the person may record decisions (A or R on the decision log)."""
    visible = Capability.objects.visible_to(user).order_by("name")
    allowed = [capability.pk for capability in visible if can_change(user, Activity.DECISION_LOG, capability)]
    return Capability.objects.filter(pk__in=allowed).order_by("name")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        full = obj.get_full_name()
        return f"{full} ({obj.username})" if full else obj.username


class DecisionForm(forms.Form):
    """A decision as a forum records it (playbook 14.1). The service checks the rules; the form
    only turns the page's inputs into its arguments."""

    capability = forms.ModelChoiceField(label=_("Capability"), queryset=Capability.objects.none())
    decided_on = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
        help_text=_("Empty: today."),
    )
    type = forms.ChoiceField(label=_("Type"), choices=[("", "---------"), *DecisionType.choices])
    decision = forms.CharField(
        label=_("Decision"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What was decided, for whom, and on what condition. Markdown allowed."),
    )
    options_considered = forms.CharField(
        label=_("Options considered"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = forms.CharField(
        label=_("Evidence"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=EVIDENCE_HELP
    )
    owner = UserChoiceField(label=_("Owner"), queryset=get_user_model().objects.none())
    review_trigger = forms.CharField(
        label=_("Review trigger"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What evidence or event should bring this decision back to a forum."),
    )
    review_date = forms.DateField(
        label=_("Review date"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, user, capability=None, **kwargs):
        super().__init__(*args, **kwargs)
        if capability is not None:
            # Superseding: the capability is the old decision's, not a choice.
            del self.fields["capability"]
        else:
            self.fields["capability"].queryset = capabilities_to_record_for(user)
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, role_assignments__isnull=False)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        for field in self.fields.values():
            css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            field.widget.attrs.setdefault("class", css)

    def clean_evidence(self):
        return evidence_split(self.cleaned_data.get("evidence", ""))

    def service_arguments(self) -> dict:
        """The cleaned inputs as keyword arguments of ``decision_record``/``decision_supersede``."""
        data = dict(self.cleaned_data)
        data.pop("capability", None)
        return data
