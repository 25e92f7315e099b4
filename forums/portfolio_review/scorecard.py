"""What the scorecard page of the quarterly portfolio review shows: the rating guide of 9.2 and
the decisions of 9.3 beside their options, and each capability's row as cells of ratings,
suggestions and exceptions, read in the order an executive decides them."""

import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import get_language, gettext_lazy

from forums.choices import PortfolioDecision, ScorecardDimension
from forums.models import PortfolioReview, ScorecardRow
from forums.portfolio_review.services import DIMENSIONS, may_rate, rows_visible_to
from forums.portfolio_review.suggestions import EXCEPTION_AT

# The rating guide of 9.2, and what 1 and 5 mean on each dimension (5 is always favourable).
DIMENSION_GUIDE: dict[str, tuple] = {
    ScorecardDimension.NET_VALUE: (
        gettext_lazy("finance-supported benefit after cost and leakage"),
        gettext_lazy("no net benefit"),
        gettext_lazy("strong net benefit"),
    ),
    ScorecardDimension.ADOPTION_DURABILITY: (
        gettext_lazy("sustained qualified use across target cohorts"),
        gettext_lazy("use falling away"),
        gettext_lazy("sustained in every cohort"),
    ),
    ScorecardDimension.RISK_STABILITY: (
        gettext_lazy("risk signals within appetite, controls effective"),
        gettext_lazy("stop rule fired / Sev1"),
        gettext_lazy("within appetite"),
    ),
    ScorecardDimension.EVIDENCE_MATURITY: (
        gettext_lazy("telemetry, sampling, experiment and finance evidence quality"),
        gettext_lazy("anecdotal"),
        gettext_lazy("experiment-grade, all categories"),
    ),
    ScorecardDimension.PLATFORM_REUSE: (
        gettext_lazy("reusable model gateway, eval, RAG, tool, policy patterns"),
        gettext_lazy("one-off build"),
        gettext_lazy("reusable pattern"),
    ),
    ScorecardDimension.CAPACITY_BURDEN: (
        gettext_lazy("SME review, operations queue, platform support, risk review load"),
        gettext_lazy("heavy burden"),
        gettext_lazy("light burden"),
    ),
    ScorecardDimension.STRATEGIC_FIT: (
        gettext_lazy("alignment to business capability and product strategy"),
        gettext_lazy("off strategy"),
        gettext_lazy("core to strategy"),
    ),
    ScorecardDimension.RETIREMENT_LOGIC: (
        gettext_lazy("value weak, risk high, platform cost high, better alternative available"),
        gettext_lazy("strong case to retire"),
        gettext_lazy("no case to retire"),
    ),
}


# 9.3 grouped the way the scorecard shows them: stopping stands beside investing, not below it.
DECISION_GROUPS: list[tuple] = [
    (
        gettext_lazy("Invest"),
        [PortfolioDecision.FUND, PortfolioDecision.SCALE, PortfolioDecision.SCALE_SELECTIVELY],
    ),
    (
        gettext_lazy("Reshape"),
        [PortfolioDecision.RESTRICT, PortfolioDecision.CONSOLIDATE, PortfolioDecision.PLATFORMIZE],
    ),
    (gettext_lazy("Stop"), [PortfolioDecision.PAUSE, PortfolioDecision.RETIRE]),
]

# 9.3 "when to use", shown beside each option.
DECISION_WHEN: dict[str, object] = {
    PortfolioDecision.FUND: gettext_lazy("strong evidence, scalable economics, strategic fit"),
    PortfolioDecision.SCALE: gettext_lazy("proven cohort, acceptable risk, operational capacity available"),
    PortfolioDecision.SCALE_SELECTIVELY: gettext_lazy("proven in some cohorts only: scale there"),
    PortfolioDecision.RESTRICT: gettext_lazy(
        "value only in specific population or risk high in certain segments"
    ),
    PortfolioDecision.CONSOLIDATE: gettext_lazy("multiple teams built similar capability"),
    PortfolioDecision.PLATFORMIZE: gettext_lazy("repeated pattern should become reusable golden path"),
    PortfolioDecision.PAUSE: gettext_lazy("evidence insufficient or operating capacity constrained"),
    PortfolioDecision.RETIRE: gettext_lazy("assumptions failed or risk/cost exceeds value"),
}


# --- what the scorecard page shows ---------------------------------------------------------------


@dataclass
class Cell:
    """One dimension of one row as the scorecard shows it."""

    dimension: str
    label: str
    rating: int | None
    suggested: int | None
    evidence: str
    note: str

    @property
    def differs(self) -> bool:
        """The person's rating and the data's suggestion disagree (both present)."""
        return self.rating is not None and self.suggested is not None and self.rating != self.suggested

    @property
    def shown(self) -> int | None:
        """The rating, or the suggestion while unrated: what an exception is read from."""
        return self.rating if self.rating is not None else self.suggested

    @property
    def exception(self) -> bool:
        return self.shown is not None and self.shown <= EXCEPTION_AT


@dataclass
class RowView:
    row: ScorecardRow
    cells: list[Cell]
    can_edit: bool
    retirement_items: list = field(default_factory=list)
    # Set by a page answering a refused rating or decision, to show it in place.
    error: str = ""
    error_dimension: str = ""
    decision_form: object = None

    @property
    def exceptions(self) -> list[Cell]:
        return [cell for cell in self.cells if cell.exception]

    @property
    def unrated(self) -> int:
        return sum(1 for cell in self.cells if cell.rating is None)

    @property
    def retirement_cell(self) -> Cell:
        return next(cell for cell in self.cells if cell.dimension == ScorecardDimension.RETIREMENT_LOGIC)

    @property
    def retirement_candidate(self) -> bool:
        """16.3 "retirement candidates are reviewed quarterly": a weak retirement logic (rated or
        suggested) or an open retirement item in the backlog."""
        return self.retirement_cell.exception or bool(self.retirement_items)

    @property
    def stop_decision(self) -> bool:
        return self.row.decision in (PortfolioDecision.PAUSE, PortfolioDecision.RETIRE)


@functools.lru_cache(maxsize=8)
def _dimension_labels_in(language: str | None) -> dict[str, str]:
    # Translated once per language, not once per cell (a board of 36 capabilities has 288).
    return {value: str(label) for value, label in ScorecardDimension.choices}


def row_view(row: ScorecardRow, user, retirement_items=()) -> RowView:
    labels = _dimension_labels_in(get_language())
    cells = []
    for dimension in DIMENSIONS:
        entry = row.ratings.get(dimension) or {}
        cells.append(
            Cell(
                dimension=dimension,
                label=labels[dimension],
                rating=entry.get("rating"),
                suggested=entry.get("suggested"),
                evidence=entry.get("evidence") or "",
                note=entry.get("note") or "",
            )
        )
    return RowView(
        row=row, cells=cells, can_edit=may_rate(user, row), retirement_items=list(retirement_items)
    )


def scorecard_rows(review: PortfolioReview, user) -> list[RowView]:
    """The rows of a review the person may see, with the backlog's open retirement candidates of
    each capability: two queries however many capabilities."""
    from portfolio.backlog_ranking import backlog_rank
    from portfolio.models import BacklogItem

    rows = list(
        rows_visible_to(user, review.rows.all())
        .select_related("capability", "decided_by", "decision_logged")
        .order_by("capability__name")
    )
    items = BacklogItem.objects.retirement_candidates().filter(
        capability_id__in=[row.capability_id for row in rows]
    )
    by_capability: dict[int, list] = defaultdict(list)
    if rows:
        for entry in backlog_rank(list(items.select_related("capability")), problem_spread={}):
            by_capability[entry.item.capability_id].append(entry.item)
    return [row_view(row, user, by_capability.get(row.capability_id, ())) for row in rows]


def decisions_first(views: list[RowView]) -> list[RowView]:
    """The order an executive reads the 9.4 output in: retirement candidates, then rows with
    exceptions (most first), then the rest, by name within each."""
    return sorted(
        views,
        key=lambda view: (
            not view.retirement_candidate,
            -len(view.exceptions),
            view.row.capability.name,
        ),
    )


def decision_counts(views: list[RowView]) -> list[tuple[str, str, int]]:
    """[(decision, label, count)] in 9.3's order, zeros included: pause and retire are counted
    like every other decision."""
    counts = defaultdict(int)
    for view in views:
        if view.row.decision:
            counts[view.row.decision] += 1
    return [(value, str(label), counts[value]) for value, label in PortfolioDecision.choices]
