"""The monthly value memos over the API: list and detail, and the moves as POST actions
(``generate``, ``edit``, ``send``, ``decide``) through the same services as the pages."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from assumptions.choices import AssumptionStatus
from decisions.choices import DecisionType
from forums import memos as memo_services
from forums.api.serializers import VisibleCapabilityField, VisibleSessionField
from forums.forms.memos import month_from_text
from forums.memos import MemoDecision, memos_visible_to
from forums.models import ValueMemo
from productops.api import AtomicWritesMixin


class ValueMemoSerializer(serializers.ModelSerializer):
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    month = serializers.DateField(format="%Y-%m", read_only=True)
    recommendation_label = serializers.SerializerMethodField()
    decision = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)
    sent_by = serializers.StringRelatedField()
    url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = ValueMemo
        fields = [
            "id",
            "capability",
            "month",
            "session",
            "state",
            "recommendation",
            "recommendation_label",
            "matrix",
            "fields",
            "generated_at",
            "sent_at",
            "sent_by",
            "decision",
            "url",
        ]
        read_only_fields = fields

    def get_recommendation_label(self, memo) -> str:
        return str(MemoDecision(memo.recommendation).label) if memo.recommendation else ""


class MemoGenerateSerializer(serializers.Serializer):
    capability = VisibleCapabilityField(help_text="The capability's slug.")
    month = serializers.CharField(help_text="The month reviewed, YYYY-MM.")
    session = VisibleSessionField(required=False, allow_null=True)

    def validate_month(self, value):
        month = month_from_text(value)
        if month is None:
            raise serializers.ValidationError("Give the month as YYYY-MM.")
        return month


class MemoEditSerializer(serializers.Serializer):
    lines = serializers.DictField(child=serializers.DictField(child=serializers.CharField()), required=False)
    judgments = serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


class MemoAssumptionReviewSerializer(serializers.Serializer):
    assumption = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=[
            AssumptionStatus.CONFIRMED,
            AssumptionStatus.WEAKENED,
            AssumptionStatus.INVALIDATED,
            AssumptionStatus.NEEDS_EVIDENCE,
        ]
    )
    evidence = serializers.CharField(required=False, allow_blank=True)
    expires_on = serializers.DateField(required=False, allow_null=True)


class MemoDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=MemoDecision.choices)
    type = serializers.ChoiceField(choices=DecisionType.choices, required=False, allow_null=True)
    text = serializers.CharField()
    owner = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.filter(is_active=True))
    review_trigger = serializers.CharField(required=False, allow_blank=True)
    options = serializers.CharField(required=False, allow_blank=True, allow_null=True)
    assumption_reviews = MemoAssumptionReviewSerializer(
        many=True,
        required=False,
        allow_null=True,
        help_text="Omit to accept every proposal of the memo that needs no new expiry date.",
    )


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("month", str, description="The month reviewed, YYYY-MM."),
            OpenApiParameter("capability", str, description="A capability's slug."),
        ]
    )
)
class ValueMemoViewSet(AtomicWritesMixin, viewsets.ReadOnlyModelViewSet):
    """Monthly value memos (playbook 8.4) of the capabilities the person may read, newest month
    first; ``?month=YYYY-MM`` and ``?capability=<slug>`` filter. Another capability's memo is a
    404; a move the person's roles do not allow is a 403; a move the memo's state does not allow
    (editing or regenerating a sent memo, deciding twice) is a 409."""

    serializer_class = ValueMemoSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        memos = memos_visible_to(self.request.user).order_by("-month", "capability__name")
        month = month_from_text(self.request.query_params.get("month", ""))
        if month:
            memos = memos.filter(month=month)
        if self.request.query_params.get("capability"):
            memos = memos.filter(capability__slug=self.request.query_params["capability"])
        return memos

    def _answer(self, memo, code=status.HTTP_200_OK):
        memo = self.get_queryset().get(pk=memo.pk)
        return Response(ValueMemoSerializer(memo, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=MemoGenerateSerializer, responses=ValueMemoSerializer)
    @action(detail=False, methods=["post"])
    def generate(self, request):
        """Generate (or regenerate, while a draft) the memo of a capability and month."""
        body = MemoGenerateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        memo = memo_services.memo_generate(
            capability=body.validated_data["capability"],
            month=body.validated_data["month"],
            session=body.validated_data.get("session"),
            by=request.user,
        )
        return self._answer(memo, status.HTTP_201_CREATED)

    @extend_schema(request=MemoEditSerializer, responses=ValueMemoSerializer)
    @action(detail=True, methods=["post"])
    def edit(self, request, pk=None):
        """Edit a draft's lines (``{section: {line: text}}``) and judgments."""
        memo = self.get_object()
        body = MemoEditSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        memo_services.memo_update(
            memo=memo,
            by=request.user,
            lines=body.validated_data.get("lines"),
            judgments=body.validated_data.get("judgments"),
        )
        return self._answer(memo)

    @extend_schema(request=None, responses=ValueMemoSerializer)
    @action(detail=True, methods=["post"])
    def send(self, request, pk=None):
        """Send the draft to the forum's attendees; it is kept as sent from then on."""
        memo = memo_services.memo_send(memo=self.get_object(), by=request.user)
        return self._answer(memo)

    @extend_schema(request=MemoDecideSerializer, responses=ValueMemoSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Record the forum's decision in the decision log and the memo's assumption reviews."""
        memo = self.get_object()
        body = MemoDecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        reviews = data.pop("assumption_reviews", None)
        memo_services.memo_decide(
            memo=memo,
            by=request.user,
            decision=data["decision"],
            type=data.get("type") or None,
            text=data["text"],
            owner=data["owner"],
            review_trigger=data.get("review_trigger") or "",
            options=data.get("options") or None,
            assumption_reviews=[dict(item) for item in reviews] if reviews is not None else None,
        )
        return self._answer(memo)
