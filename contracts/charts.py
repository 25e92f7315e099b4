"""Trend charts of metric contracts (playbook 18.4): every chart maps to a contract, every
threshold line to its action rule, every trend can be cut by cohort and by version, and release
markers stand on the trend. Plain functions returning Plotly figures; tests call them directly."""

import datetime
import html
from dataclasses import dataclass, field

import plotly.graph_objects as go
from django.db.models import Avg, Case, DateField, F, FloatField, Subquery, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf, TruncDay, TruncMonth, TruncWeek
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus, Direction, Grain, SignalLevel
from contracts.models import DIMENSION, Evaluation, MetricContract, Observation
from productops.roles import Role

# Okabe & Ito's palette: told apart by people with any common colour-vision deficiency.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
SERIES_COLOURS = [
    OKABE_ITO[name]
    for name in (
        "blue",
        "orange",
        "bluish_green",
        "reddish_purple",
        "sky_blue",
        "vermillion",
        "black",
        "yellow",
    )
]
# Colour and dash together: a threshold reads without colour too.
THRESHOLD_STYLE = {
    "target": (OKABE_ITO["bluish_green"], "dot"),
    "warning": (OKABE_ITO["orange"], "dash"),
    "breach": (OKABE_ITO["vermillion"], "dashdot"),
    "stop": (OKABE_ITO["black"], "solid"),
}
# A level shows as colour and symbol on the whole-population line.
LEVEL_MARKER = {
    SignalLevel.OK: (OKABE_ITO["blue"], "circle"),
    SignalLevel.WARNING: (OKABE_ITO["orange"], "triangle-up"),
    SignalLevel.BREACH: (OKABE_ITO["vermillion"], "square"),
    SignalLevel.STOP: (OKABE_ITO["black"], "x"),
    SignalLevel.INSUFFICIENT_DATA: ("#999999", "circle-open"),
}
MARKER_COLOUR = "#666666"
MAX_SERIES = len(SERIES_COLOURS)
BY_CHOICES = ("cohort", "version")
_TRUNC = {Grain.DAY: TruncDay, Grain.WEEK: TruncWeek, Grain.MONTH: TruncMonth}


def parse_cut(contract: MetricContract, cut: str) -> dict[str, str]:
    """``"intent=billing|team=north"`` -> ``{"intent": "billing", "team": "north"}``, keeping only
    dimensions the contract declares (anything else is ignored, never turned into a lookup)."""
    parts = {}
    for item in (cut or "").split("|"):
        key, sep, value = item.partition("=")
        key = key.strip()
        if sep and DIMENSION.match(key) and key in (contract.cohort_dimensions or []):
            parts[key] = value.strip()
    return parts


def _text(value) -> str:
    """Typed text shown by plotly.js, which reads a few HTML tags: shown as typed, never as markup."""
    return html.escape(str(value), quote=False)


def format_value(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    number = f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def action_rule_text(contract: MetricContract, level: str) -> str:
    """What the threshold at ``level`` sets off, in one line (the hover text of its line):
    ``Warning: Sample 50 calls, owner AI PM, due in 14 days``."""
    if level == "target":
        return _("Target: %(value)s") % {"value": format_value(contract.target, contract.unit)}
    if level == "stop":
        return _("Stop: %(rule)s") % {
            "rule": contract.stop_rule or _("hold the capability's pending releases")
        }
    what = getattr(contract, f"{level}_action") or _("no action rule")
    role = getattr(contract, f"{level}_action_owner_role")
    days = getattr(contract, f"{level}_action_due_days")
    label = _("Warning") if level == "warning" else _("Breach")
    return _("%(level)s: %(what)s, owner %(role)s, due in %(days)s days") % {
        "level": label,
        "what": what,
        "role": Role(role).label if role in Role.values else role,
        "days": days,
    }


def thresholds(contract: MetricContract) -> list[tuple[str, str, float]]:
    """(level, label, value) of each threshold the contract sets."""
    levels = [
        ("target", _("Target"), contract.target),
        ("warning", _("Warning"), contract.warning),
        ("breach", _("Breach"), contract.breach),
        ("stop", _("Stop"), contract.stop_level),
    ]
    return [(level, label, value) for level, label, value in levels if value is not None]


@dataclass
class Series:
    name: str
    x: list = field(default_factory=list)
    y: list = field(default_factory=list)
    sample: list = field(default_factory=list)
    levels: list | None = None

    @property
    def weight(self) -> int:
        return sum(n or 0 for n in self.sample)


def _value_expression(contract: MetricContract):
    """The period value of a group of observations, pooled in the database the way the
    evaluation job pools them (contracts/evaluation.py), so a cohort or version line and the
    evaluated whole population agree: a ratio is sum(numerator) / sum(denominator) over the rows
    that carry both; otherwise (or without them) the sample-weighted mean of the values; a group
    whose samples are all zero falls back to the plain mean."""
    weighted = Sum(F("value") * F("sample_size"), output_field=FloatField()) / NullIf(
        Sum("sample_size", output_field=FloatField()), Value(0.0)
    )
    parts = [weighted, Avg("value")]
    if contract.is_ratio:
        numerator = Sum(Case(When(denominator__isnull=False, then=F("numerator"))), output_field=FloatField())
        denominator = Sum(
            Case(When(numerator__isnull=False, then=F("denominator"))), output_field=FloatField()
        )
        parts.insert(0, numerator / NullIf(denominator, Value(0.0)))
    return Coalesce(*parts, output_field=FloatField())


def _observation_series(
    contract: MetricContract, *, cohort_filter: dict, group, periods: int
) -> list[Series]:
    """Per-period values from the observations, one SQL statement: grouped by the contract's
    grain (and by ``group`` when given), over the last ``periods`` periods that hold data."""
    trunc = _TRUNC.get(contract.grain, TruncWeek)
    rows = Observation.objects.filter(
        contract=contract, **{f"cohort__{key}": value for key, value in cohort_filter.items()}
    )
    # The start of the n-th most recent period with data, found inside the same statement.
    nth_period = (
        rows.annotate(bucket=trunc("period_start", output_field=DateField()))
        .values("bucket")
        .distinct()
        .order_by("-bucket")[periods - 1 : periods]
    )
    rows = rows.filter(
        period_start__gte=Coalesce(
            Subquery(nth_period, output_field=DateField()), Value(datetime.date(1, 1, 1))
        )
    ).annotate(bucket=trunc("period_start", output_field=DateField()))
    names = ["bucket"]
    if group is not None:
        rows = rows.annotate(series=group)
        names.append("series")
    aggregated = (
        rows.values(*names)
        .annotate(period_value=_value_expression(contract), period_sample=Sum("sample_size"))
        .order_by(*names)
    )
    series: dict[str, Series] = {}
    for row in aggregated:
        name = row.get("series")
        name = "" if name is None else str(name)
        item = series.setdefault(name, Series(name=name))
        item.x.append(_as_date(row["bucket"]))
        item.y.append(row["period_value"])
        item.sample.append(row["period_sample"])
    return sorted(series.values(), key=lambda s: (-s.weight, s.name))


def _as_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, str):
        return datetime.date.fromisoformat(value[:10])
    return value


def _evaluation_series(contract: MetricContract, *, cut: str, periods: int) -> Series | None:
    """The evaluated whole population (or one cut), levels included; None when not evaluated yet."""
    rows = list(
        Evaluation.objects.filter(contract=contract, grain=contract.grain, cut=cut)
        .order_by("-period_start")
        .values_list("period_start", "value", "sample_size", "level")[:periods]
    )
    if not rows:
        return None
    rows.reverse()
    return Series(
        name=cut,
        x=[row[0] for row in rows],
        y=[row[1] for row in rows],
        sample=[row[2] for row in rows],
        levels=[row[3] for row in rows],
    )


def _cut_label(cut: dict) -> str:
    return "|".join(f"{key}={cut[key]}" for key in sorted(cut))


def contract_trend(
    contract: MetricContract,
    *,
    cut: str = "",
    by: str | None = None,
    dimension: str = "",
    periods: int = 26,
    markers=(),
) -> go.Figure:
    """The trend of a contract over its last ``periods`` periods (at its evaluation grain).

    - ``by=None``: the whole population (or the ``cut``, e.g. ``"intent=billing"``), from the
      evaluation job's rows where present (so the points carry their level), else pooled from
      the observations.
    - ``by="version"``: one line per version set.
    - ``by="cohort"``: one line per value of ``dimension`` (default: the first required cut).
    - ``markers=[(date, label), ...]``: vertical lines, e.g. releases.

    Target, warning, breach and stop are horizontal lines (``layout.shapes`` named by level);
    hovering one tells its action rule.
    """
    periods = max(1, int(periods))
    cohort_filter = parse_cut(contract, cut)
    cut_text = _cut_label(cohort_filter)
    if by == "cohort":
        dimensions = contract.cohort_dimensions or []
        if dimension not in dimensions:
            dimension = (contract.required_cuts or dimensions or [""])[0]
        if not dimension:
            by = None
    if by not in BY_CHOICES:
        by = None

    if by == "version":
        series = _observation_series(
            contract, cohort_filter=cohort_filter, group=F("version_key"), periods=periods
        )
        for item in series:
            item.name = item.name.replace("|", ", ") or _("no version")
    elif by == "cohort":
        series = _observation_series(
            contract, cohort_filter=cohort_filter, group=KT(f"cohort__{dimension}"), periods=periods
        )
        for item in series:
            item.name = (
                f"{dimension}={item.name}"
                if item.name
                else _("%(dimension)s not given") % {"dimension": dimension}
            )
    else:
        evaluated = _evaluation_series(contract, cut=cut_text, periods=periods)
        series = (
            [evaluated]
            if evaluated is not None
            else _observation_series(contract, cohort_filter=cohort_filter, group=None, periods=periods)
        )
        for item in series:
            item.name = cut_text or _("Whole population")
    hidden = max(0, len(series) - MAX_SERIES)
    series = series[:MAX_SERIES]

    fig = go.Figure()
    unit = contract.unit
    for index, item in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        marker = {"color": colour, "size": 7}
        if item.levels is not None:
            marker = {
                "color": [LEVEL_MARKER.get(level, LEVEL_MARKER[SignalLevel.OK])[0] for level in item.levels],
                "symbol": [LEVEL_MARKER.get(level, LEVEL_MARKER[SignalLevel.OK])[1] for level in item.levels],
                "size": 9,
            }
        level_labels = (
            [str(SignalLevel(level).label) if level in SignalLevel.values else level for level in item.levels]
            if item.levels is not None
            else [""] * len(item.x)
        )
        fig.add_trace(
            go.Scatter(
                x=item.x,
                y=item.y,
                name=_text(item.name),
                mode="lines+markers",
                line={"color": colour, "width": 2},
                marker=marker,
                connectgaps=False,
                customdata=[[n, level] for n, level in zip(item.sample, level_labels, strict=True)],
                hovertemplate=(
                    f"%{{y:.4g}}{'' if unit == '%' else ' '}{_text(unit)}"
                    + " · "
                    + _("sample")
                    + " %{customdata[0]}"
                    + ("<br>%{customdata[1]}" if item.levels is not None else "")
                ),
                meta={
                    "kind": "series",
                    "name": item.name,
                    "sample": list(item.sample),
                    "levels": item.levels,
                },
            )
        )

    all_x = sorted({x for item in series for x in item.x})
    threshold_meta = []
    for level, label, value in thresholds(contract):
        colour, dash = THRESHOLD_STYLE[level]
        rule = action_rule_text(contract, level)
        threshold_meta.append({"level": level, "label": label, "value": value, "rule": rule})
        fig.add_shape(
            type="line",
            name=level,
            xref="paper",
            x0=0,
            x1=1,
            yref="y",
            y0=value,
            y1=value,
            line={"color": colour, "dash": dash, "width": 1.5},
            label={
                "text": _text(f"{label} {format_value(value, unit)}"),
                "textposition": "end",
                "font": {"size": 11, "color": colour},
            },
        )
        if all_x:
            # An invisible line along the threshold carries its action rule to the hover label.
            fig.add_trace(
                go.Scatter(
                    x=all_x,
                    y=[value] * len(all_x),
                    name=label,
                    mode="lines",
                    line={"color": "rgba(0,0,0,0)", "width": 8},
                    showlegend=False,
                    hovertemplate=f"{_text(rule)}<extra></extra>",
                    hoverlabel={"bgcolor": colour},
                    meta={"kind": "threshold", "level": level},
                )
            )

    marker_meta = []
    for when, text in markers or ():
        marker_meta.append({"date": when, "label": str(text)})
        fig.add_shape(
            type="line",
            name="marker",
            xref="x",
            x0=when,
            x1=when,
            yref="paper",
            y0=0,
            y1=1,
            line={"color": MARKER_COLOUR, "dash": "dot", "width": 1},
        )
        fig.add_annotation(
            x=when,
            xref="x",
            y=1,
            yref="paper",
            yanchor="bottom",
            text=_text(text),
            showarrow=False,
            font={"size": 11, "color": MARKER_COLOUR},
        )

    grain_label = Grain(contract.grain).label.lower() if contract.grain in Grain.values else contract.grain
    subtitle = [
        str(Direction(contract.direction).label) if contract.direction in Direction.values else "",
        _("per %(grain)s") % {"grain": grain_label},
    ]
    if cut_text:
        subtitle.append(_("cut %(cut)s") % {"cut": cut_text})
    if contract.status != ContractStatus.ACTIVE:
        subtitle.append(str(ContractStatus(contract.status).label))
    if hidden:
        subtitle.append(_("%(count)s smaller lines not shown") % {"count": hidden})
    fig.update_layout(
        title={
            "text": _text(f"{contract.name} ({contract.metric_id})"),
            "subtitle": {"text": _text(" · ".join(part for part in subtitle if part))},
        },
        xaxis={"title": {"text": _("Period start (%(grain)s)") % {"grain": grain_label}}},
        yaxis={"title": {"text": _text(_("Value (%(unit)s)") % {"unit": unit} if unit else _("Value"))}},
        template="plotly_white",
        colorway=SERIES_COLOURS,
        hovermode="x unified",
        legend={"orientation": "h", "yanchor": "top", "y": -0.2},
        margin={"l": 60, "r": 110, "t": 80, "b": 60},
        meta={
            "metric_id": contract.metric_id,
            "by": by or "",
            "dimension": dimension if by == "cohort" else "",
            "cut": cut_text,
            "unit": unit,
            "hidden_series": hidden,
            "thresholds": threshold_meta,
            "markers": marker_meta,
        },
    )
    if not series:
        fig.add_annotation(
            text=_("No observations yet."),
            xref="paper",
            yref="paper",
            x=0.5,
            y=0.5,
            showarrow=False,
        )
    return fig


@dataclass
class ChartTable:
    """The numbers of a chart as a table (for screen readers, and for anyone who prefers one)."""

    columns: list[str]
    rows: list[list]
    thresholds: list[dict]
    markers: list[dict]


def figure_table(fig: go.Figure) -> ChartTable:
    """Rows of the chart's lines: one per period, a value and a sample size per line."""
    lines = [trace for trace in fig.data if (trace.meta or {}).get("kind") == "series"]
    columns = [_("Period")]
    by_period: dict = {}
    for index, trace in enumerate(lines):
        name = trace.meta.get("name", trace.name)
        columns += [name, _("%(line)s sample") % {"line": name}]
        samples = (trace.meta or {}).get("sample") or [None] * len(trace.x)
        for x, y, n in zip(trace.x, trace.y, samples, strict=False):
            by_period.setdefault(x, [None] * (2 * len(lines)))[2 * index : 2 * index + 2] = [y, n]
    rows = [[period, *values] for period, values in sorted(by_period.items())]
    meta = fig.layout.meta or {}
    return ChartTable(
        columns=columns,
        rows=rows,
        thresholds=list(meta.get("thresholds", [])),
        markers=list(meta.get("markers", [])),
    )
