from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from actions.models import Action
from forums import meeting
from forums.api.serializers import (
    ForumSerializer,
    MeetingActionInput,
    MeetingActionMoveInput,
    MeetingAttendanceInput,
    MeetingDecisionInput,
    MeetingNoteInput,
    MeetingReleaseApproveInput,
    SessionSerializer,
)
from forums.filtersets import ForumFilterSet, SessionFilterSet
from forums.models import Forum, Session
from forums.services import forum_create, forum_update, session_update
from productops.api import AtomicWritesMixin


class ForumChangePermission(permissions.IsAuthenticated):
    """Writes need A or R on the cadence's RACI row within the forum's scope."""

    def has_object_permission(self, request, view, obj):
        forum = obj if isinstance(obj, Forum) else obj.forum
        if request.method in permissions.SAFE_METHODS:
            return True
        return forum.can_be_changed_by(request.user)


class ForumViewSet(AtomicWritesMixin, viewsets.ModelViewSet):
    """The forums of the operating calendar. Created and changed through the same services as
    the pages; never deleted here (a forum's history stays)."""

    queryset = Forum.objects.select_related("owner").prefetch_related("scope", "attendees")
    serializer_class = ForumSerializer
    filterset_class = ForumFilterSet
    permission_classes = [ForumChangePermission]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["name", "cadence"]
    search_fields = ["name"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        scope = data.pop("scope", [])
        attendees = data.pop("attendees", [])
        serializer.instance = forum_create(by=self.request.user, scope=scope, attendees=attendees, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        scope = data.pop("scope", None)
        attendees = data.pop("attendees", None)
        forum_update(
            forum=serializer.instance, by=self.request.user, fields=data, scope=scope, attendees=attendees
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)


class SessionViewSet(
    AtomicWritesMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Sessions of the visible forums. They are created by the schedule; the decision requested
    and notes are written here, and the state moves through ``/mark-pack-sent/``, ``/start/``,
    ``/end-meeting/`` and ``/publish-minutes/``."""

    queryset = Session.objects.select_related("forum").prefetch_related("forum__scope", "outcomes")
    serializer_class = SessionSerializer
    filterset_class = SessionFilterSet
    permission_classes = [ForumChangePermission]
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["scheduled_at"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)

    def perform_update(self, serializer):
        data = serializer.validated_data
        session_update(
            session=serializer.instance,
            by=self.request.user,
            decision_requested=data.get("decision_requested"),
            notes=data.get("notes"),
        )

    def _move(self, request, move):
        # The page's path: starting lists the attendance, publishing freezes and sends the minutes.
        session = self.get_object()
        meeting.session_move(session=session, by=request.user, move=move)
        return Response(SessionSerializer(session, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="mark-pack-sent", url_name="mark-pack-sent")
    def mark_pack_sent(self, request, pk=None):
        return self._move(request, "mark_pack_sent")

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        return self._move(request, "start")

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="end-meeting", url_name="end-meeting")
    def end_meeting(self, request, pk=None):
        return self._move(request, "end_meeting")

    @extend_schema(request=None, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="publish-minutes", url_name="publish-minutes")
    def publish_minutes(self, request, pk=None):
        return self._move(request, "publish_minutes")

    # --- what the meeting records: the page's services, the same rules ---------------------------

    def _answer(self, session):
        fresh = self.get_queryset().get(pk=session.pk)
        return Response(SessionSerializer(fresh, context=self.get_serializer_context()).data)

    def _input(self, serializer_class):
        data = serializer_class(data=self.request.data)
        data.is_valid(raise_exception=True)
        return data

    def _in_scope(self, session, queryset, readable_id):
        record = get_object_or_404(queryset, readable_id=readable_id)
        if not meeting.in_scope(session, record.capability_id, self.request.user):
            raise Http404
        return record

    @extend_schema(request=MeetingDecisionInput, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="record-decision", url_name="record-decision")
    def record_decision(self, request, pk=None):
        """Record a decision the forum took in the meeting (in progress; the forum's decision types)."""
        session = self.get_object()
        meeting.meeting_decision_record(
            session=session, by=request.user, **self._input(MeetingDecisionInput).validated_data
        )
        return self._answer(session)

    @extend_schema(request=MeetingActionInput, responses=SessionSerializer)
    @action(detail=True, methods=["post"], url_path="raise-action", url_name="raise-action")
    def raise_action(self, request, pk=None):
        """Raise an action in the meeting: owner, due date and closure criterion required."""
        session = self.get_object()
        meeting.meeting_action_create(
            session=session, by=request.user, **self._input(MeetingActionInput).validated_data
        )
        return self._answer(session)

    @extend_schema(request=MeetingActionMoveInput, responses=SessionSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="move-action",
        url_name="move-action",
        permission_classes=[permissions.IsAuthenticated],
    )
    def move_action(self, request, pk=None):
        """Move an action in the meeting; who may is the action register's rule (its reviewer verifies)."""
        session = self.get_object()
        data = self._input(MeetingActionMoveInput)
        action_row = self._in_scope(session, Action.objects.all(), data.validated_data["action"])
        meeting.meeting_action_move(
            session=session,
            by=request.user,
            action=action_row,
            move=data.validated_data["move"],
            agenda_block=data.validated_data["agenda_block"],
            **data.move_inputs(),
        )
        return self._answer(session)

    @extend_schema(request=MeetingReleaseApproveInput, responses=SessionSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="approve-release",
        url_name="approve-release",
        permission_classes=[permissions.IsAuthenticated],
    )
    def approve_release(self, request, pk=None):
        """Approve a release decision request in the meeting, by a person who holds that right."""
        from releases.models import Release

        session = self.get_object()
        data = self._input(MeetingReleaseApproveInput).validated_data
        release = self._in_scope(session, Release.objects.all(), data["release"])
        meeting.meeting_release_approve(
            session=session,
            by=request.user,
            release=release,
            comment=data["comment"],
            agenda_block=data["agenda_block"],
        )
        return self._answer(session)

    @extend_schema(request=MeetingAttendanceInput, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def attendance(self, request, pk=None):
        """Who is present (user ids); everyone else expected is absent. Until minutes are published."""
        session = self.get_object()
        meeting.meeting_attendance_set(
            session=session,
            by=request.user,
            present=self._input(MeetingAttendanceInput).validated_data["present"],
        )
        return self._answer(session)

    @extend_schema(request=MeetingNoteInput, responses=SessionSerializer)
    @action(detail=True, methods=["post"])
    def notes(self, request, pk=None):
        """The notes of one agenda block (Markdown). Until minutes are published."""
        session = self.get_object()
        meeting.meeting_note_save(
            session=session, by=request.user, **self._input(MeetingNoteInput).validated_data
        )
        return self._answer(session)
