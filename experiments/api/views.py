from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action as detail_action
from rest_framework.response import Response

from experiments.api.serializers import (
    DecideInputSerializer,
    ExperimentCreateSerializer,
    ExperimentSerializer,
    ExtendInputSerializer,
    ReadoutSerializer,
)
from experiments.choices import ExperimentState
from experiments.filtersets import ExperimentFilterSet
from experiments.models import Experiment
from experiments.readout import experiment_readout
from experiments.services import experiment_create, experiment_update
from productops.api import CapabilityScopedViewSet
from productops.roles import Activity


class ExperimentViewSet(CapabilityScopedViewSet):
    """The experiment registry. Experiments are registered and edited through the same services
    as the pages, never deleted, and change state only through the move endpoints (``/start/``,
    ``POST /readout/``, ``/extend/``, ``/decide/``). ``GET /readout/`` returns the readout's
    figures: computed now, or as frozen when the experiment was decided."""

    queryset = Experiment.objects.select_related(
        "capability", "owner", "primary_metric", "tested_assumption", "decision_record", "decided_by"
    ).prefetch_related("guardrails")
    serializer_class = ExperimentSerializer
    filterset_class = ExperimentFilterSet
    activity = Activity.EXPERIMENT_REGISTRY
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        return ExperimentCreateSerializer if self.action == "create" else ExperimentSerializer

    def _fresh(self, experiment):
        fresh = self.get_queryset().get(pk=experiment.pk)
        return Response(ExperimentSerializer(fresh, context=self.get_serializer_context()).data)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        serializer.instance = experiment_create(by=self.request.user, **data)

    def perform_update(self, serializer):
        experiment_update(
            experiment=serializer.instance, by=self.request.user, fields=dict(serializer.validated_data)
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def _move(self, request, move, input_serializer=None):
        experiment = self.get_object()
        inputs = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data, context=self.get_serializer_context())
            serializer.is_valid(raise_exception=True)
            inputs = serializer.validated_data
        getattr(experiment, move)(by=request.user, **inputs)
        return self._fresh(experiment)

    @extend_schema(request=None, responses=ExperimentSerializer)
    @detail_action(detail=True, methods=["post"])
    def start(self, request, readable_id=None):
        return self._move(request, "start")

    @extend_schema(methods=["GET"], request=None, responses=ReadoutSerializer)
    @extend_schema(methods=["POST"], request=None, responses=ExperimentSerializer)
    @detail_action(detail=True, methods=["get", "post"])
    def readout(self, request, readable_id=None):
        """GET: the readout's figures. POST: begin the readout (running -> readout)."""
        if request.method == "POST":
            return self._move(request, "begin_readout")
        experiment = self.get_object()
        if experiment.state == ExperimentState.DECIDED and experiment.readout_snapshot:
            return Response({**experiment.readout_snapshot, "frozen": True})
        return Response({**experiment_readout(experiment).as_dict(), "frozen": False})

    @extend_schema(request=ExtendInputSerializer, responses=ExperimentSerializer)
    @detail_action(detail=True, methods=["post"])
    def extend(self, request, readable_id=None):
        return self._move(request, "extend", ExtendInputSerializer)

    @extend_schema(request=DecideInputSerializer, responses=ExperimentSerializer)
    @detail_action(detail=True, methods=["post"])
    def decide(self, request, readable_id=None):
        return self._move(request, "decide", DecideInputSerializer)
