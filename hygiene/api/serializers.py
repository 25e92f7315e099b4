from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from hygiene.models import Finding, Waiver


class RefSerializer(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    url = serializers.CharField(allow_blank=True)
    model = serializers.CharField()
    pk = serializers.CharField()
    at_fault = serializers.BooleanField(default=True)


class FindingSerializer(serializers.ModelSerializer):
    """A finding of one hygiene run: the check, severity, the playbook's finding and correction,
    the records at fault, and the waiver that covered it when the run was made."""

    capability = serializers.SlugRelatedField(source="run.capability", slug_field="slug", read_only=True)
    run_at = serializers.DateTimeField(source="run.started_at", read_only=True)
    as_of = serializers.DateField(source="run.as_of", read_only=True)
    check_title = serializers.CharField(read_only=True)
    refs = RefSerializer(many=True, read_only=True)
    waived_until = serializers.DateField(
        source="waiver.expires_on", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Finding
        fields = [
            "id",
            "capability",
            "run",
            "run_at",
            "as_of",
            "check_id",
            "check_title",
            "severity",
            "key",
            "text",
            "fix",
            "refs",
            "waiver",
            "waived_until",
        ]
        read_only_fields = fields


class WaiverCreateSerializer(serializers.Serializer):
    reason = serializers.CharField(
        help_text=_("Why the finding may stand for now (logged as a risk acceptance).")
    )
    expires_on = serializers.DateField(help_text=_("The last day the waiver holds, at most 180 days ahead."))


class WaiverSerializer(serializers.ModelSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    decision = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    granted_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Waiver
        fields = [
            "id",
            "capability",
            "check_id",
            "key",
            "reason",
            "expires_on",
            "decision",
            "granted_by",
            "granted_at",
        ]
        read_only_fields = fields
