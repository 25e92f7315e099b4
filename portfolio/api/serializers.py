from rest_framework import serializers

from portfolio.forms import BASELINE_FIELDS, DECISION_RIGHT_FIELDS, PRODUCT_FIELDS, SUCCESS_FIELDS
from portfolio.models import Capability


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
