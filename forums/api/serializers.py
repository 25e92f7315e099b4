from django.contrib.auth import get_user_model
from rest_framework import serializers

from decisions.choices import DecisionType
from forums.models import Forum, Session
from portfolio.models import Capability
from productops.roles import Role


class ForumSerializer(serializers.ModelSerializer):
    attendee_roles = serializers.ListField(
        child=serializers.ChoiceField(choices=Role.choices), required=False
    )
    decision_types = serializers.ListField(
        child=serializers.ChoiceField(choices=DecisionType.choices), required=False
    )
    scope = serializers.SlugRelatedField(
        slug_field="slug", queryset=Capability.objects.all(), many=True, required=False
    )
    attendees = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True), many=True, required=False
    )
    agenda = serializers.JSONField(required=False)
    schedule = serializers.CharField(source="schedule_display", read_only=True)

    class Meta:
        model = Forum
        fields = [
            "id",
            "name",
            "cadence",
            "owner",
            "attendees",
            "attendee_roles",
            "decision_types",
            "frequency",
            "weekday",
            "time_of_day",
            "week_of_month",
            "anchor_date",
            "duration_minutes",
            "scope",
            "agenda",
            "schedule",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]


class SessionSerializer(serializers.ModelSerializer):
    can_send_pack = serializers.SerializerMethodField()

    class Meta:
        model = Session
        fields = [
            "id",
            "forum",
            "scheduled_at",
            "decision_requested",
            "state",
            "notes",
            "started_at",
            "ended_at",
            "minutes_published_at",
            "can_send_pack",
        ]
        read_only_fields = [
            "forum",
            "scheduled_at",
            "state",
            "started_at",
            "ended_at",
            "minutes_published_at",
        ]

    def get_can_send_pack(self, session) -> dict:
        ok, reason = session.can_send_pack()
        return {"ok": ok, "reason": reason}
