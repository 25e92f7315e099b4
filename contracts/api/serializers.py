"""Shapes of metric contracts and signals on the wire. No rules here: the services decide."""

from rest_framework import serializers

from actions.api.serializers import PersonField
from contracts.forms import FORM_FIELDS
from contracts.models import MetricContract, Observation, Signal, StopHold
from portfolio.models import Capability

READ_ONLY = [
    "status",
    "improvement_not_net",
    "improvement_not_net_reason",
    "created_at",
    "updated_at",
]


class ContractSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:contract-detail", lookup_field="metric_id")
    page = serializers.SerializerMethodField()
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    business_owner = PersonField(required=False, allow_null=True)
    analytics_owner = PersonField(required=False, allow_null=True)
    risk_reviewer = PersonField(required=False, allow_null=True)
    guardrails = serializers.SlugRelatedField(
        many=True, slug_field="metric_id", queryset=MetricContract.objects.none(), required=False
    )

    class Meta:
        model = MetricContract
        fields = ["url", "page", *FORM_FIELDS, *READ_ONLY]
        read_only_fields = ["metric_id", *READ_ONLY]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        guardrails = self.fields.get("guardrails")
        if guardrails is not None and request is not None:
            # Only contracts the person can see: another capability's ids are not confirmed.
            guardrails.child_relation.queryset = MetricContract.objects.visible_to(request.user)

    def get_page(self, obj) -> str:
        request = self.context.get("request")
        url = obj.get_absolute_url()
        return request.build_absolute_uri(url) if request else url


class ContractCreateSerializer(ContractSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())

    class Meta(ContractSerializer.Meta):
        read_only_fields = READ_ONLY


class RetireInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class LiftHoldInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class StopHoldSerializer(serializers.ModelSerializer):
    lifted_by = PersonField(read_only=True)

    class Meta:
        model = StopHold
        fields = ["id", "reason", "created_at", "lifted_at", "lifted_by", "lift_comment"]
        read_only_fields = fields


class SignalSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:signal-detail")
    contract = serializers.SlugRelatedField(slug_field="metric_id", read_only=True)
    capability = serializers.SerializerMethodField()
    action = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    is_open = serializers.SerializerMethodField()
    stop_holds = StopHoldSerializer(many=True, read_only=True)

    class Meta:
        model = Signal
        fields = [
            "id",
            "url",
            "contract",
            "capability",
            "cut",
            "level",
            "worst_level",
            "opened_period",
            "last_period",
            "resolved_period",
            "is_open",
            "observed_value",
            "threshold_crossed",
            "action",
            "stop_holds",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_capability(self, obj) -> str:
        return obj.contract.capability.slug

    def get_is_open(self, obj) -> bool:
        return obj.resolved_period is None


class ObservationSerializer(serializers.ModelSerializer):
    """An observation as stored (read only: observations arrive through the bulk ingest)."""

    contract = serializers.SlugRelatedField(slug_field="metric_id", read_only=True)

    class Meta:
        model = Observation
        fields = [
            "id",
            "contract",
            "period_start",
            "grain",
            "cohort",
            "version_set",
            "value",
            "numerator",
            "denominator",
            "sample_size",
            "source",
            "ingested_at",
        ]
        read_only_fields = fields
