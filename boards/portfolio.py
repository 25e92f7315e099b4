"""The portfolio board (playbook 18.1, 9.2-9.4) for Executives and the Value Office: every
capability side by side on value, risk, cost, reuse, funding and retirement, with its latest
quarterly decision and funding change.

Its ratings are the quarterly scorecard's (``forums.portfolio_review``): a capability's row of
the latest review shows what the scorecard shows (a person's rating, or the data's suggestion
while unrated). The data's suggestion *now* (``portfolio_figures`` + ``suggest_all`` over the
current quarter's window) stands beside it, so a change since the review is visible; a
capability no review has rated yet shows that suggestion alone. Retirement candidates come
first, as on the scorecard. A fixed number of queries whatever the number of capabilities.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from decisions.models import Decision
from forums.choices import PortfolioDecision, ScorecardDimension
from forums.models import PortfolioReview, ScorecardRow, ValueMemo
from forums.portfolio_review import (
    DIMENSION_GUIDE,
    decisions_first,
    figures_window,
    portfolio_figures,
    quarter_of,
    suggest_all,
)
from forums.portfolio_review.scorecard import RowView, row_view
from forums.portfolio_review.suggestions import EXCEPTION_AT
from productops.links import reverse
from productops.reads import fetch, fields_of, loaded, placeholders

# The board's columns (18.1: value, risk, cost, reuse, funding, retirement) as the dimensions of
# 9.2 that measure them; funding is the 9.4 row's funding change, not a rating.
COLUMNS = [
    ("value", _("Value"), [ScorecardDimension.NET_VALUE, ScorecardDimension.ADOPTION_DURABILITY]),
    ("risk", _("Risk"), [ScorecardDimension.RISK_STABILITY]),
    ("cost", _("Cost and capacity"), [ScorecardDimension.CAPACITY_BURDEN]),
    ("reuse", _("Reuse"), [ScorecardDimension.PLATFORM_REUSE]),
    ("evidence", _("Evidence"), [ScorecardDimension.EVIDENCE_MATURITY]),
    ("retirement", _("Retirement"), [ScorecardDimension.RETIREMENT_LOGIC]),
]


@dataclass
class PortfolioLine:
    """One capability on the portfolio board."""

    capability: object
    view: RowView  # the latest scorecard row as the scorecard shows it (or the data's, unreviewed)
    reviewed: bool
    now: dict  # dimension -> the data's suggestion today (forums.portfolio_review.Suggestion)
    decided: ScorecardRow | None = None  # the latest row with a decision, any quarter
    memo: ValueMemo | None = None  # the latest monthly memo
    columns: list = field(default_factory=list)

    @property
    def retirement_candidate(self) -> bool:
        return self.view.retirement_candidate

    @property
    def exceptions(self):
        return self.view.exceptions

    @property
    def stop_decision(self) -> bool:
        return self.decided is not None and self.decided.decision in (
            PortfolioDecision.PAUSE,
            PortfolioDecision.RETIRE,
        )


@dataclass
class BoardCell:
    """One dimension in a column: the scorecard's figure and the data's today."""

    dimension: str
    label: str
    shown: int | None
    rated: bool
    evidence: str
    now: int | None
    now_evidence: str
    cites: list  # the cited contracts: {"ref", "url" (its evidence binder), ...}
    guide: tuple

    @property
    def changed(self) -> bool:
        return self.now is not None and self.shown is not None and self.now != self.shown

    @property
    def exception(self) -> bool:
        return self.shown is not None and self.shown <= EXCEPTION_AT


@dataclass
class PortfolioBoard:
    quarter: str
    lines: list[PortfolioLine]
    review: object = None  # the latest review holding a row of these capabilities

    @property
    def retirement(self) -> list[PortfolioLine]:
        return [line for line in self.lines if line.retirement_candidate]

    @property
    def decision_counts(self) -> list[tuple[str, str, int]]:
        counts: dict[str, int] = {}
        for line in self.lines:
            if line.decided is not None:
                counts[line.decided.decision] = counts.get(line.decided.decision, 0) + 1
        return [(value, str(label), counts.get(value, 0)) for value, label in PortfolioDecision.choices]


def _ratings_of(suggestions: dict) -> dict:
    """Scorecard ratings made of the data's suggestions alone, as a review opens them."""
    return {
        str(dimension): {
            "rating": None,
            "suggested": suggestion.rating,
            "evidence": suggestion.evidence,
            "note": "",
            "cites": list(suggestion.cites),
        }
        for dimension, suggestion in suggestions.items()
    }


def _scorecard_rows(by_id: dict) -> list[ScorecardRow]:
    """The scorecard rows of these capabilities, newest quarter first, as the board shows them:
    the ratings, decision, funding change, risk condition and next review; the review's quarter
    and state; the decision log entry's id; the capability the one given. Read by hand
    (productops.reads): the ORM compiled this three-table read in ~1 ms a render."""
    ids = sorted(by_id)
    rows = fetch(
        "SELECT s.id, s.capability_id, s.ratings, s.decision, s.funding_change, s.risk_condition, "
        "s.next_review, s.review_id, r.quarter, r.state, s.decision_logged_id, d.readable_id "
        f"FROM {ScorecardRow._meta.db_table} s "
        f"INNER JOIN {PortfolioReview._meta.db_table} r ON r.id = s.review_id "
        f"LEFT OUTER JOIN {Decision._meta.db_table} d ON d.id = s.decision_logged_id "
        f"WHERE s.capability_id IN ({placeholders(ids)}) ORDER BY r.quarter DESC, s.id",
        ids,
        (
            *fields_of(
                ScorecardRow,
                "id",
                "capability_id",
                "ratings",
                "decision",
                "funding_change",
                "risk_condition",
                "next_review",
                "review_id",
            ),
            *fields_of(PortfolioReview, "quarter", "state"),
            *fields_of(ScorecardRow, "decision_logged_id"),
            *fields_of(Decision, "readable_id"),
        ),
    )
    found = []
    for (
        pk,
        capability_id,
        ratings,
        decision,
        funding,
        condition,
        next_review,
        review_id,
        quarter,
        state,
        logged_id,
        logged_readable_id,
    ) in rows:
        row = loaded(
            ScorecardRow,
            id=pk,
            capability_id=capability_id,
            ratings=ratings,
            decision=decision,
            funding_change=funding,
            risk_condition=condition,
            next_review=next_review,
            review_id=review_id,
            decision_logged_id=logged_id,
        )
        row.capability = by_id[capability_id]
        row.review = loaded(PortfolioReview, id=review_id, quarter=quarter, state=state)
        row.decision_logged = (
            None if logged_id is None else loaded(Decision, id=logged_id, readable_id=logged_readable_id)
        )
        found.append(row)
    return found


def _memos(ids: list[int]) -> list[ValueMemo]:
    """The monthly value memos of these capabilities, newest month first: their month, matrix
    and recommendation only (not their fields, some 40 kB of JSON a memo). Read by hand
    (productops.reads)."""
    ids = sorted(ids)
    rows = fetch(
        f"SELECT m.id, m.capability_id, m.month, m.matrix, m.recommendation FROM {ValueMemo._meta.db_table} m "
        f"WHERE m.capability_id IN ({placeholders(ids)}) ORDER BY m.month DESC, m.id",
        ids,
        fields_of(ValueMemo, "id", "capability_id", "month", "matrix", "recommendation"),
    )
    return [
        loaded(
            ValueMemo,
            id=pk,
            capability_id=capability_id,
            month=month,
            matrix=matrix,
            recommendation=recommendation,
        )
        for pk, capability_id, month, matrix, recommendation in rows
    ]


def portfolio_board(capabilities, *, user, today: datetime.date | None = None) -> PortfolioBoard:
    """Every capability given, side by side: the latest scorecard row (ratings, suggestions and
    evidence), the latest quarterly decision with its funding change, the data's suggestions
    today, the latest monthly memo's recommendation and the open retirement items."""
    from portfolio.models import BacklogItem

    today = today or timezone.localdate()
    capabilities = list(capabilities)
    ids = [capability.pk for capability in capabilities]
    quarter = quarter_of(today)
    start, end = figures_window(quarter, today)
    figures = portfolio_figures(capabilities, start=start, end=end)
    now = {capability_id: suggest_all(found) for capability_id, found in figures.items()}

    by_id = {capability.pk: capability for capability in capabilities}
    latest: dict[int, ScorecardRow] = {}
    decided: dict[int, ScorecardRow] = {}
    for row in _scorecard_rows(by_id):
        latest.setdefault(row.capability_id, row)
        if row.decision:
            decided.setdefault(row.capability_id, row)
    memos: dict[int, ValueMemo] = {}
    for memo in _memos(ids):
        memos.setdefault(memo.capability_id, memo)
    retirement: dict[int, list] = {}
    for item in (
        BacklogItem.objects.retirement_candidates()
        .filter(capability_id__in=ids)
        .only("capability", "readable_id", "title")
        .order_by("-priority_score", "pk")
    ):
        retirement.setdefault(item.capability_id, []).append(item)

    links: dict[str, str] = {}

    def cited(cite: dict) -> dict:
        # A contract is cited on many cells: its binder link is worked out once a render.
        url = links.get(cite["ref"])
        if url is None:
            url = links[cite["ref"]] = reverse("boards:evidence", kwargs={"metric_id": cite["ref"]})
        return {**cite, "url": url}

    columns = [(key, str(label), dimensions) for key, label, dimensions in COLUMNS]  # translated once
    # The rating guide's words, translated once a render rather than once a cell.
    guides = {dimension: tuple(str(words) for words in guide) for dimension, guide in DIMENSION_GUIDE.items()}

    lines = []
    for capability in capabilities:
        row = latest.get(capability.pk)
        reviewed = row is not None
        if row is None:
            row = ScorecardRow(capability=capability, ratings=_ratings_of(now[capability.pk]))
        view = row_view(row, user, retirement.get(capability.pk, ()))
        line = PortfolioLine(
            capability=capability,
            view=view,
            reviewed=reviewed,
            now=now[capability.pk],
            decided=decided.get(capability.pk),
            memo=memos.get(capability.pk),
        )
        cells = {cell.dimension: cell for cell in view.cells}
        for key, label, dimensions in columns:
            column = []
            for dimension in dimensions:
                cell = cells[str(dimension)]
                suggestion = line.now[dimension]
                entry = (row.ratings or {}).get(str(dimension)) or {}
                column.append(
                    BoardCell(
                        dimension=str(dimension),
                        label=cell.label,
                        shown=cell.shown,
                        rated=cell.rating is not None,
                        evidence=cell.evidence,
                        now=suggestion.rating,
                        now_evidence=suggestion.evidence,
                        cites=[
                            cited(c)
                            for c in (entry.get("cites") or suggestion.cites)
                            if c.get("kind") == "contract"
                        ],
                        guide=guides[dimension],
                    )
                )
            line.columns.append((key, label, column))
        lines.append(line)

    order = {
        id(view): position for position, view in enumerate(decisions_first([line.view for line in lines]))
    }
    lines.sort(key=lambda line: order[id(line.view)])
    reviews = [line.view.row.review for line in lines if line.reviewed]
    return PortfolioBoard(
        quarter=quarter,
        lines=lines,
        review=max(reviews, key=lambda review: review.quarter) if reviews else None,
    )
