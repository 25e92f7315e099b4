"""The quarterly portfolio review (playbook 9): the scorecard across capabilities and the
decision per capability."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from forums.choices import PortfolioDecision, PortfolioReviewState
from productops.mixins import TrackedModel


class PortfolioReview(TrackedModel):
    """One quarter's portfolio review: a scorecard row for every capability in scope."""

    session = models.ForeignKey(
        "forums.Session",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="portfolio_reviews",
        verbose_name=_("session"),
    )
    quarter = models.CharField(_("quarter"), max_length=7, unique=True, help_text=_("e.g. 2026-Q4"))
    state = models.CharField(
        _("state"), max_length=10, choices=PortfolioReviewState.choices, default=PortfolioReviewState.DRAFT
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        ordering = ["-quarter"]
        verbose_name = _("quarterly portfolio review")

    def __str__(self):
        return f"{_('Portfolio review')} {self.quarter}"


class ScorecardRow(TrackedModel):
    """One capability on the scorecard of 9.2 and its output row of 9.4.

    ``ratings`` maps each ScorecardDimension to ``{"rating": 1-5, "suggested": 1-5 or None,
    "evidence": "what the data shows", "note": "the reviewer's reason"}``; the suggestion is
    computed from contracts, signals and incidents where the data can say, never stored as the
    rating until a person accepts or changes it.
    """

    review = models.ForeignKey(PortfolioReview, on_delete=models.CASCADE, related_name="rows")
    capability = models.ForeignKey(
        "portfolio.Capability", on_delete=models.PROTECT, related_name="+", verbose_name=_("capability")
    )
    ratings = models.JSONField(_("ratings"), default=dict)
    decision = models.CharField(_("decision"), max_length=20, choices=PortfolioDecision.choices, blank=True)
    evidence_basis = models.TextField(_("evidence basis"), blank=True)
    funding_change = models.CharField(_("funding change"), max_length=300, blank=True)
    platform_dependency = models.CharField(_("platform dependency"), max_length=300, blank=True)
    risk_condition = models.TextField(_("risk condition"), blank=True)
    next_review = models.CharField(_("next review"), max_length=100, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decision_logged = models.ForeignKey(
        "decisions.Decision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decision log entry"),
    )

    class Meta:
        ordering = ["review", "capability__name"]
        verbose_name = _("scorecard row")
        constraints = [
            models.UniqueConstraint(
                fields=["review", "capability"], name="forums_scorecard_once_per_capability"
            ),
        ]

    def __str__(self):
        return f"{self.review.quarter}: {self.capability}"
