"""The hygiene trend over weeks as Plotly figures (plain functions; tests call them directly)."""

import datetime
from dataclasses import dataclass

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from hygiene.choices import Severity

# Okabe & Ito, as the contract charts: told apart with any common colour-vision deficiency.
SEVERITY_COLOURS = {Severity.HIGH: "#D55E00", Severity.MEDIUM: "#E69F00", Severity.LOW: "#56B4E9"}
SCORE_COLOUR = "#0072B2"
LINE_COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"]


@dataclass
class WeekPoint:
    """The last run of one ISO week (Monday ``week``) of one capability."""

    week: datetime.date
    score: int
    high: int
    medium: int
    low: int
    waived: int


def weekly_points(runs) -> list[WeekPoint]:
    """From runs (newest first or any order, each with started_at, score and counts), the last
    run of each week, oldest week first."""
    last: dict[datetime.date, object] = {}
    for run in sorted(runs, key=lambda run: (run.started_at, run.pk or 0)):
        day = run.as_of
        last[day - datetime.timedelta(days=day.weekday())] = run
    return [
        WeekPoint(
            week=week, score=run.score, high=run.high, medium=run.medium, low=run.low, waived=run.waived
        )
        for week, run in sorted(last.items())
    ]


def _layout(figure: go.Figure, title: str) -> go.Figure:
    figure.update_layout(
        title={"text": title, "font": {"size": 14}},
        margin={"l": 50, "r": 50, "t": 40, "b": 40},
        legend={"orientation": "h", "y": -0.2},
        plot_bgcolor="white",
        barmode="stack",
    )
    # Ticks on the Mondays the points stand on (Plotly's own weekly ticks fall on Sundays).
    figure.update_xaxes(showgrid=False, tickformat="%d %b")
    return figure


def capability_trend(points: list[WeekPoint]) -> go.Figure:
    """Open findings per week, stacked by severity (bars), and the score (line, right axis)."""
    weeks = [point.week for point in points]
    figure = go.Figure()
    for severity in (Severity.HIGH, Severity.MEDIUM, Severity.LOW):
        figure.add_bar(
            x=weeks,
            y=[getattr(point, severity) for point in points],
            name=str(Severity(severity).label),
            marker_color=SEVERITY_COLOURS[severity],
            hovertemplate="%{x|%d %b}: %{y}<extra>" + str(Severity(severity).label) + "</extra>",
        )
    figure.add_scatter(
        x=weeks,
        y=[point.score for point in points],
        name=_("Score"),
        yaxis="y2",
        mode="lines+markers",
        line={"color": SCORE_COLOUR, "width": 2},
    )
    figure.update_layout(
        yaxis={"title": _("Open findings"), "rangemode": "tozero", "gridcolor": "#eee"},
        yaxis2={
            "title": _("Score"),
            "overlaying": "y",
            "side": "right",
            "range": [0, 105],
            "tickvals": [0, 25, 50, 75, 100],
            "showgrid": False,
        },
    )
    figure.update_xaxes(tickvals=weeks)
    return _layout(figure, _("Open findings and score, week by week"))


def portfolio_trend(series: dict[str, list[WeekPoint]]) -> go.Figure:
    """The score of each capability, week by week."""
    figure = go.Figure()
    for index, (name, points) in enumerate(sorted(series.items())):
        figure.add_scatter(
            x=[point.week for point in points],
            y=[point.score for point in points],
            name=name,
            mode="lines+markers",
            line={
                "color": LINE_COLOURS[index % len(LINE_COLOURS)],
                "dash": ["solid", "dash", "dot"][index // 8 % 3],
            },
        )
    weeks = sorted({point.week for points in series.values() for point in points})
    figure.update_layout(
        yaxis={"title": _("Score"), "range": [0, 105], "tickvals": [0, 25, 50, 75, 100], "gridcolor": "#eee"}
    )
    figure.update_xaxes(tickvals=weeks)
    return _layout(figure, _("Hygiene score per capability, week by week"))


def figure_html(figure: go.Figure, dom_id: str, height: str = "320px") -> str:
    import uuid

    return figure.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"{dom_id}-{uuid.uuid4().hex[:8]}",
        default_height=height,
        config={"displaylogo": False, "responsive": True},
    )
