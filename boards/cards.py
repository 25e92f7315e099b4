"""Trend cards: one contract's trend as a board shows it (playbook 18.4) — the chart drawn from
the contract and naming it, threshold lines whose hover tells the action rule, release markers,
cohort and version cuts, the numbers as a table, and a link to the evidence binder.

``trend_cards`` is what a board calls for many contracts at once; ``trend_card`` draws one again
with another cut (the board's htmx chart endpoint).
"""

import re
from dataclasses import dataclass, field

from django.urls import reverse

from contracts import charts
from contracts.markers import markers_for
from contracts.models import Evaluation, MetricContract

CARD_HEIGHT = "320px"
DEFAULT_PERIODS = 26


@dataclass
class TrendCard:
    """What the ``boards/trend_card.html`` include shows for one contract."""

    contract: MetricContract
    chart_html: str
    table: charts.ChartTable
    by: str = ""
    dimension: str = ""
    cut: str = ""
    cuts: list[str] = field(default_factory=list)
    latest_level: str = ""

    @property
    def dom_id(self) -> str:
        return "trend-" + re.sub(r"[^a-z0-9]+", "-", self.contract.metric_id.lower())

    @property
    def url(self) -> str:
        return reverse("boards:chart", kwargs={"metric_id": self.contract.metric_id})

    @property
    def evidence_url(self) -> str:
        return reverse("boards:evidence", kwargs={"metric_id": self.contract.metric_id})


def _html(fig, dom_id: str, height: str) -> str:
    return fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"{dom_id}-plot",
        default_height=height,
        config={"displaylogo": False, "responsive": True},
    )


def trend_card(
    contract: MetricContract,
    *,
    by: str = "",
    dimension: str = "",
    cut: str = "",
    periods: int = DEFAULT_PERIODS,
    height: str = CARD_HEIGHT,
) -> TrendCard:
    """One contract's card, cut as asked (``by`` "cohort" with a ``dimension``, or "version"; a
    ``cut`` such as ``intent=billing``)."""
    fig = charts.contract_trend(
        contract, cut=cut, by=by or None, dimension=dimension, periods=periods, markers=markers_for(contract)
    )
    meta = fig.layout.meta or {}
    cuts = list(
        Evaluation.objects.filter(contract=contract)
        .exclude(cut="")
        .order_by("cut")
        .values_list("cut", flat=True)
        .distinct()
    )
    card = TrendCard(
        contract=contract,
        chart_html="",
        table=charts.figure_table(fig),
        by=meta.get("by", ""),
        dimension=meta.get("dimension", ""),
        cut=meta.get("cut", ""),
        cuts=cuts,
    )
    card.chart_html = _html(fig, card.dom_id, height)
    return card


def trend_cards(contracts, *, periods: int = DEFAULT_PERIODS, height: str = CARD_HEIGHT) -> list[TrendCard]:
    """The whole-population trend card of each contract, in the order given."""
    return [trend_card(contract, periods=periods, height=height) for contract in contracts]
