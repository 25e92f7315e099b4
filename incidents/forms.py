from django import forms
from django.utils.translation import gettext_lazy as _

from actions.forms import PersonChoiceField, ReopenTriggerFields, people_for, style_widgets
from incidents.choices import ComplaintSignal, IncidentSeverity, IncidentSource, LearningKind, RootCauseClass
from portfolio.models import Capability
from productops.permissions import can_change
from productops.roles import Activity


def _date():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _area(rows=2):
    return forms.Textarea(attrs={"rows": rows})


class StyledForm(forms.Form):
    def __init__(self, *args, incident=None, user=None, **kwargs):
        self.incident, self.user = incident, user
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class IncidentForm(StyledForm):
    capability = forms.ModelChoiceField(label=_("Capability"), queryset=Capability.objects.none())
    title = forms.CharField(label=_("Title"), max_length=300)
    source = forms.ChoiceField(label=_("Source"), choices=IncidentSource.choices)
    occurred_on = forms.DateField(label=_("Date"), widget=_date())
    severity = forms.ChoiceField(label=_("Severity"), choices=IncidentSeverity.choices)
    complaint_signal = forms.ChoiceField(
        label=_("Complaint signal"), choices=[("", "—"), *ComplaintSignal.choices], required=False
    )
    affected_population = forms.CharField(label=_("Affected population"), required=False, widget=_area())
    affected_versions = forms.CharField(label=_("Affected versions"), required=False, widget=_area())
    impact_customer = forms.CharField(label=_("Customer impact"), required=False, widget=_area())
    impact_operations = forms.CharField(label=_("Operations impact"), required=False, widget=_area())
    impact_risk = forms.CharField(label=_("Risk / compliance impact"), required=False, widget=_area())
    impact_cost = forms.CharField(label=_("Cost / capacity impact"), required=False, widget=_area())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].queryset = Capability.objects.filter(
            pk__in=[c.pk for c in capabilities_to_change(self.user)]
        )


def capabilities_to_change(user):
    return [c for c in Capability.objects.visible_to(user) if can_change(user, Activity.INCIDENT_LEARNING, c)]


class ContainForm(StyledForm):
    immediate_action = forms.CharField(label=_("Immediate action"), widget=_area())
    rollback_release = forms.ModelChoiceField(label=_("Roll back release"), queryset=None, required=False)
    rollback_reason = forms.CharField(label=_("Rollback reason"), required=False)
    restriction = forms.CharField(label=_("Restriction"), required=False, widget=_area())
    communication = forms.CharField(label=_("Communication"), required=False, widget=_area())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from releases.models import Release

        self.fields["rollback_release"].queryset = Release.objects.filter(
            capability_id=self.incident.capability_id, state__in=["released", "canary"]
        )


class RootCauseForm(StyledForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for value, label in RootCauseClass.choices:
            self.fields[f"cause_{value}"] = forms.CharField(
                label=label,
                required=False,
                widget=_area(1),
                help_text=_("Notes; leave empty if it does not apply."),
            )
        style_widgets(self.fields)

    def move_kwargs(self):
        causes = [
            (value, self.cleaned_data[f"cause_{value}"])
            for value in RootCauseClass.values
            if self.cleaned_data.get(f"cause_{value}", "").strip()
        ]
        return {"causes": causes}


class CorrectiveActionForm(ReopenTriggerFields):
    action = forms.CharField(label=_("Action"), max_length=300)
    owner = PersonChoiceField(label=_("Owner"), queryset=None)
    due_date = forms.DateField(label=_("Due date"), widget=_date())
    closure_criterion = forms.CharField(label=_("Closure criterion"), widget=_area())

    field_order = ["action", "owner", "due_date", "closure_criterion"]

    def __init__(self, *args, incident=None, user=None, **kwargs):
        self.incident = incident
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = people_for(user)
        style_widgets(self.fields)

    def clean(self):
        data = super().clean()
        self.clean_trigger()
        return data

    def move_kwargs(self):
        data = self.cleaned_data
        return {
            "action": data["action"],
            "owner": data["owner"],
            "due_date": data["due_date"],
            "closure_criterion": data["closure_criterion"],
            "reopen_trigger": self.trigger_data(),
        }


class LearningItemForm(StyledForm):
    kind = forms.ChoiceField(label=_("Kind"), choices=LearningKind.choices)
    reference = forms.CharField(
        label=_("Record id"), required=False, help_text=_("e.g. a backlog item, REL-2026-001 or a metric id")
    )
    text = forms.CharField(label=_("What changed"), required=False, widget=_area())
    link = forms.URLField(label=_("Link"), required=False, assume_scheme="https")

    def move_kwargs(self):
        from productops import references

        data = self.cleaned_data
        record = references.resolve(data["reference"].strip()) if data["reference"].strip() else None
        if data["reference"].strip() and record is None:
            self.add_error("reference", _("No record has this id."))
            raise forms.ValidationError("")
        return {"kind": data["kind"], "record": record, "text": data["text"], "link": data["link"]}


class RecordLearningForm(StyledForm):
    next_review_on = forms.DateField(label=_("Next review"), required=False, widget=_date())


class ForumReviewForm(StyledForm):
    reviewed_on = forms.DateField(label=_("Reviewed on"), widget=_date())
    note = forms.CharField(label=_("Forum session"), widget=_area())


class WatchlistForm(StyledForm):
    sample_size = forms.IntegerField(label=_("Sample size"), min_value=1)
