from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action as detail_action
from rest_framework.response import Response

from incidents.api import serializers as s
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from incidents.services import incident_add_corrective_action, incident_add_learning_item, incident_report
from productops import references
from productops.api import CapabilityScopedViewSet
from productops.errors import DomainError
from productops.roles import Activity


class IncidentViewSet(CapabilityScopedViewSet):
    """Incident records (15.2). Reported through the same service as the page, never deleted,
    and moved only through the step endpoints (``/contain/``, ``/root-causes/`` … ``/close/``)."""

    queryset = Incident.objects.select_related(
        "capability", "rollback_release", "recurrence_of"
    ).prefetch_related("affected_releases", "root_causes", "learning_items__created_by")
    serializer_class = s.IncidentSerializer
    filterset_class = IncidentFilterSet
    activity = Activity.INCIDENT_LEARNING
    lookup_field = "readable_id"
    http_method_names = ["get", "post", "head", "options"]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        capability = data.pop("capability")
        releases = data.pop("affected_releases", [])
        serializer.instance = incident_report(
            capability=capability, by=self.request.user, affected_releases=releases, **data
        )

    def _step(self, request, input_serializer, call):
        incident = self.get_object()
        inputs = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            inputs = dict(serializer.validated_data)
        call(incident, inputs)
        fresh = self.get_queryset().get(pk=incident.pk)
        return Response(s.IncidentSerializer(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=s.ContainInputSerializer, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"])
    def contain(self, request, readable_id=None):
        return self._step(request, s.ContainInputSerializer, lambda i, kw: i.contain(by=request.user, **kw))

    @extend_schema(request=s.RootCausesInputSerializer, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"], url_path="root-causes", url_name="root-causes")
    def root_causes(self, request, readable_id=None):
        return self._step(
            request, s.RootCausesInputSerializer, lambda i, kw: i.record_root_causes(by=request.user, **kw)
        )

    @extend_schema(request=s.CorrectiveActionInputSerializer, responses=s.IncidentSerializer)
    @detail_action(
        detail=True, methods=["post"], url_path="corrective-actions", url_name="corrective-actions"
    )
    def corrective_actions(self, request, readable_id=None):
        return self._step(
            request,
            s.CorrectiveActionInputSerializer,
            lambda i, kw: incident_add_corrective_action(incident=i, by=request.user, **kw),
        )

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"])
    def agree(self, request, readable_id=None):
        return self._step(request, None, lambda i, kw: i.agree_corrective_actions(by=request.user))

    @extend_schema(request=s.LearningItemInputSerializer, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"], url_path="learning-items", url_name="learning-items")
    def learning_items(self, request, readable_id=None):
        def call(incident, kw):
            reference = kw.pop("reference").strip()
            record = references.resolve(reference) if reference else None
            if reference and record is None:
                raise DomainError(_("No record has this id."), field="reference")
            incident_add_learning_item(incident=incident, by=request.user, record=record, **kw)

        return self._step(request, s.LearningItemInputSerializer, call)

    @extend_schema(request=s.RecordLearningInputSerializer, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"], url_path="record-learning", url_name="record-learning")
    def record_learning(self, request, readable_id=None):
        return self._step(
            request, s.RecordLearningInputSerializer, lambda i, kw: i.record_learning(by=request.user, **kw)
        )

    @extend_schema(request=s.ForumReviewInputSerializer, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"], url_path="forum-review", url_name="forum-review")
    def forum_review(self, request, readable_id=None):
        return self._step(
            request, s.ForumReviewInputSerializer, lambda i, kw: i.record_forum_review(by=request.user, **kw)
        )

    @extend_schema(request=s.WatchlistInputSerializer, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"])
    def watchlist(self, request, readable_id=None):
        return self._step(
            request, s.WatchlistInputSerializer, lambda i, kw: i.set_watchlist(by=request.user, **kw)
        )

    @extend_schema(request=None, responses=s.IncidentSerializer)
    @detail_action(detail=True, methods=["post"])
    def close(self, request, readable_id=None):
        return self._step(request, None, lambda i, kw: i.close(by=request.user))
