"""Shapes of incidents on the wire. No rules here: the model methods and services decide."""

from rest_framework import serializers

from actions.api.serializers import PersonField
from incidents.choices import LearningKind, RootCauseClass
from incidents.models import Incident, LearningItem, RootCause
from portfolio.models import Capability
from releases.models import Release


class RootCauseSerializer(serializers.ModelSerializer):
    class Meta:
        model = RootCause
        fields = ["cause_class", "notes"]


class LearningItemSerializer(serializers.ModelSerializer):
    created_by = PersonField(read_only=True)
    record = serializers.SerializerMethodField()

    class Meta:
        model = LearningItem
        fields = ["kind", "record", "text", "link", "created_by", "created_at"]
        read_only_fields = fields

    def get_record(self, obj) -> str | None:
        return str(obj.record) if obj.record_content_type_id else None


class IncidentSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:incident-detail", lookup_field="readable_id")
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())
    affected_releases = serializers.SlugRelatedField(
        slug_field="readable_id", many=True, queryset=Release.objects.all(), required=False
    )
    rollback_release = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    recurrence_of = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    root_causes = RootCauseSerializer(many=True, read_only=True)
    learning_items = LearningItemSerializer(many=True, read_only=True)

    class Meta:
        model = Incident
        fields = [
            "readable_id",
            "url",
            "capability",
            "title",
            "source",
            "occurred_on",
            "severity",
            "complaint_signal",
            "affected_population",
            "affected_releases",
            "affected_versions",
            "impact_customer",
            "impact_operations",
            "impact_risk",
            "impact_cost",
            "immediate_action",
            "rollback_release",
            "restriction",
            "communication",
            "state",
            "root_causes",
            "recurrence_of",
            "is_recurrence",
            "learning_items",
            "forum_review_note",
            "forum_reviewed_on",
            "on_watchlist",
            "watchlist_sample_size",
            "next_review_on",
            "closed_at",
            "created_at",
        ]
        read_only_fields = [
            "readable_id",
            "immediate_action",
            "restriction",
            "communication",
            "state",
            "is_recurrence",
            "forum_review_note",
            "forum_reviewed_on",
            "on_watchlist",
            "watchlist_sample_size",
            "closed_at",
            "created_at",
        ]


class ContainInputSerializer(serializers.Serializer):
    immediate_action = serializers.CharField()
    rollback_release = serializers.SlugRelatedField(
        slug_field="readable_id",
        queryset=Release.objects.all(),
        required=False,
        allow_null=True,
        default=None,
    )
    rollback_reason = serializers.CharField(required=False, allow_blank=True, default="")
    restriction = serializers.CharField(required=False, allow_blank=True, default="")
    communication = serializers.CharField(required=False, allow_blank=True, default="")


class RootCausesInputSerializer(serializers.Serializer):
    causes = RootCauseSerializer(many=True)

    def validate_causes(self, value):
        return [(row["cause_class"], row.get("notes", "")) for row in value]


class TriggerInputSerializer(serializers.Serializer):
    kind = serializers.CharField()
    contract_metric_id = serializers.CharField(required=False, allow_blank=True, default="")
    comparison = serializers.CharField(required=False, allow_blank=True, default="")
    level = serializers.DecimalField(
        max_digits=14, decimal_places=4, required=False, allow_null=True, default=None
    )
    periods = serializers.IntegerField(required=False, allow_null=True, default=None)
    recheck_on = serializers.DateField(required=False, allow_null=True, default=None)


class CorrectiveActionInputSerializer(serializers.Serializer):
    action = serializers.CharField()
    owner = PersonField()
    due_date = serializers.DateField()
    closure_criterion = serializers.CharField()
    reopen_trigger = TriggerInputSerializer()


class LearningItemInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=LearningKind.choices)
    reference = serializers.CharField(required=False, allow_blank=True, default="")
    text = serializers.CharField(required=False, allow_blank=True, default="")
    link = serializers.URLField(required=False, allow_blank=True, default="")


class RecordLearningInputSerializer(serializers.Serializer):
    next_review_on = serializers.DateField(required=False, allow_null=True, default=None)


class ForumReviewInputSerializer(serializers.Serializer):
    reviewed_on = serializers.DateField()
    note = serializers.CharField()


class WatchlistInputSerializer(serializers.Serializer):
    sample_size = serializers.IntegerField(min_value=1)


__all__ = ["RootCauseClass"]
