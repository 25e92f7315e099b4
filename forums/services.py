"""Work on forums and sessions that spans rows or has rules: creating and changing forums,
scheduling sessions, the cadence design rules of playbook 6.2, the person's feed."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from forums.choices import Cadence, SessionState, activity_for, default_agenda
from forums.models import Forum, Session
from forums.recurrence import next_occurrences
from productops.errors import DomainError
from productops.permissions import can_change, require_change, roles_of

FORUM_FIELDS = {
    "name",
    "cadence",
    "owner",
    "attendee_roles",
    "decision_types",
    "frequency",
    "weekday",
    "time_of_day",
    "week_of_month",
    "anchor_date",
    "duration_minutes",
    "agenda",
}


def clean_agenda(agenda) -> list[dict]:
    """An agenda template as a list of {minutes, title, inputs, outputs}; DomainError otherwise."""
    if agenda in (None, ""):
        return []
    if not isinstance(agenda, list):
        raise DomainError(gettext("The agenda is a list of blocks."), field="agenda")
    blocks = []
    for number, block in enumerate(agenda, start=1):
        if not isinstance(block, dict) or not str(block.get("title") or "").strip():
            raise DomainError(gettext("Block %(n)s needs a title.") % {"n": number}, field="agenda")
        try:
            minutes = int(block.get("minutes") or 0)
        except (TypeError, ValueError):
            minutes = -1
        if minutes <= 0:
            raise DomainError(
                gettext("Block %(n)s needs a time box in minutes.") % {"n": number}, field="agenda"
            )
        blocks.append(
            {
                "minutes": minutes,
                "title": str(block["title"]).strip(),
                "inputs": str(block.get("inputs") or "").strip(),
                "outputs": str(block.get("outputs") or "").strip(),
            }
        )
    return blocks


def _check_lists(fields: dict) -> None:
    from decisions.choices import DecisionType
    from productops.roles import Role

    unknown = set(fields.get("decision_types") or []) - set(DecisionType.values)
    if unknown:
        raise DomainError(
            gettext("Unknown decision types: %(v)s") % {"v": ", ".join(sorted(unknown))},
            field="decision_types",
        )
    unknown = set(fields.get("attendee_roles") or []) - set(Role.values)
    if unknown:
        raise DomainError(
            gettext("Unknown roles: %(v)s") % {"v": ", ".join(sorted(unknown))}, field="attendee_roles"
        )


def _require_change_scope(user, cadence: str, scope) -> None:
    activity = activity_for(cadence)
    scope = list(scope or [])
    if not scope:
        require_change(user, activity)
    elif not any(can_change(user, activity, capability) for capability in scope):
        require_change(user, activity, scope[0])


@transaction.atomic
def forum_create(*, by, scope=(), attendees=(), **fields) -> Forum:
    """A new forum; its agenda starts from the cadence's default (7.2 for weekly) when empty."""
    fields = {key: value for key, value in fields.items() if key in FORUM_FIELDS}
    _require_change_scope(by, fields.get("cadence", ""), scope)
    _check_lists(fields)
    fields["agenda"] = clean_agenda(fields.get("agenda")) or default_agenda(fields.get("cadence", ""))
    forum = Forum(**fields)
    forum._change_reason = "created"
    forum.save()
    forum.scope.set(scope)
    forum.attendees.set(attendees)
    return forum


@transaction.atomic
def forum_update(*, forum: Forum, by, fields: dict, scope=None, attendees=None) -> Forum:
    forum.require_change(by)
    fields = {key: value for key, value in fields.items() if key in FORUM_FIELDS}
    if scope is not None:
        _require_change_scope(by, fields.get("cadence", forum.cadence), scope)
    _check_lists(fields)
    if "agenda" in fields:
        fields["agenda"] = clean_agenda(fields["agenda"])
    for name, value in fields.items():
        setattr(forum, name, value)
    forum.save()
    if scope is not None:
        forum.scope.set(scope)
    if attendees is not None:
        forum.attendees.set(attendees)
    return forum


@transaction.atomic
def sessions_schedule(
    *, forum: Forum, horizon_days: int = 90, now: datetime.datetime | None = None
) -> list[Session]:
    """Create the forum's sessions for the next ``horizon_days``; running it twice creates
    nothing new (one session per forum and time)."""
    now = now or timezone.now()
    until = now + datetime.timedelta(days=horizon_days)
    times = next_occurrences(forum, now, 1000, until=until)
    existing = set(forum.sessions.filter(scheduled_at__in=times).values_list("scheduled_at", flat=True))
    created = [Session(forum=forum, scheduled_at=moment) for moment in times if moment not in existing]
    for session in created:
        session._change_reason = "scheduled"
        session.save()
    return created


@transaction.atomic
def session_update(*, session: Session, by, decision_requested=None, notes=None) -> Session:
    """Write the decision requested or the notes per agenda block."""
    session.forum.require_change(by)
    changed = []
    if decision_requested is not None:
        if session.state != SessionState.SCHEDULED and not decision_requested.strip():
            raise DomainError(
                gettext("The pack went out with this decision requested: it cannot be emptied."),
                field="decision_requested",
            )
        session.decision_requested = decision_requested.strip()
        changed.append("decision_requested")
    if notes is not None:
        if not isinstance(notes, dict):
            raise DomainError(gettext("Notes are kept per agenda block."), field="notes")
        session.notes = {str(key): str(value) for key, value in notes.items()}
        changed.append("notes")
    if changed:
        session.save(update_fields=[*changed, "updated_at"])
    return session


# --- cadence design rules (playbook 6.2) ------------------------------------------------------

RULE_WINDOW = datetime.timedelta(days=7)


def forum_rule_findings(forum: Forum, *, now: datetime.datetime | None = None) -> list[str]:
    """The 6.2 rules this forum breaks, as messages to show beside it (empty when none)."""
    return forums_rule_findings([forum], now=now)[forum.pk]


def forums_rule_findings(forums, *, now: datetime.datetime | None = None) -> dict[int, list[str]]:
    """The 6.2 findings of many forums at once, for the operating calendar: two queries however
    many forums there are (plus two per monthly value review for the assumption-ledger rule)."""
    from decisions.choices import DecisionType

    now = now or timezone.now()
    forums = list(forums)
    ids = [forum.pk for forum in forums]
    with_people = set(
        Forum.attendees.through.objects.filter(forum_id__in=ids).values_list("forum_id", flat=True).distinct()
    )
    undecided: dict[int, list] = {}
    for session in Session.objects.filter(
        forum_id__in=ids, scheduled_at__gte=now, scheduled_at__lte=now + RULE_WINDOW, decision_requested=""
    ).order_by("scheduled_at"):
        undecided.setdefault(session.forum_id, []).append(session)
    untriggered = _open_actions_without_reopen_trigger(forums)
    result: dict[int, list[str]] = {}
    for forum in forums:
        findings: list[str] = []
        if not forum.decision_types:
            findings.append(gettext("Every recurring forum has a decision type: this one has none."))
        if not forum.attendee_roles and forum.pk not in with_people:
            findings.append(gettext("The forum has no attendees, neither people nor roles."))
        if (
            forum.cadence == Cadence.QUARTERLY_PORTFOLIO_REVIEW
            and DecisionType.RETIRE not in forum.decision_types
        ):
            findings.append(
                gettext("Every quarterly review can decide to retire, not only expand: add retire.")
            )
        for session in undecided.get(forum.pk, []):
            findings.append(
                gettext("The session of %(when)s has no decision requested.")
                % {"when": timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d %H:%M")}
            )
        if forum.pk in untriggered:
            ids = untriggered[forum.pk]
            findings.append(
                gettext(
                    "Every action has a reopen trigger: %(count)s open actions in scope have none (%(ids)s)."
                )
                % {"count": len(ids), "ids": ", ".join(ids[:5]) + (" …" if len(ids) > 5 else "")}
            )
        if forum.cadence == Cadence.MONTHLY_VALUE_REVIEW:
            findings.extend(_assumption_ledger_findings(forum))
        result[forum.pk] = findings
    return result


def _open_actions_without_reopen_trigger(forums) -> dict[int, list[str]]:
    """Rule 6.2 "every action has owner, due date, closure evidence and reopen trigger": owner,
    due date and closure criterion are enforced when an action is raised; the reopen trigger is
    optional there, so the weekly ops review that closes actions shows which open ones lack it.
    One query for all forums: {forum id: readable ids} for weekly ops reviews only."""
    from actions.choices import ActionStatus
    from actions.models import Action

    weekly = [forum for forum in forums if forum.cadence == Cadence.WEEKLY_OPS_REVIEW]
    if not weekly:
        return {}
    by_capability: dict[int, list[str]] = {}
    rows = (
        Action.objects.exclude(status=ActionStatus.CLOSED)
        .filter(reopen_trigger__isnull=True)
        .order_by("due_date", "readable_id")
        .values_list("capability_id", "readable_id")
    )
    for capability_id, readable_id in rows:
        by_capability.setdefault(capability_id, []).append(readable_id)
    result = {}
    for forum in weekly:
        scope = forum.scope_list()
        capability_ids = [capability.pk for capability in scope] if scope else list(by_capability)
        ids = [readable_id for pk in capability_ids for readable_id in by_capability.get(pk, [])]
        if ids:
            result[forum.pk] = ids
    return result


def _assumption_ledger_findings(forum: Forum) -> list[str]:
    """Every monthly value review updates the assumption ledger: the last held session must be
    followed (within a week) by an assumption review on its scope."""
    from assumptions.models import AssumptionReview

    last = (
        forum.sessions.filter(state__in=[SessionState.HELD, SessionState.MINUTES_PUBLISHED])
        .order_by("-scheduled_at")
        .first()
    )
    if last is None:
        return []
    reviews = AssumptionReview.objects.filter(
        reviewed_at__gte=last.scheduled_at - RULE_WINDOW, reviewed_at__lte=last.scheduled_at + RULE_WINDOW
    )
    scope = forum.scope_list()
    if scope:
        reviews = reviews.filter(assumption__capability__in=scope)
    if reviews.exists():
        return []
    return [
        gettext(
            "Every monthly value review updates the assumption ledger: the last one left no assumption review."
        )
    ]


# --- who is expected ------------------------------------------------------------------------


def forum_attendees(forum: Forum) -> list:
    """The people a forum expects, in name order: the owner, those invited by name, and everyone
    holding one of its attendee roles on a capability of its scope (or across the organisation).
    Inactive people and people without an e-mail address on file are still listed; senders skip
    the latter. One or two queries."""
    from django.contrib.auth import get_user_model
    from django.db.models import Q

    from productops.models import RoleAssignment

    User = get_user_model()
    ids = {forum.owner_id, *forum.attendees.values_list("pk", flat=True)}
    if forum.attendee_roles:
        by_role = RoleAssignment.objects.filter(role__in=forum.attendee_roles)
        scope = forum.scope_list()
        if scope:
            by_role = by_role.filter(Q(capability__in=scope) | Q(capability__isnull=True))
        ids |= set(by_role.values_list("user_id", flat=True))
    return list(
        User.objects.filter(pk__in=ids, is_active=True).order_by("first_name", "last_name", "username")
    )


def session_attendees(session: Session) -> list:
    """The people expected at a session: its forum's attendees (forum_attendees)."""
    return forum_attendees(session.forum)


# --- the person's feed --------------------------------------------------------------------------


def forums_of(user):
    """The forums a person takes part in: owned, attended by name, or by a role they hold on
    the forum's scope."""
    mine = []
    for forum in Forum.objects.visible_to(user).prefetch_related("scope", "attendees"):
        if forum.owner_id == user.pk or any(person.pk == user.pk for person in forum.attendees.all()):
            mine.append(forum)
            continue
        scope = forum.scope_list() or [None]
        if any(set(forum.attendee_roles) & roles_of(user, capability) for capability in scope):
            mine.append(forum)
    return mine


def sessions_for_feed(user, *, now: datetime.datetime | None = None):
    now = now or timezone.now()
    forums = forums_of(user)
    return (
        Session.objects.filter(forum__in=forums, scheduled_at__gte=now - datetime.timedelta(days=30))
        .select_related("forum")
        .order_by("scheduled_at")
    )
