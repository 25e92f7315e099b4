import json

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from decisions.choices import DecisionType
from forums.choices import Frequency
from forums.models import Forum
from portfolio.models import Capability
from productops.roles import Role


class ForumForm(forms.ModelForm):
    """A forum's settings; the agenda is edited as JSON (a list of timed blocks)."""

    attendee_roles = forms.MultipleChoiceField(
        label=_("Attendee roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    decision_types = forms.MultipleChoiceField(
        label=_("Decision types it may take"),
        choices=DecisionType.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    agenda = forms.CharField(
        label=_("Agenda template"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "class": "font-monospace"}),
        help_text=_(
            'JSON: [{"minutes": 10, "title": "…", "inputs": "…", "outputs": "…"}, …]. Empty: the cadence\'s default.'
        ),
    )

    class Meta:
        model = Forum
        fields = [
            "name",
            "cadence",
            "owner",
            "attendees",
            "attendee_roles",
            "decision_types",
            "frequency",
            "weekday",
            "time_of_day",
            "week_of_month",
            "anchor_date",
            "duration_minutes",
            "scope",
            "agenda",
        ]
        widgets = {
            "time_of_day": forms.TimeInput(attrs={"type": "time"}),
            "anchor_date": forms.DateInput(attrs={"type": "date"}),
        }

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = get_user_model().objects.filter(is_active=True).order_by("username")
        self.fields["attendees"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("username")
        )
        self.fields["scope"].queryset = Capability.objects.visible_to(user)
        if self.instance.pk:
            self.initial["agenda"] = json.dumps(self.instance.agenda, indent=2, ensure_ascii=False)

    def clean_agenda(self):
        text = (self.cleaned_data.get("agenda") or "").strip()
        if not text:
            return []
        try:
            value = json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(
                _("The agenda is not valid JSON: %(error)s") % {"error": error}
            ) from error
        return value

    def clean(self):
        data = super().clean()
        if data.get("frequency") in (Frequency.MONTHLY, Frequency.QUARTERLY) and not data.get(
            "week_of_month"
        ):
            self.add_error("week_of_month", _("Say which week of the month, e.g. the first Tuesday."))
        return data

    def service_kwargs(self) -> dict:
        data = dict(self.cleaned_data)
        scope = data.pop("scope")
        attendees = data.pop("attendees")
        return {"fields": data, "scope": list(scope), "attendees": list(attendees)}


class DecisionRequestedForm(forms.Form):
    decision_requested = forms.CharField(
        label=_("Decision requested"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
