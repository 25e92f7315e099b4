"""Forms of the monthly value review: choosing the memo to generate, editing a draft's lines,
and recording the forum's decision with its assumption ledger update. The rules are in
``forums.memos``; these forms only read what people typed."""

import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.forms import style_widgets
from assumptions.choices import AssumptionStatus
from decisions.choices import DecisionType
from forums.choices import Cadence
from forums.memos import (
    DECISION_TYPES,
    JUDGMENTS,
    READ_ONLY_LINES,
    SECTIONS,
    MemoDecision,
    options_considered,
)
from forums.models import Session
from portfolio.models import Capability


class MonthField(forms.DateField):
    """A month typed as YYYY-MM (the browser's month picker), read as its first day."""

    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")
    input_formats = ["%Y-%m", "%Y-%m-%d"]

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if day else day


class MemoGenerateForm(forms.Form):
    capability = forms.ModelChoiceField(
        label=_("Capability"), queryset=Capability.objects.none(), to_field_name="slug"
    )
    month = MonthField(label=_("Month reviewed"), help_text=_("The month whose data the memo reads."))
    session = forms.ModelChoiceField(
        label=_("Session"),
        queryset=Session.objects.none(),
        required=False,
        help_text=_("The monthly value review that decides on it: its date is the decision deadline."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["capability"].queryset = Capability.objects.visible_to(user).order_by("name")
        self.fields["session"].queryset = (
            Session.objects.filter(forum__cadence=Cadence.MONTHLY_VALUE_REVIEW)
            .visible_to(user)
            .select_related("forum")
            .order_by("-scheduled_at")
        )
        style_widgets(self.fields)


def line_field_name(section: str, line: str) -> str:
    return f"{section}__{line}"


class MemoEditForm(forms.Form):
    """Every editable line of the draft, grouped by the sections of 8.4, and the judgments the
    forum's people add to the data (each can only make the recommendation more cautious)."""

    def __init__(self, *args, memo, **kwargs):
        super().__init__(*args, **kwargs)
        self.memo = memo
        lines = memo.fields or {}
        self.groups = []
        for section, heading, line_specs in SECTIONS:
            names = []
            for line, label in line_specs:
                if (section, line) in READ_ONLY_LINES:
                    continue
                name = line_field_name(section, line)
                text = (lines.get(section) or {}).get(line, "")
                self.fields[name] = forms.CharField(
                    label=label,
                    initial=text,
                    widget=forms.Textarea(attrs={"rows": max(2, min(8, text.count("\n") + 2))}),
                )
                names.append(name)
            self.groups.append((heading, names))
        judgments = (memo.fields or {}).get("judgments") or {}
        self.judgment_names = []
        for key, label in JUDGMENTS.items():
            self.fields[f"judgment__{key}"] = forms.CharField(
                label=label,
                required=False,
                initial=judgments.get(key, ""),
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text=_(
                    "Leave empty when there is none. Written here, it counts in the decision matrix."
                ),
            )
            self.judgment_names.append(f"judgment__{key}")
        style_widgets(self.fields)

    def grouped_fields(self):
        return [(heading, [self[name] for name in names]) for heading, names in self.groups]

    def judgment_fields(self):
        return [self[name] for name in self.judgment_names]

    def service_kwargs(self) -> dict:
        lines: dict[str, dict[str, str]] = {}
        judgments = {}
        for name, value in self.cleaned_data.items():
            kind, _sep, key = name.partition("__")
            if kind == "judgment":
                judgments[key] = value
            else:
                lines.setdefault(kind, {})[key] = value
        return {"lines": lines, "judgments": judgments}


STATUS_CHOICES = [
    ("", _("— not reviewed this time")),
    (AssumptionStatus.CONFIRMED, AssumptionStatus.CONFIRMED.label),
    (AssumptionStatus.WEAKENED, AssumptionStatus.WEAKENED.label),
    (AssumptionStatus.INVALIDATED, AssumptionStatus.INVALIDATED.label),
    (AssumptionStatus.NEEDS_EVIDENCE, _("Needs more evidence")),
]


class MemoDecideForm(forms.Form):
    """The forum's decision on a sent memo and, per assumption, the status it confirms."""

    decision = forms.ChoiceField(label=_("Decision (playbook 8.3)"), choices=MemoDecision.choices)
    type = forms.ChoiceField(
        label=_("Logged as"),
        required=False,
        help_text=_(
            "Empty: the decision's usual type (redesign or restrict → redesign, retire or park → retire, …)."
        ),
    )
    text = forms.CharField(label=_("What the forum decided"), widget=forms.Textarea(attrs={"rows": 3}))
    owner = forms.ModelChoiceField(label=_("Decision owner"), queryset=get_user_model().objects.none())
    review_trigger = forms.CharField(
        label=_("Review trigger"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    options = forms.CharField(
        label=_("Options considered"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "class": "form-control font-monospace small"}),
        help_text=_("The matrix's rows, as the memo shows them; add what else the forum weighed."),
    )

    def __init__(self, *args, memo, **kwargs):
        super().__init__(*args, **kwargs)
        self.memo = memo
        fields = memo.fields or {}
        lines = fields
        meta = fields.get("meta") or {}
        types = sorted({value for values in DECISION_TYPES.values() for value in values})
        labels = dict(DecisionType.choices)
        self.fields["type"].choices = [("", _("— its usual type"))] + [
            (value, labels[value]) for value in types
        ]
        self.fields["decision"].initial = memo.recommendation
        self.fields["text"].initial = (lines.get("decision") or {}).get("decision", "")
        self.fields["review_trigger"].initial = (lines.get("decision") or {}).get("next_review_trigger", "")
        self.fields["options"].initial = options_considered(memo.matrix or {})
        self.fields["owner"].queryset = (
            get_user_model()
            .objects.filter(is_active=True)
            .filter(
                Q(role_assignments__capability=memo.capability) | Q(role_assignments__capability__isnull=True)
            )
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        self.fields["owner"].initial = meta.get("owner_id")
        self.assumption_rows = []
        for proposal in fields.get("assumption_update") or []:
            pk = proposal["pk"]
            status = forms.ChoiceField(
                label=_("Status"),
                choices=STATUS_CHOICES,
                required=False,
                initial="" if proposal["needs_expiry"] else proposal["proposed"],
            )
            evidence = forms.CharField(
                label=_("Evidence"),
                required=False,
                initial=proposal["evidence"],
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            expires = forms.DateField(
                label=_("New expiry date"),
                required=False,
                widget=forms.DateInput(attrs={"type": "date"}),
                help_text=(
                    _("Required: it has expired or its expiry date has passed.")
                    if proposal["needs_expiry"]
                    else ""
                ),
            )
            self.fields[f"assumption_{pk}_status"] = status
            self.fields[f"assumption_{pk}_evidence"] = evidence
            self.fields[f"assumption_{pk}_expires_on"] = expires
            self.assumption_rows.append(
                {
                    "proposal": proposal,
                    "status": f"assumption_{pk}_status",
                    "evidence": f"assumption_{pk}_evidence",
                    "expires_on": f"assumption_{pk}_expires_on",
                }
            )
        style_widgets(self.fields)

    def bound_assumption_rows(self):
        return [
            {
                "proposal": row["proposal"],
                "status": self[row["status"]],
                "evidence": self[row["evidence"]],
                "expires_on": self[row["expires_on"]],
                "error_key": f"assumption_{row['proposal']['pk']}",
            }
            for row in self.assumption_rows
        ]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        reviews = []
        for row in self.assumption_rows:
            status = data.get(row["status"])
            if not status:
                continue
            reviews.append(
                {
                    "assumption": row["proposal"]["pk"],
                    "status": status,
                    "evidence": data.get(row["evidence"]) or "",
                    "expires_on": data.get(row["expires_on"]),
                }
            )
        return {
            "decision": data["decision"],
            "type": data.get("type") or None,
            "text": data["text"],
            "owner": data["owner"],
            "review_trigger": data.get("review_trigger") or "",
            "options": data.get("options") or "",
            "assumption_reviews": reviews,
        }


def month_from_text(text: str) -> datetime.date | None:
    """A YYYY-MM filter value as the month's first day, or None."""
    try:
        return datetime.datetime.strptime((text or "").strip(), "%Y-%m").date()
    except ValueError:
        return None
