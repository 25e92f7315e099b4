"""Shapes of releases on the wire. No rules here: the model methods and services decide."""

from rest_framework import serializers

from actions.api.serializers import PersonField
from portfolio.models import Capability
from releases.choices import DEFAULT_IMPACT_PERIODS, DeployTarget, ImpactDecision
from releases.models import EvidenceItem, ImpactReview, Release, ReleaseApproval


class EvidenceItemSerializer(serializers.ModelSerializer):
    label = serializers.CharField(read_only=True)
    attested_by = PersonField(read_only=True)
    is_attested = serializers.BooleanField(read_only=True)
    filename = serializers.CharField(read_only=True)
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceItem
        fields = [
            "key",
            "label",
            "is_attested",
            "link",
            "filename",
            "file_url",
            "note",
            "attested_by",
            "attested_at",
        ]
        read_only_fields = fields

    def get_file_url(self, obj) -> str | None:
        if not obj.file:
            return None
        request = self.context.get("request")
        url = obj.get_file_url()
        return request.build_absolute_uri(url) if request else url


class ReleaseApprovalSerializer(serializers.ModelSerializer):
    approver = PersonField(read_only=True)
    decision = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)

    class Meta:
        model = ReleaseApproval
        fields = ["approver", "verdict", "comment", "round", "as_risk", "decided_at", "decision"]
        read_only_fields = fields


class ImpactReviewSerializer(serializers.ModelSerializer):
    reviewer = PersonField(read_only=True)
    decision_record = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)

    class Meta:
        model = ImpactReview
        fields = [
            "reviewer",
            "reviewed_at",
            "periods",
            "expected_effect",
            "decision",
            "comment",
            "regressions",
            "figures",
            "decision_record",
        ]
        read_only_fields = fields


class ReleaseSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:release-detail", lookup_field="readable_id")
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = PersonField()
    risk_tier = serializers.CharField(required=False, allow_blank=True)
    evidence_items = EvidenceItemSerializer(many=True, read_only=True)
    approvals = ReleaseApprovalSerializer(many=True, read_only=True)
    impact_reviews = ImpactReviewSerializer(many=True, read_only=True)
    decisions = serializers.SlugRelatedField(slug_field="readable_id", many=True, read_only=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "readable_id",
            "url",
            "capability",
            "planned_date",
            "deployed_date",
            "object_type",
            "change",
            "version_from",
            "version_to",
            "affected_population",
            "risk_tier",
            "owner",
            "canary_plan",
            "rollback_plan",
            "post_release_review_date",
            "state",
            "approval_scope",
            "approval_round",
            "rolled_back_date",
            "rollback_reason",
            "evidence_items",
            "approvals",
            "impact_reviews",
            "decisions",
            "allowed_moves",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "readable_id",
            "deployed_date",
            "state",
            "approval_scope",
            "approval_round",
            "rolled_back_date",
            "rollback_reason",
            "created_at",
            "updated_at",
        ]
        extra_kwargs = {"version_from": {"required": False}}

    def get_allowed_moves(self, obj) -> list[str]:
        request = self.context.get("request")
        return obj.allowed_moves(request.user) if request else []


class ReleaseCreateSerializer(ReleaseSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())


class ReleaseCommentInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ReleaseDeployInputSerializer(serializers.Serializer):
    to = serializers.ChoiceField(choices=DeployTarget.choices, default=DeployTarget.RELEASED)
    on = serializers.DateField(required=False, allow_null=True, default=None)


class ReleaseAttestInputSerializer(serializers.Serializer):
    item = serializers.CharField()
    link = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class ImpactReviewInputSerializer(serializers.Serializer):
    expected_effect = serializers.CharField(required=False, allow_blank=True, default="")
    decision = serializers.ChoiceField(choices=ImpactDecision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    periods = serializers.IntegerField(
        required=False, min_value=1, max_value=52, default=DEFAULT_IMPACT_PERIODS
    )
    next_review_date = serializers.DateField(required=False, allow_null=True, default=None)
