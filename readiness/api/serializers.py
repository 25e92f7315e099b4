"""Readiness as JSON: computed answers, no stored fields (serializers hold no logic)."""

from rest_framework import serializers


class EvidenceSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="The record that answers the question.")
    url = serializers.CharField(help_text="Its page (empty when it has none).")


class AnswerSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="The question's key, e.g. decision_evidence.")
    question = serializers.CharField(help_text="The question in the playbook's words (25).")
    state = serializers.ChoiceField(choices=["answered", "gap"])
    evidence = EvidenceSerializer(many=True)
    gap = serializers.CharField(help_text="What is missing, in words a PM can act on (empty when answered).")
    faults = EvidenceSerializer(many=True, help_text="The records the gap names, with their pages.")


class ReadinessSerializer(serializers.Serializer):
    capability = serializers.SlugField(source="capability.slug")
    name = serializers.CharField(source="capability.name")
    state = serializers.ChoiceField(
        choices=["operating", "only_running"],
        help_text="operating only when all eight questions of the quality bar have evidence.",
    )
    state_label = serializers.CharField()
    answered = serializers.IntegerField(source="answered_count")
    questions = serializers.IntegerField(source="question_count")
    missing = serializers.SerializerMethodField(help_text="Keys of the questions with a gap.")
    answers = AnswerSerializer(many=True)

    def get_missing(self, readiness) -> list[str]:
        return [answer.key for answer in readiness.gaps]
