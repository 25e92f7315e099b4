from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from assumptions.choices import AssumptionStatus, AssumptionType, Confidence, ObjectType
from assumptions.models import Assumption, AssumptionReview
from portfolio.models import Capability


def _people():
    return get_user_model().objects.filter(is_active=True)


class AssumptionReviewSerializer(serializers.ModelSerializer):
    """One row of the assumption review table (playbook 21.4)."""

    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    source = serializers.SerializerMethodField()

    class Meta:
        model = AssumptionReview
        fields = [
            "previous_status",
            "new_evidence",
            "new_status",
            "roadmap_impact",
            "next_review",
            "reviewed_by",
            "reviewed_at",
            "source",
        ]
        read_only_fields = fields

    def get_source(self, review) -> str | None:
        source = review.source
        if source is None:
            return None
        return getattr(source, "readable_id", None) or str(source)


class AssumptionSerializer(serializers.ModelSerializer):
    """An assumption as read, and as edited (PATCH/PUT): never its status or capability."""

    id = serializers.CharField(source="readable_id", read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="api:assumption-detail", lookup_field="readable_id")
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", queryset=_people())
    tested_by_contracts = serializers.ListField(child=serializers.CharField(), required=False)
    depends_on_object_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ObjectType.choices), required=False
    )

    class Meta:
        model = Assumption
        fields = [
            "id",
            "url",
            "capability",
            "statement",
            "type",
            "owner",
            "evidence",
            "confidence",
            "expires_on",
            "status",
            "decision_impact",
            "tested_by_contracts",
            "depends_on_object_types",
            "next_review_on",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["status", "next_review_on", "created_at", "updated_at"]

    def validate(self, attrs):
        # Read-only fields are dropped silently by DRF; a client that tries to set the status
        # by editing is told where status changes happen instead.
        sent = self.initial_data.get("status") if hasattr(self.initial_data, "get") else None
        if sent is not None and self.instance is not None and sent != self.instance.status:
            raise serializers.ValidationError(
                {"status": _("The status changes only through a review: POST to the review endpoint.")}
            )
        return attrs


class AssumptionDetailSerializer(AssumptionSerializer):
    reviews = AssumptionReviewSerializer(many=True, read_only=True)

    class Meta(AssumptionSerializer.Meta):
        fields = AssumptionSerializer.Meta.fields + ["reviews"]


class AssumptionCreateSerializer(serializers.Serializer):
    """What ``assumption_create`` takes: the rules themselves live in the service."""

    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())
    statement = serializers.CharField()
    type = serializers.ChoiceField(choices=AssumptionType.choices)
    owner = serializers.SlugRelatedField(slug_field="username", queryset=_people())
    evidence = serializers.CharField(required=False, allow_blank=True, default="")
    confidence = serializers.ChoiceField(choices=Confidence.choices)
    expires_on = serializers.DateField()
    decision_impact = serializers.CharField(required=False, allow_blank=True, default="")
    tested_by_contracts = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    depends_on_object_types = serializers.ListField(
        child=serializers.ChoiceField(choices=ObjectType.choices), required=False, default=list
    )


class AssumptionReviewInputSerializer(serializers.Serializer):
    """What ``Assumption.review`` takes. ``source`` is a readable id such as ``DEC-0007``."""

    new_status = serializers.ChoiceField(choices=AssumptionStatus.choices)
    new_evidence = serializers.CharField()
    roadmap_impact = serializers.CharField(required=False, allow_blank=True, default="")
    next_review = serializers.DateField(required=False, allow_null=True, default=None)
    expires_on = serializers.DateField(required=False, allow_null=True, default=None)
    confidence = serializers.ChoiceField(
        choices=Confidence.choices, required=False, allow_null=True, default=None
    )
    source = serializers.CharField(required=False, allow_blank=True, default="")
