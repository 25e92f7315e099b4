from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.choices import EVIDENCE_EXTENSIONS, Comparison, SourceKind, TriggerKind
from actions.models import ReopenTrigger, metric_id_validator, validate_evidence_file
from portfolio.models import Capability
from productops import references
from productops.models import RoleAssignment, User
from productops.permissions import can_change, visible_capability_ids
from productops.roles import Activity, roles_that_change

TRIGGER_FORM_FIELDS = ["trigger_kind", "contract_metric_id", "comparison", "level", "periods", "recheck_on"]


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


def style_widgets(fields) -> None:
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


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def capabilities_to_change(user):
    """Capabilities on which the person may raise actions (A or R on action closure)."""
    return [c for c in Capability.objects.visible_to(user) if can_change(user, Activity.ACTION_CLOSURE, c)]


def people_for(user):
    """People who may own or review actions on the capabilities the person sees. The service
    checks the exact capability; this keeps the list short and hides other capabilities' people."""
    roles = roles_that_change(Activity.ACTION_CLOSURE)
    visible = visible_capability_ids(user)
    assignments = RoleAssignment.objects.filter(role__in=roles)
    if visible is not None:
        assignments = assignments.filter(Q(capability__isnull=True) | Q(capability_id__in=visible))
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=assignments.values("user_id")) | Q(is_superuser=True))
        .order_by("first_name", "last_name", "username")
    )


class ReopenTriggerFields(forms.Form):
    """The structured reopen trigger, shared by the create and edit forms."""

    trigger_kind = forms.ChoiceField(
        label=_("Reopen when"),
        choices=[("", _("Never (no trigger)"))] + list(TriggerKind.choices),
        required=False,
    )
    contract_metric_id = forms.CharField(
        label=_("Metric contract id"),
        required=False,
        max_length=120,
        validators=[metric_id_validator],
        help_text=_("e.g. cc_agent_assist.repeat_contact_7d"),
    )
    comparison = forms.ChoiceField(
        label=_("Comparison"), choices=[("", "—")] + list(Comparison.choices), required=False
    )
    level = forms.DecimalField(label=_("Level"), required=False, max_digits=14, decimal_places=4)
    periods = forms.IntegerField(label=_("Consecutive periods after closure"), required=False, min_value=1)
    recheck_on = forms.DateField(label=_("Re-check on"), required=False, widget=_date_input())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)

    def clean_trigger(self):
        """Check the trigger with the model's own rule, so errors sit on the right field."""
        data = self.trigger_data()
        if data is None:
            return
        trigger = ReopenTrigger(**data)
        try:
            trigger.clean()
        except ValidationError as error:
            for name, messages in error.message_dict.items():
                field = "trigger_kind" if name == "kind" else name
                for message in messages:
                    self.add_error(field, message)

    def trigger_data(self) -> dict | None:
        kind = self.cleaned_data.get("trigger_kind")
        if not kind:
            return None
        return {
            "kind": kind,
            "contract_metric_id": self.cleaned_data.get("contract_metric_id") or "",
            "comparison": self.cleaned_data.get("comparison") or "",
            "level": self.cleaned_data.get("level"),
            "periods": self.cleaned_data.get("periods"),
            "recheck_on": self.cleaned_data.get("recheck_on"),
        }


class ActionForm(ReopenTriggerFields):
    """Raise an action: what, on which capability, who owns it, by when, and what will prove it done."""

    capability = forms.ModelChoiceField(
        label=_("Capability"), queryset=Capability.objects.none(), to_field_name="slug"
    )
    action = forms.CharField(label=_("Action"), max_length=300)
    source_kind = forms.ChoiceField(label=_("Source"), choices=SourceKind.choices, initial=SourceKind.OTHER)
    source_reference = forms.CharField(
        label=_("Source record"),
        required=False,
        max_length=40,
        help_text=_("The id of what raised it, if it is in ProductOps, e.g. INC-0003."),
    )
    source_signal = forms.CharField(
        label=_("Source signal"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What was seen, e.g. “repeat contact up 8% in billing calls”."),
    )
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none())
    reviewer = PersonChoiceField(
        label=_("Reviewer"),
        queryset=User.objects.none(),
        required=False,
        help_text=_("Verifies the closure evidence; never the owner. Empty: the capability's AI PM."),
    )
    due_date = forms.DateField(label=_("Due date"), widget=_date_input())
    closure_criterion = forms.CharField(
        label=_("Closure criterion"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What evidence will prove the action done. Markdown."),
    )

    field_order = [
        "capability",
        "action",
        "source_kind",
        "source_reference",
        "source_signal",
        "owner",
        "reviewer",
    ]
    fieldsets = [
        (_("Action"), ["capability", "action", "owner", "reviewer", "due_date", "closure_criterion"]),
        (_("Source"), ["source_kind", "source_reference", "source_signal"]),
        (_("Reopen trigger"), TRIGGER_FORM_FIELDS),
    ]
    service_fields = [
        "capability",
        "action",
        "owner",
        "reviewer",
        "due_date",
        "closure_criterion",
        "source_kind",
        "source_signal",
    ]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].queryset = Capability.objects.filter(
            pk__in=[c.pk for c in capabilities_to_change(user)]
        )
        people = people_for(user)
        self.fields["owner"].queryset = people
        self.fields["reviewer"].queryset = people

    def clean_source_reference(self):
        reference = self.cleaned_data["source_reference"].strip().upper()
        if not reference:
            return None
        record = references.resolve(reference)
        if record is None:
            raise ValidationError(_("No record has the id %(id)s."), params={"id": reference})
        return record

    def clean(self):
        cleaned = super().clean()
        owner, reviewer = cleaned.get("owner"), cleaned.get("reviewer")
        if owner and reviewer and owner == reviewer:
            self.add_error("reviewer", _("The reviewer must be someone other than the owner."))
        self.clean_trigger()
        return cleaned

    def grouped(self):
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.fieldsets
        ]

    def service_kwargs(self) -> dict:
        kwargs = {name: self.cleaned_data.get(name) for name in self.service_fields}
        kwargs["source"] = self.cleaned_data.get("source_reference")
        kwargs["reopen_trigger"] = self.trigger_data()
        return kwargs

    def field_for_error(self, name: str | None) -> str | None:
        return name if name in self.fields else None


class ActionEditForm(ActionForm):
    """Change an action's details. Its state changes only through the moves on its page."""

    fieldsets = [
        (_("Action"), ["action", "owner", "reviewer", "due_date", "closure_criterion"]),
        (_("Source"), ["source_kind", "source_signal"]),
        (_("Reopen trigger"), TRIGGER_FORM_FIELDS),
    ]
    service_fields = [
        "action",
        "owner",
        "reviewer",
        "due_date",
        "closure_criterion",
        "source_kind",
        "source_signal",
    ]

    def __init__(self, *args, user, instance, **kwargs):
        initial = {name: getattr(instance, name) for name in self.service_fields}
        trigger = getattr(instance, "reopen_trigger", None)
        if trigger is not None:
            initial.update(
                trigger_kind=trigger.kind,
                contract_metric_id=trigger.contract_metric_id,
                comparison=trigger.comparison,
                level=trigger.level,
                periods=trigger.periods,
                recheck_on=trigger.recheck_on,
            )
        super().__init__(*args, user=user, initial=initial, **kwargs)
        del self.fields["capability"]
        del self.fields["source_reference"]

    def service_kwargs(self) -> dict:
        kwargs = {name: self.cleaned_data.get(name) for name in self.service_fields}
        kwargs["reopen_trigger"] = self.trigger_data()
        return kwargs


class MoveForm(forms.Form):
    """The input of one move on an action's page."""

    def __init__(self, *args, action, **kwargs):
        self.action = action
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class ReasonForm(MoveForm):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))


class BlockForm(ReasonForm):
    reason = forms.CharField(label=_("What blocks it"), widget=forms.Textarea(attrs={"rows": 2}))


class ReopenForm(ReasonForm):
    reason = forms.CharField(
        label=_("Why the closure did not hold"), widget=forms.Textarea(attrs={"rows": 2})
    )


class EvidenceForm(MoveForm):
    text = forms.CharField(
        label=_("Closure evidence"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What shows the closure criterion is met. Markdown."),
    )
    link = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")
    file = forms.FileField(
        label=_("File"),
        required=False,
        validators=[validate_evidence_file],
        help_text=_("At most 10 MB: %(types)s.") % {"types": ", ".join(EVIDENCE_EXTENSIONS)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(f".{ext}" for ext in EVIDENCE_EXTENSIONS)}),
    )


class VerifyForm(MoveForm):
    comment = forms.CharField(label=_("Comment"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SendBackForm(MoveForm):
    comment = forms.CharField(label=_("What is missing"), widget=forms.Textarea(attrs={"rows": 2}))


class EscalateForm(MoveForm):
    to = PersonChoiceField(label=_("Escalate to"), queryset=User.objects.none())
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, action=action, **kwargs)
        # Anyone who can see the capability: escalation often goes to a sponsor who only reads.
        assignments = RoleAssignment.objects.filter(
            Q(capability__isnull=True) | Q(capability_id=action.capability_id)
        )
        self.fields["to"].queryset = (
            User.objects.filter(is_active=True, pk__in=assignments.values("user_id"))
            .exclude(pk=action.owner_id)
            .order_by("first_name", "last_name", "username")
        )


# The form each move's POST binds (None: the move takes no input).
MOVE_FORMS = {
    "start": None,
    "block": BlockForm,
    "unblock": None,
    "submit_evidence": EvidenceForm,
    "verify": VerifyForm,
    "send_back": SendBackForm,
    "reopen": ReopenForm,
    "escalate": EscalateForm,
}
