from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from forums.api.serializers import ForumSerializer, SessionSerializer
from forums.filtersets import ForumFilterSet, SessionFilterSet
from forums.meeting import session_move
from forums.models import Forum, Session
from forums.services import forum_create, forum_update, session_update


class ForumChangePermission(permissions.IsAuthenticated):
    """Writes need A or R on the cadence's RACI row within the forum's scope."""

    def has_object_permission(self, request, view, obj):
        forum = obj if isinstance(obj, Forum) else obj.forum
        if request.method in permissions.SAFE_METHODS:
            return True
        return forum.can_be_changed_by(request.user)


class ForumViewSet(viewsets.ModelViewSet):
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
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet
):
    """Sessions of the visible forums. They are created by the schedule; the decision requested
    and notes are written here, and the state moves through ``/mark-pack-sent/``, ``/start/``,
    ``/end-meeting/`` and ``/publish-minutes/``."""

    queryset = Session.objects.select_related("forum").prefetch_related("forum__scope")
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
        session_move(session=session, by=request.user, move=move)
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
