"""The release impact board (playbook 18.1, 12, 21.3) for the PM, Architect and Risk: the version
changes of the release calendar over a window (deployed, canaried, rolled back), who they
touched, the regressions each release's impact review found (per contract and cut, the
difference with its 95% interval, a past-warning level flagged), each review's decision, and
the releases whose review is due or overdue.

A reviewed release shows the figures its impact review kept (what the reviewer saw); a live
release not reviewed yet shows them computed now by the same function
(``forums.memos.impact.impact_figures_many``, the monthly memo's reading too). A fixed number of
queries whatever the number of capabilities, releases or contracts.
"""

import datetime
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Prefetch, Q
from django.utils import timezone

from forums.memos.impact import impact_figures_many

DEFAULT_DAYS = 90
PAST_WARNING = ("warning", "breach", "stop")


@dataclass
class Regression:
    """One contract and cut that moved the wrong way after a release and stands past warning."""

    metric_id: str
    name: str
    category: str
    cut: str
    figure: dict

    @property
    def before(self) -> str:
        return self.figure["display"]["before"]

    @property
    def after(self) -> str:
        return self.figure["display"]["after"]

    @property
    def difference(self) -> str:
        return self.figure["display"]["difference"]

    @property
    def ci(self) -> str:
        return self.figure["display"]["ci"]

    @property
    def level(self) -> str:
        return self.figure.get("after_level", "")

    @property
    def level_label(self) -> str:
        return self.figure["display"].get("after_level", self.level)

    @property
    def past_warning(self) -> bool:
        return self.level in PAST_WARNING


@dataclass
class ReleaseImpact:
    """One release on the board: its version change and what its impact review found."""

    release: object
    review: object = None  # the latest ImpactReview, or None
    figures: dict = field(default_factory=dict)
    review_due: bool = False
    days_overdue: int = 0

    @property
    def computed_now(self) -> bool:
        """Figures computed now: live, not reviewed yet."""
        return self.review is None and bool(self.figures.get("contracts"))

    @cached_property
    def regressions(self) -> list[Regression]:
        found = []
        for contract in self.figures.get("contracts", []):
            for figure in [contract.get("whole") or {}, *contract.get("cuts", [])]:
                if figure.get("regression"):
                    found.append(
                        Regression(
                            contract["metric_id"],
                            contract["name"],
                            contract["category"],
                            figure["cut"],
                            figure,
                        )
                    )
        return found

    @cached_property
    def regressed_contracts(self) -> list[str]:
        return sorted({regression.metric_id for regression in self.regressions})

    @property
    def guardrails_breaking(self) -> list[dict]:
        return [row for row in self.figures.get("guardrails", []) if not row.get("holding")]

    @property
    def incomplete(self) -> bool:
        return bool(self.figures.get("incomplete"))


@dataclass
class ReleaseBoard:
    start: datetime.date
    end: datetime.date
    days: int
    releases: list[ReleaseImpact]  # deployed or rolled back in the window, newest first
    due: list[ReleaseImpact]  # live releases whose impact review is due or overdue
    upcoming: list = field(default_factory=list)  # planned, not deployed, next in the calendar

    @property
    def regressions(self) -> int:
        return sum(len(row.regressions) for row in self.releases)

    @property
    def rolled_back(self) -> list[ReleaseImpact]:
        return [row for row in self.releases if row.release.rolled_back_date]

    @property
    def moved_contracts(self) -> list[str]:
        """The contracts a release of the window regressed, in the order they first appear."""
        seen: list[str] = []
        for row in self.releases:
            for metric_id in row.regressed_contracts:
                if metric_id not in seen:
                    seen.append(metric_id)
        return seen


def release_board(
    capabilities, *, days: int = DEFAULT_DAYS, today: datetime.date | None = None
) -> ReleaseBoard:
    """The release impact board of the capabilities given over the ``days`` up to today."""
    from releases.choices import LIVE_STATES, ReleaseState
    from releases.models import ImpactReview, Release

    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=days - 1)
    ids = [capability.pk for capability in capabilities]
    releases = list(
        Release.objects.filter(capability_id__in=ids)
        .filter(
            Q(deployed_date__range=(start, today))
            | Q(rolled_back_date__range=(start, today))
            | Q(state__in=[ReleaseState.CANARY, ReleaseState.RELEASED], post_release_review_date__lte=today)
            | Q(
                deployed_date__isnull=True, planned_date__range=(today, today + datetime.timedelta(days=days))
            )
        )
        .exclude(state__in=[ReleaseState.REJECTED, ReleaseState.DRAFT])
        .select_related("capability", "owner")
        .prefetch_related(
            Prefetch(
                "impact_reviews",
                queryset=ImpactReview.objects.select_related("reviewer", "decision_record").order_by(
                    "-reviewed_at", "-id"
                ),
            )
        )
        .order_by("-deployed_date", "-planned_date", "-id")
    )
    unreviewed = [
        release
        for release in releases
        if release.state in LIVE_STATES
        and release.deployed_date
        and release.deployed_date <= today
        and not release.impact_reviews.all()
    ]
    live = impact_figures_many(unreviewed) if unreviewed else {}
    shown, due, upcoming = [], [], []
    for release in releases:
        if release.deployed_date is None:
            upcoming.append(release)
            continue
        reviews = list(release.impact_reviews.all())
        review = reviews[0] if reviews else None
        row = ReleaseImpact(
            release=release,
            review=review,
            figures=(review.figures if review is not None else live.get(release.pk)) or {},
            review_due=release.review_due(today),
        )
        if row.review_due:
            row.days_overdue = (today - release.post_release_review_date).days
            due.append(row)
        in_window = (release.deployed_date and release.deployed_date >= start) or (
            release.rolled_back_date and release.rolled_back_date >= start
        )
        if in_window:
            shown.append(row)
    due.sort(key=lambda row: -row.days_overdue)
    upcoming.sort(key=lambda release: (release.planned_date, release.pk))
    return ReleaseBoard(start=start, end=today, days=days, releases=shown, due=due, upcoming=upcoming)
