"""Shapes of experiments on the wire. No rules here: the model methods and services decide."""

from rest_framework import serializers

from actions.api.serializers import PersonField
from assumptions.models import Assumption
from contracts.models import MetricContract
from experiments.choices import AssumptionOutcome, ExperimentDecision
from experiments.models import Experiment
from portfolio.models import Capability


class ContractField(serializers.SlugRelatedField):
    """A metric contract by its metric id (the service checks it belongs to the capability)."""

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", MetricContract.objects.all())
        super().__init__(slug_field="metric_id", **kwargs)


class ExperimentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:experiment-detail", lookup_field="readable_id")
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    primary_metric = ContractField()
    guardrails = ContractField(many=True, required=False)
    owner = PersonField()
    tested_assumption = serializers.SlugRelatedField(
        slug_field="readable_id", queryset=Assumption.objects.all(), required=False, allow_null=True
    )
    decision_record = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    decided_by = PersonField(read_only=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = Experiment
        fields = [
            "readable_id",
            "url",
            "capability",
            "title",
            "hypothesis",
            "population",
            "treatment",
            "control_or_baseline",
            "primary_metric",
            "guardrails",
            "start_date",
            "planned_end_date",
            "ended_on",
            "owner",
            "arm_key",
            "treatment_value",
            "control_value",
            "tested_assumption",
            "state",
            "result",
            "decision",
            "decision_comment",
            "decision_record",
            "decided_at",
            "decided_by",
            "allowed_moves",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "readable_id",
            "ended_on",
            "state",
            "result",
            "decision",
            "decision_comment",
            "decided_at",
            "created_at",
            "updated_at",
        ]

    def get_allowed_moves(self, obj) -> list[str]:
        request = self.context.get("request")
        return obj.allowed_moves(request.user) if request else []


class ExperimentCreateSerializer(ExperimentSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())


class ExtendInputSerializer(serializers.Serializer):
    planned_end_date = serializers.DateField(required=False, allow_null=True, default=None)


class DecideInputSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=ExperimentDecision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    assumption_status = serializers.ChoiceField(
        choices=AssumptionOutcome.choices, required=False, allow_null=True, default=None
    )
    assumption_evidence = serializers.CharField(required=False, allow_blank=True, default="")


class ArmSerializer(serializers.Serializer):
    value = serializers.FloatField(allow_null=True)
    display = serializers.CharField()
    rows = serializers.IntegerField()
    sample_size = serializers.IntegerField()
    level = serializers.CharField()


class EffectSerializer(serializers.Serializer):
    metric_id = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField()
    category = serializers.CharField()
    direction = serializers.CharField()
    is_ratio = serializers.BooleanField()
    label = serializers.CharField()
    control = ArmSerializer()
    treatment = ArmSerializer()
    sufficient = serializers.BooleanField()
    reason = serializers.CharField()
    difference = serializers.FloatField(allow_null=True)
    ci_low = serializers.FloatField(allow_null=True)
    ci_high = serializers.FloatField(allow_null=True)
    relative_change = serializers.FloatField(allow_null=True)
    significant = serializers.BooleanField()
    verdict = serializers.CharField()
    verdict_display = serializers.CharField()
    difference_display = serializers.CharField()
    ci_display = serializers.CharField()
    relative_display = serializers.CharField()
    status = serializers.CharField()
    status_display = serializers.CharField()


class CohortGroupSerializer(serializers.Serializer):
    dimension = serializers.CharField()
    effects = EffectSerializer(many=True)
    differs = serializers.BooleanField()


class ReadoutSerializer(serializers.Serializer):
    """The readout's figures: computed now, or frozen at the decision (``frozen``)."""

    experiment = serializers.CharField()
    frozen = serializers.BooleanField()
    window_start = serializers.DateField()
    window_end = serializers.DateField()
    arm_key = serializers.CharField()
    control_value = serializers.CharField()
    treatment_value = serializers.CharField()
    primary = EffectSerializer()
    guardrails = EffectSerializer(many=True)
    guardrails_held = serializers.BooleanField(allow_null=True)
    cohorts = CohortGroupSerializer(many=True)
    cohorts_differ = serializers.BooleanField()
    cohorts_readable = serializers.BooleanField()
    costs = EffectSerializer(many=True)
    computed_at = serializers.DateTimeField()
