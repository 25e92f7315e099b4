from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from decisions.choices import DecisionType
from forums.models import Forum, Session, SessionOutcome
from portfolio.models import Capability
from productops.roles import Role


def _person(serializer_field):
    request = serializer_field.context.get("request")
    return request.user if request else None


@extend_schema_field(OpenApiTypes.STR)
class VisibleCapabilityField(serializers.SlugRelatedField):
    """A capability by slug, in a move's input: one the person holds no role on reads as unknown
    (a 400 naming the field, as any input that names no record)."""

    def __init__(self, **kwargs):
        super().__init__(slug_field="slug", **kwargs)

    def get_queryset(self):
        return Capability.objects.visible_to(_person(self))


@extend_schema_field(OpenApiTypes.INT)
class VisibleSessionField(serializers.PrimaryKeyRelatedField):
    """A forum session by id, in a move's input; one of a forum the person cannot read is unknown."""

    def get_queryset(self):
        return Session.objects.visible_to(_person(self)).select_related("forum")


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


class SessionOutcomeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SessionOutcome
        fields = ["kind", "reference", "summary", "agenda_block", "recorded_at"]


class SessionSerializer(serializers.ModelSerializer):
    can_send_pack = serializers.SerializerMethodField()
    outcomes = SessionOutcomeSerializer(many=True, read_only=True)

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
            "outcomes",
            "minutes",
        ]
        # Notes are written per agenda block through /notes/, which keeps them editable only
        # from the start of the meeting until the minutes are published.
        read_only_fields = [
            "forum",
            "scheduled_at",
            "state",
            "notes",
            "started_at",
            "ended_at",
            "minutes_published_at",
            "minutes",
        ]

    def get_can_send_pack(self, session) -> dict:
        ok, reason = session.can_send_pack()
        return {"ok": ok, "reason": reason}


# --- what the meeting records (SessionViewSet's POST actions; forums.meeting holds the rules) ---


class MeetingDecisionInput(serializers.Serializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())
    type = serializers.ChoiceField(choices=DecisionType.choices)
    decision = serializers.CharField()
    options_considered = serializers.CharField(required=False, allow_blank=True, default="")
    evidence = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))
    review_trigger = serializers.CharField(required=False, allow_blank=True, default="")
    review_date = serializers.DateField(required=False, allow_null=True, default=None)
    agenda_block = serializers.CharField(required=False, allow_blank=True, default="")


class MeetingActionInput(serializers.Serializer):
    capability = serializers.SlugRelatedField(slug_field="slug", queryset=Capability.objects.all())
    action = serializers.CharField()
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))
    reviewer = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    due_date = serializers.DateField()
    closure_criterion = serializers.CharField()
    source_signal = serializers.CharField(required=False, allow_blank=True, default="")
    reopen_trigger = serializers.JSONField(required=False, allow_null=True, default=None)
    agenda_block = serializers.CharField(required=False, allow_blank=True, default="")


# The inputs each action move takes, as the action's own method names them.
MOVE_INPUTS = {
    "verify": ["comment"],
    "submit_evidence": ["text", "link"],
    "send_back": ["comment"],
    "reopen": ["reason"],
    "escalate": ["to", "reason"],
    "block": ["reason"],
}


class MeetingActionMoveInput(serializers.Serializer):
    action = serializers.CharField(help_text="The action's readable id, e.g. ACT-0042.")
    move = serializers.ChoiceField(choices=list(MOVE_INPUTS))
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    text = serializers.CharField(required=False, allow_blank=True, default="")
    link = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")
    to = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.filter(is_active=True),
        required=False,
        allow_null=True,
        default=None,
    )
    agenda_block = serializers.CharField(required=False, allow_blank=True, default="")

    def move_inputs(self) -> dict:
        return {name: self.validated_data[name] for name in MOVE_INPUTS[self.validated_data["move"]]}


class MeetingReleaseApproveInput(serializers.Serializer):
    release = serializers.CharField(help_text="The release's readable id, e.g. REL-2026-004.")
    comment = serializers.CharField()
    agenda_block = serializers.CharField(required=False, allow_blank=True, default="")


class MeetingAttendanceInput(serializers.Serializer):
    present = serializers.ListField(child=serializers.IntegerField(), allow_empty=True)


class MeetingNoteInput(serializers.Serializer):
    block = serializers.CharField()
    text = serializers.CharField(allow_blank=True)
