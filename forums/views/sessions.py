"""The session page the PM drives during the meeting (playbook 7.2-7.4), and its moves.

One page per session. Each form on it posts to its own URL and works as a plain POST (the page
comes back, or the bound form with its errors); with htmx the answer is the regions the move
changed, each swapped out of band (the form's region, the running outcomes, the block lists),
so the meeting never reloads. The rules live in ``forums.meeting`` and the registers below it.
"""

from functools import cached_property

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from actions.choices import MOVE_LABELS as ACTION_MOVE_LABELS
from actions.models import Action
from forums import meeting, services
from forums.access import get_session_for_user
from forums.choices import MOVE_LABELS, SessionState
from forums.forms import DecisionRequestedForm
from forums.forms.meeting import (
    AttendanceForm,
    MeetingActionForm,
    MeetingDecisionForm,
    NoteForm,
    ReleaseApproveForm,
    escalation_people,
    move_form,
)
from productops.errors import DomainError, TransitionNotAllowed
from productops.permissions import require_change
from productops.roles import Activity
from releases.models import Release

TEMPLATE = "forums/session_detail.html"
# At most this many rows in one block's list; the rest are one click away in the register.
LIST_LIMIT = 25
# The move the session is waiting for, shown as the page's primary button.
NEXT_MOVE = {
    SessionState.SCHEDULED: "start",
    SessionState.PACK_SENT: "start",
    SessionState.IN_PROGRESS: "end_meeting",
    SessionState.HELD: "publish_minutes",
}
MOVE_DONE = {
    "mark_pack_sent": gettext_lazy("The review pack is sent to the attendees."),
    "start": gettext_lazy("The meeting has started: the clock runs and the attendance list is open."),
    "end_meeting": gettext_lazy(
        "The meeting has ended. Check attendance and notes, then publish the minutes."
    ),
    "publish_minutes": gettext_lazy("Minutes published to the attendees."),
}


class SessionPage:
    """What the session page shows for one person, computed on first use, so a region rendered
    on its own loads only what it needs. ``bound`` holds forms that came back with errors."""

    def __init__(self, request, session, *, bound=None, done=None):
        self.request = request
        self.session = session
        self.user = request.user
        self.bound = bound or {}
        self.done = done or {}

    # --- the session and what the person may do ---------------------------------------------

    @cached_property
    def can_edit(self) -> bool:
        return self.session.forum.can_be_changed_by(self.user)

    @property
    def state(self) -> str:
        return self.session.state

    @property
    def is_before(self) -> bool:
        return self.state in (SessionState.SCHEDULED, SessionState.PACK_SENT)

    @property
    def is_running(self) -> bool:
        return self.state == SessionState.IN_PROGRESS

    @property
    def is_held(self) -> bool:
        return self.state == SessionState.HELD

    @property
    def is_published(self) -> bool:
        return self.state == SessionState.MINUTES_PUBLISHED

    @cached_property
    def moves(self) -> list[dict]:
        """The session's state moves this person may make, the one it waits for first. Sending
        the pack is the pack panel's move (it builds and e-mails the pack)."""
        if not self.can_edit:
            return []
        primary = NEXT_MOVE.get(self.state)
        moves = [
            {
                "move": move,
                "label": MOVE_LABELS[move],
                "url": reverse(f"forums:session-{move.replace('_', '-')}", kwargs={"pk": self.session.pk}),
                "primary": move == primary,
            }
            for move in self.session.available_moves()
            if move != "mark_pack_sent"
        ]
        return sorted(moves, key=lambda m: not m["primary"])

    @cached_property
    def decision_requested_form(self):
        return self.bound.get("decision_requested") or DecisionRequestedForm(
            initial={"decision_requested": self.session.decision_requested}
        )

    # --- the agenda and the clock ------------------------------------------------------------

    @cached_property
    def blocks(self) -> list:
        return meeting.agenda_blocks(self.session)

    @cached_property
    def position(self):
        if not self.is_running or self.session.started_at is None:
            return None
        return meeting.agenda_position(self.blocks, self.session.started_at)

    @property
    def current(self):
        return self.position.current if self.position else None

    @cached_property
    def clock(self) -> dict:
        """The clock as the page first shows it; the browser recomputes it every second from the
        same start time, so a reload never resets it."""
        position = self.position
        if position is None:
            return {}
        current, block, left = position.current, "", ""
        if current is not None:
            block = _("Now: %(block)s") % {"block": f"{current.number}. {current.title}"}
            left = _("%(time)s left in this block") % {
                "time": _mmss(current.end_minute * 60 - position.elapsed_seconds)
            }
        elif position.over_seconds:
            left = _("Over time by %(time)s") % {"time": _mmss(position.over_seconds)}
        return {
            "elapsed": _mmss(position.elapsed_seconds),
            "block": block,
            "left": left,
            "over": bool(position.over_seconds),
        }

    @cached_property
    def multi_capability(self) -> bool:
        return len(self.inputs.capabilities) > 1

    @cached_property
    def planned_minutes(self) -> int:
        return self.blocks[-1].end_minute if self.blocks else self.session.forum.duration_minutes

    @cached_property
    def held_minutes(self) -> int | None:
        if self.session.started_at and self.session.ended_at:
            return round((self.session.ended_at - self.session.started_at).total_seconds() / 60)
        return None

    @cached_property
    def shows_inputs(self) -> bool:
        """Live inputs before and during the meeting; afterwards the minutes say what was done."""
        return self.is_before or self.is_running

    @cached_property
    def moves_kind(self) -> str:
        """The block where actions are moved: action closure, else decision requests."""
        kinds = {block.kind for block in self.blocks}
        return next((kind for kind in ("actions", "decisions") if kind in kinds), "")

    @cached_property
    def approve_kind(self) -> str:
        """The block where releases are approved: release and experiments, else decision requests."""
        kinds = {block.kind for block in self.blocks}
        return next((kind for kind in ("releases", "decisions") if kind in kinds), "")

    @cached_property
    def inputs(self):
        return meeting.meeting_inputs(self.session, user=self.user)

    @cached_property
    def agenda(self) -> list:
        """The agenda blocks with what each shows: its live inputs, whether the meeting should be
        in it now, its notes form, and the moves this person may make on its records."""
        current = self.current
        for block in self.blocks:
            block.is_current = current is not None and block.number == current.number
            block.is_past = current is not None and block.number < current.number
            block.live = self._limited(self.inputs.for_block(block.kind)) if self.shows_inputs else {}
            block.note_form = self.bound.get(("note", block.title)) or NoteForm(
                initial={"block": block.title, "text": block.note}, auto_id=f"id_note{block.number}_%s"
            )
        if self.is_running:
            self._attach_moves()
        return self.blocks

    def _limited(self, live: dict) -> dict:
        limited = {}
        for key, rows in live.items():
            limited[key] = rows[:LIST_LIMIT]
            limited[f"{key}_more"] = max(0, len(rows) - LIST_LIMIT)
        return limited

    def _attach_moves(self) -> None:
        """The move forms of each action and the approve form of each release, for this person."""
        people = escalation_people(self.inputs.capabilities)
        for action in [*self.inputs.actions_open, *self.inputs.actions_closed]:
            action.meeting_forms = [
                {
                    "move": move,
                    "label": ACTION_MOVE_LABELS[move],
                    "url": reverse(
                        "forums:session-action-move",
                        kwargs={"pk": self.session.pk, "readable_id": action.readable_id, "move": move},
                    ),
                    "form": self.bound.get(("move", action.readable_id, move))
                    or move_form(move, action, people=people.get(action.capability_id, [])),
                    "open": ("move", action.readable_id, move) in self.bound,
                }
                for move in meeting.meeting_moves(action, self.user)
            ]
        for release in self.inputs.releases_awaiting:
            # A refused approval comes back with its reason, even to someone who may not approve.
            release.approve_form = self.bound.get(("approve", release.readable_id))
            if release.approve_form is None and release.pk in self.inputs.approvable:
                release.approve_form = ReleaseApproveForm(auto_id=f"id_{release.readable_id}_approve_%s")

    def blocks_of(self, kinds) -> list:
        return [block for block in self.agenda if block.kind in kinds]

    # --- the session's records ---------------------------------------------------------------

    @cached_property
    def outcomes(self) -> list:
        rows = list(self.session.outcomes.select_related("recorded_by"))
        for row in rows:
            row.url = meeting.outcome_url(row)
        return rows

    @cached_property
    def attendance(self) -> list:
        return meeting.attendance_rows(self.session)

    @cached_property
    def attendance_form(self):
        return self.bound.get("attendance") or AttendanceForm(
            rows=self.attendance,
            initial={"present": [r.user_id for r in self.attendance if r.status == "present"]},
        )

    @cached_property
    def present_count(self) -> int:
        return sum(1 for row in self.attendance if row.pk and row.status == "present")

    @cached_property
    def can_keep_records(self) -> bool:
        """Attendance and notes: from the start until the minutes are published."""
        return self.can_edit and (self.is_running or self.is_held)

    @cached_property
    def scope(self) -> list:
        return meeting.scope_capabilities(self.session, self.user)

    def _form_kwargs(self) -> dict:
        return {
            "session": self.session,
            "user": self.user,
            "scope": self.scope,
            "blocks": self.blocks,
            "current": self.current,
        }

    @cached_property
    def decision_form(self):
        return self.bound.get("decision") or MeetingDecisionForm(
            **self._form_kwargs(), auto_id="id_decision_%s"
        )

    @cached_property
    def action_form(self):
        return self.bound.get("action") or MeetingActionForm(**self._form_kwargs(), auto_id="id_action_%s")

    @cached_property
    def minutes(self) -> dict:
        """The frozen minutes once published; before that, what publishing would send."""
        if self.is_published:
            return self.session.minutes
        if self.is_held:
            return meeting.minutes_build(self.session)
        return {}

    @cached_property
    def minutes_recipients(self) -> int:
        return len(meeting.minutes_recipients(self.session)) if self.is_held else 0

    def context(self) -> dict:
        return {
            "page": self,
            "session": self.session,
            "forum": self.session.forum,
            "can_edit": self.can_edit,
            "now": timezone.now(),
        }


def _mmss(seconds: int) -> str:
    return f"{seconds // 60}:{seconds % 60:02d}"


# --- rendering --------------------------------------------------------------------------------


def _respond(request, page: SessionPage, regions, *, status=200, anchor=""):
    """The htmx answer (the changed regions, each swapped out of band) or, without htmx, the
    whole page: after a success a redirect to it, after an error the page with the bound form
    (400, or 409 when the session or record was not in a state for the move)."""
    if request.htmx:
        context = page.context()
        html = "".join(
            render_to_string(f"{TEMPLATE}#{name}", {**context, **extra, "oob": True}, request=request)
            for name, extra in regions
        )
        # Form errors come back to htmx as 422, not 400: django-htmx's debug script replaces the
        # whole document with any 400 answer, which would wipe the meeting page in development.
        response = HttpResponse(html, status=422 if status == 400 else status)
    elif status == 200:
        for text in page.done.values():
            messages.success(request, text)
        response = redirect(f"{page.session.get_absolute_url()}{anchor}")
    else:
        response = render(request, TEMPLATE, page.context(), status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _block_regions(page: SessionPage, kinds) -> list:
    return [("block_inputs", {"block": block}) for block in page.blocks_of(kinds)]


def _error_status(error: DomainError) -> int:
    return 409 if isinstance(error, TransitionNotAllowed) else 400


def _add_error(form, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


# --- the page and the session's own moves -----------------------------------------------------


@require_GET
def session_detail(request, pk):
    session = get_session_for_user(request.user, pk)
    response = render(request, TEMPLATE, SessionPage(request, session).context())
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_POST
def session_decision(request, pk):
    """The decision requested (rule 6.2: every pack starts with it), written before the meeting."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    form = DecisionRequestedForm(request.POST)
    if form.is_valid():
        try:
            services.session_update(session=session, by=request.user, **form.cleaned_data)
        except DomainError as error:
            form.add_error("decision_requested", error.message)
        else:
            messages.success(request, _("Decision requested saved."))
            return redirect(session)
    return render(
        request,
        TEMPLATE,
        SessionPage(request, session, bound={"decision_requested": form}).context(),
        status=400,
    )


@require_POST
def session_move(request, pk, move):
    """One move of the session's state machine (start, end, publish minutes, ...): the meeting's
    service decides and does what goes with it; the page comes back in its new state."""
    if move not in meeting.SESSION_MOVES:
        raise Http404
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    try:
        meeting.session_move(session=session, by=request.user, move=move)
    except DomainError as error:
        messages.error(request, error.message)
        return render(request, TEMPLATE, SessionPage(request, session).context(), status=error.status_code)
    messages.success(request, MOVE_DONE[move])
    return redirect(session)


# --- what the forum records in the meeting ----------------------------------------------------


@require_POST
def session_record_decision(request, pk):
    """Record a decision of the forum in the decision log, linked to this session."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    page = SessionPage(request, session)
    form = MeetingDecisionForm(request.POST, **page._form_kwargs(), auto_id="id_decision_%s")
    status = 400
    if form.is_valid():
        try:
            record = meeting.meeting_decision_record(
                session=session, by=request.user, **form.service_kwargs()
            )
        except DomainError as error:
            _add_error(form, error)
            status = _error_status(error)
        else:
            page = SessionPage(
                request,
                session,
                done={"decision": _("%(id)s recorded in the decision log.") % {"id": record.readable_id}},
            )
            return _respond(
                request, page, [("decision_form", {}), ("outcomes", {})], anchor="#session-outcomes"
            )
    page.bound["decision"] = form
    return _respond(request, page, [("decision_form", {})], status=status)


@require_POST
def session_action_create(request, pk):
    """Raise an action in the meeting: owner, due date and closure criterion required."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    page = SessionPage(request, session)
    form = MeetingActionForm(request.POST, **page._form_kwargs(), auto_id="id_action_%s")
    status = 400
    if form.is_valid():
        try:
            action = meeting.meeting_action_create(session=session, by=request.user, **form.service_kwargs())
        except DomainError as error:
            _add_error(form, error)
            status = _error_status(error)
        else:
            page = SessionPage(
                request, session, done={"action": _("%(id)s raised.") % {"id": action.readable_id}}
            )
            regions = [("action_form", {}), ("outcomes", {}), *_block_regions(page, {"actions", "decisions"})]
            return _respond(request, page, regions, anchor=f"#action-{action.readable_id}")
    page.bound["action"] = form
    return _respond(request, page, [("action_form", {})], status=status)


@require_POST
def session_action_move(request, pk, readable_id, move):
    """Move an action in the meeting (verify and close, send back, reopen, escalate, block,
    submit evidence). The action's own rules say who may: its reviewer verifies, its owner
    submits evidence; the session records that it happened here."""
    if move not in meeting.ACTION_MOVE_OUTCOMES:
        raise Http404
    session = get_session_for_user(request.user, pk)
    action = get_object_or_404(Action.objects.select_related("capability"), readable_id=readable_id)
    if not meeting.in_scope(session, action.capability_id, request.user):
        raise Http404
    require_change(request.user, Activity.ACTION_CLOSURE, action.capability)
    page = SessionPage(request, session)
    people = escalation_people([action.capability]) if move == "escalate" else {}
    form = move_form(
        move, action, people=people.get(action.capability_id, []), data=request.POST, files=request.FILES
    )
    status = 400
    if form.is_valid():
        try:
            meeting.meeting_action_move(
                session=session,
                by=request.user,
                action=action,
                move=move,
                agenda_block=request.POST.get("agenda_block", ""),
                **form.cleaned_data,
            )
        except DomainError as error:
            _add_error(form, error)
            status = _error_status(error)
        else:
            done = _("%(id)s: %(move)s.") % {
                "id": action.readable_id,
                "move": ACTION_MOVE_LABELS[move].lower(),
            }
            page = SessionPage(request, session, done={"move": done})
            regions = [("outcomes", {}), *_block_regions(page, {"actions", "decisions"})]
            return _respond(request, page, regions, anchor=f"#action-{action.readable_id}")
    page.bound[("move", action.readable_id, move)] = form
    return _respond(request, page, _block_regions(page, {page.moves_kind}), status=status)


@require_POST
def session_release_approve(request, pk, readable_id):
    """Approve a release decision request in the meeting, for a person who holds that right
    (the release calendar's approver rules; the owner never approves)."""
    session = get_session_for_user(request.user, pk)
    release = get_object_or_404(
        Release.objects.select_related("capability", "owner"), readable_id=readable_id
    )
    if not meeting.in_scope(session, release.capability_id, request.user):
        raise Http404
    page = SessionPage(request, session)
    form = ReleaseApproveForm(request.POST, auto_id=f"id_{release.readable_id}_approve_%s")
    status = 400
    valid = form.is_valid()
    try:
        # Who may approve is the release calendar's rule: without the right, 403 before the form.
        release.check_move("approve", request.user)
        if valid:
            meeting.meeting_release_approve(
                session=session,
                by=request.user,
                release=release,
                comment=form.cleaned_data["comment"],
                agenda_block=request.POST.get("agenda_block", ""),
            )
    except DomainError as error:
        _add_error(form, error)
        status = _error_status(error)
    else:
        if valid:
            done = _("%(id)s approved (%(state)s).") % {
                "id": release.readable_id,
                "state": release.get_state_display().lower(),
            }
            page = SessionPage(request, session, done={"approve": done})
            regions = [("outcomes", {}), *_block_regions(page, {"releases", "decisions"})]
            return _respond(request, page, regions, anchor=f"#release-{release.readable_id}")
    page.bound[("approve", release.readable_id)] = form
    return _respond(request, page, _block_regions(page, {page.approve_kind}), status=status)


# --- attendance and notes -----------------------------------------------------------------------


@require_POST
def session_attendance(request, pk):
    """Tick who is present (kept until the minutes are published)."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    page = SessionPage(request, session)
    form = AttendanceForm(request.POST, rows=page.attendance)
    status = 400
    if form.is_valid():
        try:
            meeting.meeting_attendance_set(
                session=session, by=request.user, present=form.cleaned_data["present"]
            )
        except DomainError as error:
            _add_error(form, error)
            status = _error_status(error)
        else:
            page = SessionPage(request, session, done={"attendance": _("Attendance saved.")})
            return _respond(request, page, [("attendance", {})], anchor="#session-attendance")
    page.bound["attendance"] = form
    return _respond(request, page, [("attendance", {})], status=status)


@require_POST
def session_note(request, pk):
    """Keep the notes of one agenda block (kept until the minutes are published)."""
    session = get_session_for_user(request.user, pk)
    session.forum.require_change(request.user)
    title = request.POST.get("block", "")
    page = SessionPage(request, session)
    block = next((b for b in page.blocks if b.title == title), None)
    if block is None:
        raise Http404
    form = NoteForm(request.POST, auto_id=f"id_note{block.number}_%s")
    status = 400
    if form.is_valid():
        try:
            meeting.meeting_note_save(session=session, by=request.user, **form.cleaned_data)
        except DomainError as error:
            _add_error(form, error)
            status = _error_status(error)
        else:
            saved = _("Notes of “%(block)s” saved at %(time)s.") % {
                "block": block.title,
                "time": timezone.localtime().strftime("%H:%M"),
            }
            page = SessionPage(request, session, done={"note": saved})
            block = next(b for b in page.agenda if b.title == title)
            return _respond(request, page, [("block_notes", {"block": block})], anchor=f"#{block.anchor}")
    page.bound[("note", block.title)] = form
    block = next(b for b in page.agenda if b.title == title)
    return _respond(request, page, [("block_notes", {"block": block})], status=status)


__all__ = [
    "session_action_create",
    "session_action_move",
    "session_attendance",
    "session_decision",
    "session_detail",
    "session_move",
    "session_note",
    "session_record_decision",
    "session_release_approve",
]
