"""The forms of a running session: the registers' own forms, narrowed to the forum (its scope, its
decision types) and told which agenda block they were used in."""

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from actions.forms import MOVE_FORMS, ActionForm, EscalateForm
from decisions.choices import DecisionType
from decisions.forms import DecisionForm, capabilities_to_record_for
from productops.models import RoleAssignment, User
from releases.forms import CommentForm


def _agenda_choices(blocks) -> list[tuple[str, str]]:
    return [("", _("No particular block"))] + [(b.title, f"{b.number}. {b.title}") for b in blocks]


class AgendaBlockMixin:
    """The agenda block a record was made in (the minutes group outcomes by it)."""

    def add_agenda_block(self, blocks, current) -> None:
        self.fields["agenda_block"] = forms.ChoiceField(
            label=_("Agenda block"), choices=_agenda_choices(blocks), required=False
        )
        self.fields["agenda_block"].widget.attrs.update({"class": "form-select", "data-follow-clock": ""})
        if current is not None and not self.is_bound:
            self.initial["agenda_block"] = current.title


class MeetingDecisionForm(AgendaBlockMixin, DecisionForm):
    """A decision the forum takes in the meeting: the decision log's form, with the capabilities
    of the forum's scope and the decision types the forum may take. It is dated today."""

    def __init__(self, *args, session, user, scope, blocks=(), current=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["decided_on"]
        capabilities = capabilities_to_record_for(user)
        if session.forum.scope_list():
            capabilities = capabilities.filter(pk__in=[c.pk for c in scope])
        self.fields["capability"].queryset = capabilities
        if len(scope) == 1 and not self.is_bound:
            self.initial["capability"] = scope[0].pk
        labels = dict(DecisionType.choices)
        self.fields["type"].choices = [("", "---------")] + [
            (value, labels.get(value, value)) for value in session.forum.decision_types
        ]
        self.add_agenda_block(blocks, current)
        self.order_fields(["capability", "type", "decision", "options_considered", "evidence", "owner"])

    def service_kwargs(self) -> dict:
        return dict(self.cleaned_data)


class MeetingActionForm(AgendaBlockMixin, ActionForm):
    """An action the forum raises in the meeting: the register's form (owner, due date, closure
    criterion required; the reviewer is not the owner) with the session as its source."""

    fieldsets = [
        (None, ["capability", "action", "owner", "reviewer", "due_date", "closure_criterion"]),
        (_("Source signal and agenda block"), ["source_signal", "agenda_block"]),
        (
            _("Reopen trigger"),
            ["trigger_kind", "contract_metric_id", "comparison", "level", "periods", "recheck_on"],
        ),
    ]

    def __init__(self, *args, session, user, scope, blocks=(), current=None, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        del self.fields["source_kind"]
        del self.fields["source_reference"]
        if session.forum.scope_list():
            self.fields["capability"].queryset = self.fields["capability"].queryset.filter(
                pk__in=[c.pk for c in scope]
            )
        if len(scope) == 1 and not self.is_bound:
            self.initial["capability"] = scope[0].slug
        self.add_agenda_block(blocks, current)

    def service_kwargs(self) -> dict:
        names = [
            "capability",
            "action",
            "owner",
            "reviewer",
            "due_date",
            "closure_criterion",
            "source_signal",
        ]
        kwargs = {name: self.cleaned_data.get(name) for name in names}
        kwargs["reopen_trigger"] = self.trigger_data()
        kwargs["agenda_block"] = self.cleaned_data.get("agenda_block", "")
        return kwargs


class MeetingEscalateForm(EscalateForm):
    """Escalate from the meeting: the register's form, choosing among people loaded once for the
    whole page (the register's form asks the database once per action)."""

    def __init__(self, *args, action, people, **kwargs):
        super().__init__(*args, action=action, **kwargs)
        self.people = {str(person.pk): person for person in people if person.pk != action.owner_id}
        self.fields["to"] = forms.ChoiceField(
            label=self.fields["to"].label,
            choices=[("", "---------")] + [(pk, _person_label(person)) for pk, person in self.people.items()],
        )
        self.fields["to"].widget.attrs["class"] = "form-select"

    def clean_to(self):
        return self.people[self.cleaned_data["to"]]


def _person_label(person) -> str:
    name = person.get_full_name()
    return f"{name} ({person.username})" if name else person.username


def escalation_people(capabilities) -> dict[int, list]:
    """{capability id: people holding a role there or organisation-wide}, in one query: whom an
    action of that capability may be escalated to (the register checks again)."""
    ids = [capability.pk for capability in capabilities]
    rows = (
        RoleAssignment.objects.filter(Q(capability__isnull=True) | Q(capability_id__in=ids))
        .filter(user__is_active=True)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    org: dict[int, User] = {}
    by_capability: dict[int, dict[int, User]] = {pk: {} for pk in ids}
    for row in rows:
        if row.capability_id is None:
            org[row.user_id] = row.user
        else:
            by_capability[row.capability_id][row.user_id] = row.user
    return {
        pk: sorted({**org, **people}.values(), key=lambda u: (u.first_name, u.last_name, u.username))
        for pk, people in by_capability.items()
    }


def move_form(move: str, action, *, people=(), data=None, files=None):
    """The form of one action move in the meeting (None: the move takes no input), with ids
    unique on a page that lists many actions."""
    auto_id = f"id_{action.readable_id}_{move}_%s"
    if move == "escalate":
        return MeetingEscalateForm(data, files, action=action, people=people, auto_id=auto_id)
    form_class = MOVE_FORMS[move]
    return None if form_class is None else form_class(data, files, action=action, auto_id=auto_id)


class ReleaseApproveForm(CommentForm):
    """Approving a release in the meeting: the release calendar's verdict form (a comment always)."""


class AttendanceForm(forms.Form):
    """Who is present, ticked from the attendance list."""

    present = forms.TypedMultipleChoiceField(
        label=_("Present"), coerce=int, required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["present"].choices = [(row.user_id, str(row.user)) for row in rows]


class NoteForm(forms.Form):
    """The notes of one agenda block (Markdown)."""

    block = forms.CharField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=_("Notes"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "class": "form-control"}),
        help_text=_("What was said and who follows up. Markdown."),
    )


__all__ = [
    "AttendanceForm",
    "MeetingActionForm",
    "MeetingDecisionForm",
    "MeetingEscalateForm",
    "NoteForm",
    "ReleaseApproveForm",
    "escalation_people",
    "move_form",
]
