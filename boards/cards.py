"""Trend cards: one contract's trend as a board shows it (playbook 18.4) — the chart drawn from
the contract and naming it, threshold lines whose hover tells the action rule, release markers,
cohort and version cuts, the numbers as a table, and a link to the evidence binder.

``trend_cards`` is what a board calls for many contracts at once: a fixed number of statements
whatever their number (their lines, their release markers, the cuts each card offers: one each).
``trend_card`` draws one again with another cut (the board's htmx chart endpoint) and may ask
per contract: it draws one card.
"""

import functools
import re
import uuid
from dataclasses import dataclass, field
from urllib.parse import quote_plus, urlencode

import plotly.io as pio
from django.utils.translation import gettext

from contracts import charts
from contracts.markers import markers_for, markers_for_many
from contracts.models import MetricContract
from productops.html import esc, safe_join
from productops.links import reverse

CARD_HEIGHT = "320px"
DEFAULT_PERIODS = 26


def _once(function):
    """A read-only property worked out on first use and kept on the instance. Still a plain
    ``property`` (``boards.runtime.PendingCard`` borrows ``TrendCard.url.fget``)."""
    key = f"_once_{function.__name__}"

    @functools.wraps(function)
    def get(self):
        if key not in self.__dict__:
            self.__dict__[key] = function(self)
        return self.__dict__[key]

    return property(get)


@dataclass
class TrendCard:
    """What the ``boards/trend_card.html`` include shows for one contract. ``figure`` is the
    chart's Plotly JSON (``contracts.charts.trend_figure``), ``chart_html`` its drawing."""

    contract: MetricContract
    chart_html: str
    table: charts.ChartTable
    by: str = ""
    dimension: str = ""
    cut: str = ""
    cuts: list[str] = field(default_factory=list)
    latest_level: str = ""
    figure: dict = field(default_factory=dict, repr=False)

    # A card's template names its id, chart URL and binder a dozen times or more (every cut
    # button, the form, each table row): each is worked out once per card, not once per use.
    @_once
    def dom_id(self) -> str:
        return "trend-" + re.sub(r"[^a-z0-9]+", "-", self.contract.metric_id.lower())

    @_once
    def url(self) -> str:
        return reverse("boards:chart", kwargs={"metric_id": self.contract.metric_id})

    @_once
    def binder_url(self) -> str:
        """The contract's evidence binder, without a cut or period."""
        return reverse("boards:evidence", kwargs={"metric_id": self.contract.metric_id})

    @property
    def evidence_url(self) -> str:
        """The evidence binder of the figure the card shows (its cut, when cut)."""
        return _with_query(self.binder_url, cut=self.cut)

    @property
    def table_rows(self) -> list[tuple]:
        """(row, level in words, the binder of that period) for the table view."""
        levels = self.table.levels or [""] * len(self.table.rows)
        # The card's binder URL with its cut, then each period appended: as _with_query would
        # write it, without encoding the same cut again for every row.
        base = self.evidence_url
        joiner = "&" if "?" in base else "?"
        return [
            (row, level, f"{base}{joiner}period={quote_plus(_period_param(row[0]))}")
            for row, level in zip(self.table.rows, levels, strict=False)
        ]

    @_once
    def table_body_html(self) -> str:
        """The table view's rows (period, each line's value and sample, the level, a link to
        the period's evidence), built here rather than in the template: 26 rows of a dozen
        cells each were half of a card's rendering time. Escaped with ``productops.html.esc``:
        ``format_html`` per cell cost more than the card's SQL on a board of a dozen cards."""
        trace = esc(gettext("Trace"))
        title = gettext("Evidence behind the figure of %(day)s")
        with_level = bool(self.latest_level)
        return safe_join(
            (
                _table_row(row, level, binder, trace, title, with_level)
                for row, level, binder in self.table_rows
            ),
            "\n",
        )


def _period_text(period) -> str:
    return period.isoformat()[:10] if hasattr(period, "isoformat") else str(period)


def _cell_html(cell) -> str:
    # As the template's ``stringformat:".6g"`` did: six significant digits, a dash for no value.
    if cell is None:
        return "<td>—</td>"
    try:
        text = format(cell, ".6g")
    except (TypeError, ValueError):
        text = str(cell)
    return f"<td>{esc(text)}</td>"


def _table_row(row, level: str, binder: str, trace: str, title: str, with_level: bool) -> str:
    """One period of a trend card's table view, as escaped HTML: ``trace`` is already escaped,
    ``title`` is the translated link title with a ``%(day)s`` slot."""
    day = _period_text(row[0])
    cells = [f'<th scope="row">{esc(day)}</th>']
    cells += [_cell_html(cell) for cell in row[1:]]
    if with_level:
        cells.append(f"<td>{esc(level or '—')}</td>")
    cells.append(f'<td><a href="{esc(binder)}" title="{esc(title % {"day": day})}">{trace}</a></td>')
    return f"<tr>{''.join(cells)}</tr>"


def evidence_url(metric_id: str, *, cut: str = "", period=None) -> str:
    """The evidence binder of a figure: the contract, optionally one cut and one period."""
    return _with_query(reverse("boards:evidence", kwargs={"metric_id": metric_id}), cut=cut, period=period)


def _with_query(url: str, *, cut: str = "", period=None) -> str:
    """A binder URL narrowed to one cut and one period, when given."""
    query = {}
    if cut:
        query["cut"] = cut
    if period:
        query["period"] = _period_param(period)
    return f"{url}?{urlencode(query)}" if query else url


def _period_param(period) -> str:
    """A period as the binder's ``?period=`` reads it."""
    return period.isoformat() if hasattr(period, "isoformat") else str(period)


def _html(figure: dict, dom_id: str, height: str) -> str:
    # A new plot id per render: htmx "settles" attributes of elements whose id survives a swap,
    # which would strip the classes plotly.js just gave the new plot (as on the contract page).
    return pio.to_html(
        figure,
        full_html=False,
        include_plotlyjs=False,
        div_id=f"{dom_id}-plot-{uuid.uuid4().hex[:8]}",
        default_height=height,
        config={"displaylogo": False, "responsive": True},
        validate=False,
    )


def _card(contract, figure: dict, *, cuts: list[str], height: str) -> TrendCard:
    meta = figure["layout"].get("meta") or {}
    table = charts.figure_table(figure)
    card = TrendCard(
        contract=contract,
        chart_html="",
        table=table,
        by=meta.get("by", ""),
        dimension=meta.get("dimension", ""),
        cut=meta.get("cut", ""),
        cuts=cuts,
        latest_level=next((level for level in reversed(table.levels) if level), ""),
        figure=figure,
    )
    card.chart_html = _html(figure, card.dom_id, height)
    return card


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
    read = charts.contract_lines(contract, cut=cut, by=by or None, dimension=dimension, periods=periods)
    figure = charts.contract_figure(
        contract,
        read.lines,
        by=read.by,
        dimension=read.dimension,
        cut_text=read.cut_text,
        markers=markers_for(contract),
    )
    return _card(contract, figure, cuts=charts.offered_cuts([contract])[contract.pk], height=height)


def trend_cards(contracts, *, periods: int = DEFAULT_PERIODS, height: str = CARD_HEIGHT) -> list[TrendCard]:
    """The whole-population trend card of each contract, in the order given, in a fixed number
    of statements: the lines of all of them, their markers, the cuts each offers (and the
    observations of contracts never evaluated, when there are any)."""
    contracts = list(contracts)
    lines = charts.whole_population_lines(contracts, periods=periods)
    markers = markers_for_many(contracts)
    cuts = charts.offered_cuts(contracts)
    return [
        _card(
            contract,
            charts.contract_figure(contract, lines[contract.pk], markers=markers[contract.pk]),
            cuts=cuts[contract.pk],
            height=height,
        )
        for contract in contracts
    ]
