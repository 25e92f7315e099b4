from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from webhooks.choices import SUBSCRIBABLE_EVENTS
from webhooks.models import Delivery, Endpoint


class EndpointSerializer(serializers.ModelSerializer):
    """An endpoint; its secret is never read back (only the create and rotate answers carry it)."""

    events = serializers.ListField(
        child=serializers.ChoiceField(choices=SUBSCRIBABLE_EVENTS), allow_empty=True
    )
    url = serializers.CharField(max_length=500)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Endpoint
        fields = ["id", "name", "url", "events", "active", "created_by", "created_at", "secret_rotated_at"]
        read_only_fields = ["id", "created_by", "created_at", "secret_rotated_at"]
        # The URL and events are checked by the service, so the page and the API say the same.
        extra_kwargs = {"active": {"required": False}}


class EndpointWithSecretSerializer(EndpointSerializer):
    secret = serializers.CharField(
        read_only=True, help_text=_("The signing secret: returned only when made or rotated.")
    )

    class Meta(EndpointSerializer.Meta):
        fields = [*EndpointSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event.type", read_only=True)
    event_key = serializers.CharField(source="event.key", read_only=True)
    payload = serializers.JSONField(source="event.payload", read_only=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint",
            "event",
            "event_key",
            "status",
            "attempts",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
            "last_status_code",
            "last_response",
            "last_error",
            "attempt_log",
            "payload",
        ]
        read_only_fields = fields
