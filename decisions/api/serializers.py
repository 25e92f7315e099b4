from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from decisions.choices import DecisionType
from decisions.models import Decision, EvidenceLink
from portfolio.models import Capability


class EvidenceLinkSerializer(serializers.ModelSerializer):
    record_type = serializers.SerializerMethodField()

    class Meta:
        model = EvidenceLink
        fields = ["reference", "label", "url", "record_type", "object_id"]

    def get_record_type(self, link) -> str | None:
        if link.content_type_id is None:
            return None
        return f"{link.content_type.app_label}.{link.content_type.model}"


class DecisionSerializer(serializers.ModelSerializer):
    """A decision as the log shows it. Read-only: decisions are recorded through the service."""

    url = serializers.HyperlinkedIdentityField(view_name="api:decision-detail", lookup_field="readable_id")
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    type_display = serializers.CharField(source="get_type_display", read_only=True)
    owner = serializers.SlugRelatedField(slug_field="username", read_only=True)
    recorded_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    supersedes = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    superseded_by = serializers.SerializerMethodField()
    is_current = serializers.BooleanField(read_only=True)
    evidence = EvidenceLinkSerializer(source="evidence_links", many=True, read_only=True)
    evidence_count = serializers.IntegerField(read_only=True)
    has_evidence = serializers.BooleanField(
        read_only=True, help_text=_("False: the decision rests on no linked evidence (“no evidence”).")
    )
    forum_session = serializers.SerializerMethodField()

    class Meta:
        model = Decision
        fields = [
            "readable_id",
            "url",
            "decided_on",
            "capability",
            "type",
            "type_display",
            "decision",
            "options_considered",
            "evidence",
            "evidence_count",
            "has_evidence",
            "owner",
            "review_trigger",
            "review_date",
            "details",
            "forum_session",
            "supersedes",
            "superseded_by",
            "is_current",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = fields

    def get_superseded_by(self, decision) -> str | None:
        successor = decision.successor
        return successor.readable_id if successor else None

    def get_forum_session(self, decision) -> dict | None:
        if decision.forum_session_type_id is None:
            return None
        content_type = decision.forum_session_type
        return {
            "record_type": f"{content_type.app_label}.{content_type.model}",
            "id": decision.forum_session_id,
        }


class _DecisionInputSerializer(serializers.Serializer):
    decided_on = serializers.DateField(required=False, allow_null=True)
    type = serializers.ChoiceField(choices=DecisionType.choices)
    decision = serializers.CharField()
    options_considered = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        default=list,
        help_text=_("Readable ids (ACT-0003, REL-2026-001) or http(s) links."),
    )
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True)
    )
    review_trigger = serializers.CharField(required=False, allow_blank=True, default="")
    review_date = serializers.DateField(required=False, allow_null=True, default=None)


@extend_schema_field(OpenApiTypes.STR)
class _VisibleCapabilityField(serializers.SlugRelatedField):
    """A capability slug; another capability's slug reads as unknown, like its pages."""

    def get_queryset(self):
        request = self.context.get("request")
        return Capability.objects.visible_to(request.user if request else None)


class DecisionCreateSerializer(_DecisionInputSerializer):
    """Input of ``POST /api/v1/decisions/`` (passed on to ``decision_record``)."""

    capability = _VisibleCapabilityField(slug_field="slug")


class DecisionSupersedeSerializer(_DecisionInputSerializer):
    """Input of ``POST /api/v1/decisions/<id>/supersede/``: type and owner default to the old one's."""

    type = serializers.ChoiceField(choices=DecisionType.choices, required=False)
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=get_user_model().objects.filter(is_active=True), required=False
    )
