"""API of the quarterly portfolio review: reviews by quarter with their scorecard rows, and the
open, rate, decide and close actions, each through the same service as the pages
(``forums.portfolio_review``). Serializers hold no rules."""

import django_filters
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import filters, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from forums import portfolio_review as service
from forums.api.serializers import VisibleSessionField
from forums.choices import PortfolioDecision, PortfolioReviewState, ScorecardDimension
from forums.models import PortfolioReview, ScorecardRow
from productops.api import AtomicWritesMixin


class ScorecardRowSerializer(serializers.ModelSerializer):
    quarter = serializers.CharField(source="review.quarter", read_only=True)
    capability = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    capability_name = serializers.CharField(source="capability.name", read_only=True)
    decided_by = serializers.StringRelatedField()
    decision_logged = serializers.SlugRelatedField(slug_field="readable_id", read_only=True)

    class Meta:
        model = ScorecardRow
        fields = [
            "id",
            "quarter",
            "capability",
            "capability_name",
            "ratings",
            "decision",
            "evidence_basis",
            "funding_change",
            "platform_dependency",
            "risk_condition",
            "next_review",
            "decided_by",
            "decision_logged",
            "updated_at",
        ]
        read_only_fields = fields


class PortfolioReviewSerializer(serializers.ModelSerializer):
    rows = ScorecardRowSerializer(many=True, read_only=True)

    class Meta:
        model = PortfolioReview
        fields = ["id", "quarter", "state", "session", "decided_at", "rows"]
        read_only_fields = fields


class PortfolioReviewOpenInput(serializers.Serializer):
    quarter = serializers.CharField(max_length=7)
    session = VisibleSessionField(required=False, allow_null=True)


class ScorecardRateInput(serializers.Serializer):
    dimension = serializers.ChoiceField(choices=ScorecardDimension.choices)
    rating = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="")
    accept = serializers.BooleanField(required=False, default=False)


class ScorecardDecideInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=PortfolioDecision.choices)
    evidence_basis = serializers.CharField(required=False, allow_blank=True, default="")
    funding_change = serializers.CharField(required=False, allow_blank=True, default="")
    platform_dependency = serializers.CharField(required=False, allow_blank=True, default="")
    risk_condition = serializers.CharField(required=False, allow_blank=True, default="")
    next_review = serializers.CharField(required=False, allow_blank=True, default="")
    supersede = serializers.BooleanField(required=False, default=False)


def _rows(user):
    return (
        service.rows_visible_to(user)
        .select_related("review", "capability", "decided_by", "decision_logged")
        .order_by("capability__name")
    )


class PortfolioReviewFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(label=_("State"), choices=PortfolioReviewState.choices)
    quarter = django_filters.CharFilter(label=_("Quarter"), lookup_expr="iexact")

    class Meta:
        model = PortfolioReview
        fields = ["state", "quarter"]


class ScorecardRowFilterSet(django_filters.FilterSet):
    quarter = django_filters.CharFilter(
        label=_("Quarter"), field_name="review__quarter", lookup_expr="iexact"
    )
    capability = django_filters.CharFilter(label=_("Capability"), field_name="capability__slug")
    decision = django_filters.ChoiceFilter(label=_("Decision"), choices=PortfolioDecision.choices)
    decided = django_filters.BooleanFilter(label=_("Decided"), method="filter_decided")

    class Meta:
        model = ScorecardRow
        fields = ["quarter", "capability", "decision", "decided"]

    def filter_decided(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(decision="") if value else queryset.filter(decision="")


class PortfolioReviewViewSet(AtomicWritesMixin, viewsets.ReadOnlyModelViewSet):
    """Quarterly portfolio reviews, by quarter (``/portfolio-reviews/2026-Q4/``), each with the
    scorecard rows of the capabilities the reader holds a role on."""

    serializer_class = PortfolioReviewSerializer
    lookup_field = "quarter"
    lookup_value_regex = r"\d{4}-[Qq][1-4]"
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    filterset_class = PortfolioReviewFilterSet
    ordering_fields = ["quarter", "decided_at"]

    def get_queryset(self):
        return (
            service.reviews_visible_to(self.request.user)
            .prefetch_related(Prefetch("rows", queryset=_rows(self.request.user)))
            .order_by("-quarter")
        )

    def get_object(self):
        return get_object_or_404(self.get_queryset(), quarter=str(self.kwargs["quarter"]).upper())

    @extend_schema(request=PortfolioReviewOpenInput, responses=PortfolioReviewSerializer)
    @action(detail=False, methods=["post"])
    def open(self, request):
        """Open (or bring up to date) a quarter's review; idempotent."""
        data = PortfolioReviewOpenInput(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        review = service.portfolio_review_open(
            quarter=data.validated_data["quarter"],
            session=data.validated_data.get("session"),
            by=request.user,
        )
        fresh = self.get_queryset().get(pk=review.pk)
        return Response(self.get_serializer(fresh).data, status=status.HTTP_200_OK)

    @extend_schema(request=None, responses=PortfolioReviewSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, quarter=None):
        """Close the review: every row must be decided."""
        review = self.get_object()
        service.portfolio_review_close(review=review, by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=review.pk)).data)


class ScorecardRowViewSet(AtomicWritesMixin, viewsets.ReadOnlyModelViewSet):
    """One capability's row of a quarter's scorecard: rate a dimension, take the decision."""

    serializer_class = ScorecardRowSerializer
    filter_backends = [DjangoFilterBackend, filters.OrderingFilter]
    filterset_class = ScorecardRowFilterSet
    ordering_fields = ["review__quarter", "capability__name", "updated_at"]

    def get_queryset(self):
        return _rows(self.request.user)

    @extend_schema(request=ScorecardRateInput, responses=ScorecardRowSerializer)
    @action(detail=True, methods=["post"])
    def rate(self, request, pk=None):
        """Rate one dimension 1-5 (``accept: true`` takes the data's suggestion); a rating other
        than the suggestion needs a ``note``."""
        row = self.get_object()
        data = ScorecardRateInput(data=request.data)
        data.is_valid(raise_exception=True)
        service.scorecard_rate(row=row, by=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data)

    @extend_schema(request=ScorecardDecideInput, responses=ScorecardRowSerializer)
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Take the 9.3 decision with its 9.4 output row; written to the decision log. A decided
        row needs ``supersede: true``."""
        row = self.get_object()
        data = ScorecardDecideInput(data=request.data)
        data.is_valid(raise_exception=True)
        service.scorecard_decide(row=row, by=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=row.pk)).data)
