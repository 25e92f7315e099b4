"""Shapes of actions on the wire. No rules here: the model methods and services decide."""

from django.contrib.contenttypes.models import ContentType
from rest_framework import serializers

from actions.models import Action, ClosureEvidence, Reopening, ReopenTrigger
from portfolio.models import Capability
from productops.models import User


class PersonField(serializers.SlugRelatedField):
    """A person by username."""

    def __init__(self, **kwargs):
        if not kwargs.get("read_only"):
            kwargs.setdefault("queryset", User.objects.filter(is_active=True))
        super().__init__(slug_field="username", **kwargs)


class ClosureEvidenceSerializer(serializers.ModelSerializer):
    submitted_by = PersonField(read_only=True)
    reviewed_by = PersonField(read_only=True)
    file_url = serializers.SerializerMethodField()
    filename = serializers.CharField(read_only=True)

    class Meta:
        model = ClosureEvidence
        fields = [
            "id",
            "text",
            "link",
            "filename",
            "file_url",
            "submitted_by",
            "submitted_at",
            "verdict",
            "reviewed_by",
            "reviewed_at",
            "review_comment",
        ]
        read_only_fields = fields

    def get_file_url(self, obj) -> str | None:
        if not obj.file:
            return None
        request = self.context.get("request")
        url = obj.get_file_url()
        return request.build_absolute_uri(url) if request else url


class ReopenTriggerSerializer(serializers.ModelSerializer):
    class Meta:
        model = ReopenTrigger
        fields = ["kind", "contract_metric_id", "comparison", "level", "periods", "recheck_on", "fired_at"]
        read_only_fields = ["fired_at"]


class ReopeningSerializer(serializers.ModelSerializer):
    reopened_by = PersonField(read_only=True)

    class Meta:
        model = Reopening
        fields = ["reopened_at", "reopened_by", "reason", "by_trigger"]
        read_only_fields = fields


def _link(content_type_id, object_id) -> dict | None:
    if not content_type_id:
        return None
    content_type = ContentType.objects.get_for_id(content_type_id)
    return {"type": f"{content_type.app_label}.{content_type.model}", "id": object_id}


class ActionSerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:action-detail", lookup_field="readable_id")
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    owner = PersonField()
    reviewer = PersonField(required=False, allow_null=True)
    escalated_to = PersonField(read_only=True)
    source = serializers.SerializerMethodField()
    forum = serializers.SerializerMethodField()
    reopen_trigger = ReopenTriggerSerializer(required=False, allow_null=True)
    evidence = ClosureEvidenceSerializer(many=True, read_only=True)
    reopenings = ReopeningSerializer(many=True, read_only=True)
    is_overdue = serializers.BooleanField(read_only=True)
    allowed_moves = serializers.SerializerMethodField()

    class Meta:
        model = Action
        fields = [
            "readable_id",
            "url",
            "capability",
            "source_kind",
            "source",
            "source_signal",
            "action",
            "owner",
            "due_date",
            "closure_criterion",
            "reviewer",
            "status",
            "is_overdue",
            "blocked_reason",
            "escalated_to",
            "escalation_reason",
            "escalated_at",
            "forum",
            "reopen_trigger",
            "evidence",
            "reopenings",
            "closed_at",
            "times_reopened",
            "allowed_moves",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "readable_id",
            "status",
            "blocked_reason",
            "escalation_reason",
            "escalated_at",
            "closed_at",
            "times_reopened",
            "created_at",
            "updated_at",
        ]

    def get_source(self, obj) -> dict | None:
        return _link(obj.source_content_type_id, obj.source_object_id)

    def get_forum(self, obj) -> dict | None:
        return _link(obj.forum_content_type_id, obj.forum_object_id)

    def get_allowed_moves(self, obj) -> list[str]:
        request = self.context.get("request")
        return obj.allowed_moves(request.user) if request else []


class ActionCreateSerializer(ActionSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())


class ReasonInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CommentInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, default="")


class EvidenceInputSerializer(serializers.Serializer):
    text = serializers.CharField(required=False, allow_blank=True, default="")
    link = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    file = serializers.FileField(required=False, allow_null=True, default=None)


class EscalateInputSerializer(serializers.Serializer):
    to = PersonField(allow_null=True, required=False, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")
