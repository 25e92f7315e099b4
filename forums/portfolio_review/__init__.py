"""The quarterly portfolio review (playbook 9): the scorecard of 9.2 across every capability, the
decision of 9.3 per capability and its output row of 9.4, recorded in the decision log.

Three layers, top to bottom, one module each:

- **Services** (``services``: ``portfolio_review_open``, ``scorecard_rate``, ``scorecard_decide``,
  ``portfolio_review_close``): the one path the pages, the API and any job take. A person rates,
  a person decides; deciding writes the decision log through ``decisions.services``.
- **Figures** (``figures``: ``portfolio_figures``): what the data says about every capability of
  the portfolio in the quarter, loaded in a fixed number of queries (never one per capability)
  into plain dataclasses.
- **Suggestions** (``suggestions``: ``suggest_*``): one small pure function per dimension over
  those plain figures, returning a rating 1-5 *or None* and the evidence text shown beside it. A
  dimension the data cannot speak to says so instead of inventing a number; strategic fit is
  always a person's call.

``scorecard`` shapes a review's rows for the scorecard page (cells, exceptions, decisions first);
it sits above the services and reads through their access helpers. Imports point down:
scorecard, services, suggestions, figures.

A suggestion is stored beside the rating (``ratings[dimension]["suggested"]``), never as the
rating: only ``scorecard_rate`` writes a rating, when a person accepts the suggestion or gives
their own with a note.

Every dimension is rated so that **5 is favourable** to the capability (a light capacity burden
is 5, no case to retire is 5): a row of low numbers is a row in trouble, whatever the column.

The names below are the ones the pages, the API, the forms, the demo and the tests import from
``forums.portfolio_review``.
"""

from forums.portfolio_review.figures import (
    AssumptionFigure,
    BacklogFigure,
    CapabilityFigures,
    ContractFigure,
    HoldFigure,
    IncidentFigure,
    SignalFigure,
    is_capacity_contract,
    meets_target,
    portfolio_figures,
    trend_of,
)
from forums.portfolio_review.scorecard import (
    DECISION_GROUPS,
    DECISION_WHEN,
    DIMENSION_GUIDE,
    decision_counts,
    decisions_first,
    scorecard_rows,
)
from forums.portfolio_review.services import (
    DIMENSIONS,
    OUTPUT_FIELDS,
    RATINGS,
    figures_window,
    get_review_for_user,
    get_row_for_user,
    may_run_review,
    portfolio_review_close,
    portfolio_review_open,
    quarter_bounds,
    quarter_of,
    review_date_of,
    reviews_visible_to,
    rows_visible_to,
    scorecard_decide,
    scorecard_rate,
)
from forums.portfolio_review.suggestions import (
    suggest_adoption_durability,
    suggest_all,
    suggest_capacity_burden,
    suggest_evidence_maturity,
    suggest_net_value,
    suggest_platform_reuse,
    suggest_retirement_logic,
    suggest_risk_stability,
    suggest_strategic_fit,
)

__all__ = [
    "DECISION_GROUPS",
    "DECISION_WHEN",
    "DIMENSIONS",
    "DIMENSION_GUIDE",
    "OUTPUT_FIELDS",
    "RATINGS",
    "AssumptionFigure",
    "BacklogFigure",
    "CapabilityFigures",
    "ContractFigure",
    "HoldFigure",
    "IncidentFigure",
    "SignalFigure",
    "decision_counts",
    "decisions_first",
    "figures_window",
    "get_review_for_user",
    "get_row_for_user",
    "is_capacity_contract",
    "may_run_review",
    "meets_target",
    "portfolio_figures",
    "portfolio_review_close",
    "portfolio_review_open",
    "quarter_bounds",
    "quarter_of",
    "review_date_of",
    "reviews_visible_to",
    "rows_visible_to",
    "scorecard_decide",
    "scorecard_rate",
    "scorecard_rows",
    "suggest_adoption_durability",
    "suggest_all",
    "suggest_capacity_burden",
    "suggest_evidence_maturity",
    "suggest_net_value",
    "suggest_platform_reuse",
    "suggest_retirement_logic",
    "suggest_risk_stability",
    "suggest_strategic_fit",
    "trend_of",
]
