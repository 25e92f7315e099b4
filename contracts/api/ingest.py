"""``/api/v1/observations/``: bulk observation ingest for telemetry pipelines (POST), and the
stored observations of one contract (GET).

A plain APIView: the body is parsed once with the standard library and checked by
``contracts.ingest`` in plain Python (a DRF serializer per row is four times slower). The
serializers below only describe the payload in the OpenAPI schema.
"""

import json

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.parsers import BaseParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from contracts.api.serializers import ObservationSerializer
from contracts.choices import Grain
from contracts.filtersets import ObservationFilterSet
from contracts.ingest import (
    MAX_ROWS_PER_REQUEST,
    IngestRejected,
    gc_paused,
    may_ingest_anywhere,
    observations_ingest,
)
from contracts.models import Observation
from productops.api import AtomicWritesMixin

# 10,000 rows of a few hundred bytes each; a body past this is refused before it is read.
MAX_BODY_BYTES = 32 * 1024 * 1024


def batch_refused(message: str) -> IngestRejected:
    """A refusal of the whole body (no row to name), in the shape of every ingest 400."""
    return IngestRejected([{"row": None, "field": "non_field_errors", "error": message}])


class ObservationRowsParser(BaseParser):
    """JSON with the standard library in one call. NaN and Infinity are parsed, then refused by
    validation with the row and field they sit in (rather than a parse error for the whole body).
    A body too large or not JSON is refused as ``{"errors": [...]}`` like a bad row, the one 400
    this endpoint documents."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        request = (parser_context or {}).get("request")
        length = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if length > MAX_BODY_BYTES:
            raise batch_refused(
                _("The body is larger than %(max)d MB; send at most %(rows)s rows a request.")
                % {"max": MAX_BODY_BYTES // (1024 * 1024), "rows": f"{MAX_ROWS_PER_REQUEST:,}"}
            )
        try:
            return json.loads(stream.read() if stream is not None else b"")
        except (ValueError, UnicodeDecodeError) as error:
            raise batch_refused(_("The body is not valid JSON: %(error)s") % {"error": error}) from error


class ObservationRowSerializer(serializers.Serializer):
    """One observation of a metric contract (schema only)."""

    contract = serializers.CharField(help_text="Metric id, e.g. cc_agent_assist.repeat_contact_7d.")
    period_start = serializers.DateField(
        help_text="First day of the period: any day for day, a Monday for week, the 1st for month."
    )
    grain = serializers.ChoiceField(choices=Grain.choices, required=False, default=Grain.DAY)
    cohort = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text="Dimension values; each dimension must be declared by the contract.",
    )
    version_set = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='e.g. {"prompt": "v12", "model": "m-2026-05"}',
    )
    value = serializers.FloatField()
    numerator = serializers.FloatField(
        required=False, allow_null=True, help_text="With the denominator, or neither."
    )
    denominator = serializers.FloatField(required=False, allow_null=True, help_text="Greater than 0.")
    sample_size = serializers.IntegerField(min_value=0)
    source = serializers.CharField(required=False, allow_blank=True, max_length=120)


class IngestAnswerSerializer(serializers.Serializer):
    received = serializers.IntegerField(help_text="Rows in the request.")
    written = serializers.IntegerField(help_text="Rows inserted or changed; identical rows are left alone.")
    unchanged = serializers.IntegerField(help_text="Rows identical to what was stored.")
    contracts = serializers.ListField(
        child=serializers.CharField(),
        help_text="Metric ids whose observations changed (queued for evaluation).",
    )


class RowErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="Row number, from 1.")
    field = serializers.CharField(allow_null=True)
    error = serializers.CharField()


class IngestErrorsSerializer(serializers.Serializer):
    errors = RowErrorSerializer(many=True)


class ObservationIngestView(AtomicWritesMixin, ListAPIView):
    """GET: one contract's observations (``?contract=`` required), newest period first.
    POST: upsert up to 10,000 observations, all or nothing."""

    permission_classes = [IsAuthenticated]
    parser_classes = [ObservationRowsParser]
    serializer_class = ObservationSerializer
    filterset_class = ObservationFilterSet
    ordering_fields = ["period_start", "ingested_at", "value"]
    ordering = ["-period_start", "id"]
    search_fields = []

    def get_queryset(self):
        # Another capability's contract answers an empty list, as if it had no observations.
        return Observation.objects.visible_to(self.request.user).select_related("contract")

    @extend_schema(
        operation_id="observations_ingest",
        tags=["observations"],
        summary="Ingest observations (idempotent upsert, all or nothing)",
        description=(
            "A JSON list of up to 10,000 observations. Each is upserted on (contract, grain, "
            "period_start, cohort, version_set): sending the same batch twice changes nothing. "
            "A batch with any bad row writes nothing and answers 400 listing the row number and "
            "field of every error. Needs a role that may change metric contracts (A or R) on each "
            "contract's capability. The evaluation of the contracts whose data changed is queued."
        ),
        request=ObservationRowSerializer(many=True),
        responses={200: IngestAnswerSerializer, 400: IngestErrorsSerializer},
        examples=[
            OpenApiExample(
                "Two observations",
                request_only=True,
                value=[
                    {
                        "contract": "cc_agent_assist.repeat_contact_7d",
                        "period_start": "2026-06-01",
                        "grain": "week",
                        "cohort": {"intent": "billing", "team": "north"},
                        "version_set": {"prompt": "v12", "model": "m-2026-05"},
                        "value": 0.118,
                        "numerator": 59,
                        "denominator": 500,
                        "sample_size": 500,
                        "source": "crm-export",
                    },
                    {
                        "contract": "cc_agent_assist.repeat_contact_7d",
                        "period_start": "2026-06-01",
                        "grain": "week",
                        "cohort": {"intent": "address_change", "team": "north"},
                        "value": 0.07,
                        "sample_size": 210,
                    },
                ],
            ),
            OpenApiExample(
                "Refused batch",
                response_only=True,
                status_codes=["400"],
                value={
                    "errors": [
                        {
                            "row": 2,
                            "field": "denominator",
                            "error": "The denominator must be greater than 0.",
                        },
                        {
                            "row": 7,
                            "field": "cohort",
                            "error": "channel is not a cohort dimension of cc_agent_assist.repeat_contact_7d "
                            "(declared: intent, team).",
                        },
                    ]
                },
            ),
        ],
    )
    def post(self, request):
        # Refuse people who may ingest nowhere before reading a body of up to 10,000 rows.
        if not may_ingest_anywhere(request.user):
            raise exceptions.PermissionDenied(_("Your roles do not allow you to ingest observations."))
        with gc_paused():
            return self._ingest(request)

    def _ingest(self, request):
        rows = request.data
        if not isinstance(rows, list):
            raise batch_refused(_("Send a JSON list of observations."))
        if len(rows) > MAX_ROWS_PER_REQUEST:
            raise batch_refused(
                _("At most %(max)s rows a request; this one has %(count)s. Split the batch.")
                % {"max": f"{MAX_ROWS_PER_REQUEST:,}", "count": f"{len(rows):,}"}
            )
        result = observations_ingest(rows, user=request.user)
        return Response(
            {
                "received": result.received,
                "written": result.written,
                "unchanged": result.unchanged,
                "contracts": list(result.touched_metric_ids),
            }
        )
