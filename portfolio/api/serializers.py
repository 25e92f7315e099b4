from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from portfolio.choices import SCORE_PARTS, BacklogStatus
from portfolio.forms import BASELINE_FIELDS, DECISION_RIGHT_FIELDS, PRODUCT_FIELDS, SUCCESS_FIELDS
from portfolio.models import BacklogItem, Capability


class CapabilitySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:capability-detail", lookup_field="slug")

    class Meta:
        model = Capability
        fields = (
            ["id", "url"]
            + PRODUCT_FIELDS
            + DECISION_RIGHT_FIELDS
            + SUCCESS_FIELDS
            + BASELINE_FIELDS
            + ["current_version_set", "created_at", "updated_at"]
        )
        read_only_fields = ["current_version_set", "created_at", "updated_at"]


# --- Backlog governance ------------------------------------------------------------------------


class MetricContractField(serializers.SlugRelatedField):
    """A metric contract by metric id. The contracts app sits above this one: looked up by label."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="metric_id", **kwargs)

    def get_queryset(self):
        return apps.get_model("contracts", "MetricContract")._default_manager.all()


class BacklogItemSerializer(serializers.ModelSerializer):
    """A backlog item with where the ranking puts it (band, rank, reasons). No rules here: the
    services and the ranking decide."""

    url = serializers.HyperlinkedIdentityField(
        view_name="api:backlog-item-detail", lookup_field="readable_id"
    )
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    evidence = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=120,
        help_text="The record the item rests on: a readable id (INC-0003), SIG-<id> or a metric id. Empty removes it.",
    )
    evidence_link = serializers.SerializerMethodField()
    expected_metric = MetricContractField()
    band = serializers.SerializerMethodField()
    rank = serializers.SerializerMethodField()
    in_portfolio_top = serializers.SerializerMethodField()
    reasons = serializers.SerializerMethodField()
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = BacklogItem
        fields = [
            "readable_id",
            "url",
            "capability",
            "title",
            "description",
            "item_class",
            "evidence",
            "evidence_link",
            "expected_metric",
            "expected_direction",
            "expected_movement",
            *SCORE_PARTS,
            "priority_score",
            "risk_override",
            "override_reason",
            "incident_severity",
            "problem_key",
            "status",
            "status_reason",
            "band",
            "rank",
            "in_portfolio_top",
            "reasons",
            "allowed_moves",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "readable_id",
            "priority_score",
            "status",
            "status_reason",
            "created_at",
            "updated_at",
        ]

    def _ranking(self, obj):
        return getattr(obj, "ranking", None)

    def get_evidence_link(self, obj) -> dict | None:
        if not obj.has_evidence_link:
            return None
        content_type = ContentType.objects.get_for_id(obj.evidence_content_type_id)
        return {
            "type": f"{content_type.app_label}.{content_type.model}",
            "id": obj.evidence_object_id,
            "kind": obj.evidence_kind,
            "reference": obj.evidence_reference,
        }

    def get_band(self, obj) -> str | None:
        ranking = self._ranking(obj)
        return ranking.band if ranking else None

    def get_rank(self, obj) -> int | None:
        ranking = self._ranking(obj)
        return ranking.position if ranking else None

    def get_in_portfolio_top(self, obj) -> bool:
        ranking = self._ranking(obj)
        return bool(ranking and ranking.in_portfolio_top)

    def get_reasons(self, obj) -> list[str]:
        ranking = self._ranking(obj)
        return list(ranking.reasons) if ranking else []

    def get_allowed_moves(self, obj) -> list[str]:
        request = self.context.get("request")
        return obj.allowed_moves(request.user) if request else []


class BacklogItemCreateSerializer(BacklogItemSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())


class BacklogMoveInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=BacklogStatus.choices)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
