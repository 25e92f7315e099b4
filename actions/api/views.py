from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action as detail_action
from rest_framework.response import Response

from actions.api.serializers import (
    ActionCreateSerializer,
    ActionSerializer,
    CommentInputSerializer,
    EscalateInputSerializer,
    EvidenceInputSerializer,
    ReasonInputSerializer,
)
from actions.filtersets import ActionFilterSet
from actions.models import Action
from actions.services import action_create, action_update
from productops.api import CapabilityScopedViewSet
from productops.roles import Activity


class ActionViewSet(CapabilityScopedViewSet):
    """The action closure register. Actions are raised through the same service as the page
    (owner, due date and closure criterion required), never deleted, and change state only
    through the move endpoints (``/start/``, ``/submit-evidence/``, ``/verify/`` …)."""

    queryset = Action.objects.select_related(
        "capability", "owner", "reviewer", "escalated_to", "reopen_trigger"
    ).prefetch_related("evidence__submitted_by", "evidence__reviewed_by", "reopenings__reopened_by")
    serializer_class = ActionSerializer
    filterset_class = ActionFilterSet
    activity = Activity.ACTION_CLOSURE
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    ordering_fields = ["due_date", "status", "updated_at", "readable_id"]
    search_fields = ["readable_id", "action", "source_signal"]

    def get_serializer_class(self):
        return ActionCreateSerializer if self.action == "create" else ActionSerializer

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = action_create(by=self.request.user, **data)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        trigger = {"reopen_trigger": data.pop("reopen_trigger")} if "reopen_trigger" in data else {}
        action_update(action=serializer.instance, by=self.request.user, fields=data, **trigger)
        # Answer with what is stored now (the trigger and evidence are related rows).
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def _move(self, request, move, input_serializer=None):
        action = self.get_object()
        inputs = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            inputs = serializer.validated_data
        getattr(action, move)(by=request.user, **inputs)
        fresh = self.get_queryset().get(pk=action.pk)
        return Response(ActionSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"])
    def start(self, request, readable_id=None):
        return self._move(request, "start")

    @extend_schema(request=ReasonInputSerializer, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"])
    def block(self, request, readable_id=None):
        return self._move(request, "block", ReasonInputSerializer)

    @extend_schema(request=None, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"])
    def unblock(self, request, readable_id=None):
        return self._move(request, "unblock")

    @extend_schema(request=EvidenceInputSerializer, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"], url_path="submit-evidence", url_name="submit-evidence")
    def submit_evidence(self, request, readable_id=None):
        return self._move(request, "submit_evidence", EvidenceInputSerializer)

    @extend_schema(request=CommentInputSerializer, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"])
    def verify(self, request, readable_id=None):
        return self._move(request, "verify", CommentInputSerializer)

    @extend_schema(request=CommentInputSerializer, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request, readable_id=None):
        return self._move(request, "send_back", CommentInputSerializer)

    @extend_schema(request=ReasonInputSerializer, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"])
    def reopen(self, request, readable_id=None):
        return self._move(request, "reopen", ReasonInputSerializer)

    @extend_schema(request=EscalateInputSerializer, responses=ActionSerializer)
    @detail_action(detail=True, methods=["post"])
    def escalate(self, request, readable_id=None):
        return self._move(request, "escalate", EscalateInputSerializer)
