from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from actions.forms import PersonChoiceField, style_widgets
from portfolio.choices import RiskTier
from portfolio.models import Capability
from productops.models import RoleAssignment, User
from productops.permissions import can_change, visible_capability_ids
from productops.roles import Activity, Role
from releases.choices import (
    DEFAULT_IMPACT_PERIODS,
    EVIDENCE_EXTENSIONS,
    IMPACT_PERIOD_CHOICES,
    DeployTarget,
    ImpactDecision,
    ObjectType,
)
from releases.models import validate_evidence_file


def _date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def capabilities_to_change(user):
    """Capabilities whose release calendar the person keeps (A or R)."""
    return [c for c in Capability.objects.visible_to(user) if can_change(user, Activity.RELEASE_CALENDAR, c)]


def people_for(user):
    """People who may own releases on the capabilities the person sees (any role but Viewer).
    The service checks the exact capability; this keeps the list short."""
    visible = visible_capability_ids(user)
    assignments = RoleAssignment.objects.exclude(role=Role.VIEWER)
    if visible is not None:
        assignments = assignments.filter(Q(capability__isnull=True) | Q(capability_id__in=visible))
    return (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=assignments.values("user_id")) | Q(is_superuser=True))
        .order_by("first_name", "last_name", "username")
    )


class ServiceErrorsMixin:
    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class ReleaseForm(ServiceErrorsMixin, forms.Form):
    """A release as the calendar lists it (playbook 12.2)."""

    capability = forms.ModelChoiceField(
        label=_("Capability"), queryset=Capability.objects.none(), to_field_name="slug"
    )
    object_type = forms.ChoiceField(label=_("Object type"), choices=ObjectType.choices)
    change = forms.CharField(
        label=_("Change"),
        max_length=300,
        help_text=_("What changes, e.g. “shorter, policy-cited billing suggestions”."),
    )
    version_from = forms.CharField(
        label=_("Version from"),
        max_length=80,
        required=False,
        help_text=_("Empty: the capability's current version of this object type."),
    )
    version_to = forms.CharField(label=_("Version to"), max_length=80)
    planned_date = forms.DateField(label=_("Planned date"), widget=_date_input())
    affected_population = forms.CharField(
        label=_("Affected population"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who sees the change: intents, teams, channels, share of traffic."),
    )
    risk_tier = forms.ChoiceField(
        label=_("Risk tier"),
        choices=[("", _("The capability's risk tier"))] + list(RiskTier.choices),
        required=False,
    )
    owner = PersonChoiceField(label=_("Owner"), queryset=User.objects.none())
    canary_plan = forms.CharField(
        label=_("Canary plan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Which population gets it first, for how long, and what is watched. Markdown."),
    )
    rollback_plan = forms.CharField(
        label=_("Rollback plan"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("How the previous version comes back, and who does it. Required to submit. Markdown."),
    )
    post_release_review_date = forms.DateField(
        label=_("Post-release review date"),
        required=False,
        widget=_date_input(),
        help_text=_("When the impact review looks at the contracts before and after. Required to submit."),
    )

    fieldsets = [
        (
            _("Change"),
            ["capability", "object_type", "change", "version_from", "version_to", "affected_population"],
        ),
        (
            _("Plan"),
            [
                "planned_date",
                "risk_tier",
                "owner",
                "canary_plan",
                "rollback_plan",
                "post_release_review_date",
            ],
        ),
    ]

    def __init__(self, *args, user, release=None, **kwargs):
        if release is not None:
            kwargs.setdefault(
                "initial",
                {
                    "capability": release.capability.slug,
                    "object_type": release.object_type,
                    "change": release.change,
                    "version_from": release.version_from,
                    "version_to": release.version_to,
                    "planned_date": release.planned_date,
                    "affected_population": release.affected_population,
                    "risk_tier": release.risk_tier,
                    "owner": release.owner_id,
                    "canary_plan": release.canary_plan,
                    "rollback_plan": release.rollback_plan,
                    "post_release_review_date": release.post_release_review_date,
                },
            )
        super().__init__(*args, **kwargs)
        self.release = release
        if release is not None:
            # The capability is fixed once the release is on the calendar.
            del self.fields["capability"]
        else:
            self.fields["capability"].queryset = Capability.objects.filter(
                pk__in=[c.pk for c in capabilities_to_change(user)]
            )
        self.fields["owner"].queryset = people_for(user)
        style_widgets(self.fields)

    def grouped(self):
        return [
            (title, [self[name] for name in names if name in self.fields]) for title, names in self.fieldsets
        ]

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("capability", None)
        return data


class CommentForm(forms.Form):
    """An approver's verdict: always with a comment."""

    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required: what the verdict rests on. Markdown."),
    )

    def __init__(self, *args, release=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


class DeployForm(forms.Form):
    to = forms.ChoiceField(label=_("Deploy to"), choices=DeployTarget.choices)
    on = forms.DateField(
        label=_("Deployed on"),
        widget=_date_input(),
        help_text=_("Today, or the day it went out if recorded afterwards."),
    )

    def __init__(self, *args, release=None, **kwargs):
        kwargs.setdefault("initial", {"on": timezone.localdate()})
        super().__init__(*args, **kwargs)
        if release is not None:
            if release.state == "approved_for_canary":
                self.fields["to"].choices = [(DeployTarget.CANARY, DeployTarget.CANARY.label)]
            elif release.state == "canary":
                self.fields["to"].choices = [(DeployTarget.RELEASED, DeployTarget.RELEASED.label)]
        style_widgets(self.fields)


class RollbackForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), help_text=_("Required. Markdown.")
    )

    def __init__(self, *args, release=None, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)


# One form per move of the release page (None: a plain button).
MOVE_FORMS = {
    "submit": None,
    "approve": CommentForm,
    "approve_for_canary": CommentForm,
    "hold": CommentForm,
    "request_changes": CommentForm,
    "reject": CommentForm,
    "deploy": DeployForm,
    "rollback": RollbackForm,
}


class AttestForm(forms.Form):
    """Attest one evidence item with a link or a file, and a note."""

    link = forms.URLField(label=_("Link"), required=False, max_length=500, assume_scheme="https")
    file = forms.FileField(
        label=_("File"),
        required=False,
        validators=[validate_evidence_file],
        help_text=_("One of: %(types)s; at most 10 MB.") % {"types": ", ".join(EVIDENCE_EXTENSIONS)},
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("link") and not cleaned.get("file") and not self.errors:
            self.add_error("link", _("Attest with a link or a file that shows the evidence."))
        return cleaned


class ImpactReviewForm(forms.Form):
    """The reviewer's part of the impact review (playbook 21.3): the rest is computed."""

    expected_effect = forms.CharField(
        label=_("Expected effect"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "What the release was meant to move, e.g. “billing AHT down 5% with repeat contact flat”."
        ),
    )
    decision = forms.ChoiceField(label=_("Decision"), choices=ImpactDecision.choices)
    comment = forms.CharField(
        label=_("Comment"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What the observed effect shows, and why this decision. Markdown."),
    )
    next_review_date = forms.DateField(
        label=_("Next review date"),
        required=False,
        widget=_date_input(),
        help_text=_("For an extended canary: when to look again."),
    )
    periods = forms.TypedChoiceField(
        label=_("Periods before and after"),
        choices=[(n, n) for n in IMPACT_PERIOD_CHOICES],
        coerce=int,
        initial=DEFAULT_IMPACT_PERIODS,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_widgets(self.fields)
