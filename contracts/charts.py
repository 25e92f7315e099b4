"""Trend charts of metric contracts (playbook 18.4): every chart maps to a contract, every
threshold line to its action rule, every trend can be cut by cohort and by version, and release
markers stand on the trend. Plain functions returning Plotly figures; tests call them directly."""

import datetime
import functools
import html
from dataclasses import dataclass, field

import plotly.graph_objects as go
from django.db.models import Avg, Case, DateField, F, FloatField, Subquery, Sum, Value, When
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, NullIf, TruncDay, TruncMonth, TruncWeek
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contracts.choices import ContractStatus, Direction, Grain, SignalLevel
from contracts.models import DIMENSION, Evaluation, MetricContract, Observation
from contracts.querysets import own_grain_sql
from productops.reads import fetch, fields_of
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


def is_share(unit: str) -> bool:
    """A share ("share", "share of characters") is a fraction drawn and read as a percentage,
    as ``MetricContract.format_value`` shows it."""
    return (unit or "").startswith("share")


def y_title(unit: str) -> str:
    """The value axis names its unit; a share says it is drawn as a percentage."""
    if is_share(unit):
        return _("Value (%(unit)s, %%)") % {"unit": unit}
    return _("Value (%(unit)s)") % {"unit": unit} if unit else _("Value")


def format_value(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    if is_share(unit):
        return f"{value * 100:.1f}%"
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
        "role": _role_label(role),
        "days": days,
    }


def _role_label(role: str) -> str:
    """A role in words, or the text as typed when it names no role of the RACI. (The enum
    lookup, not ``role in Role.values``, which builds the list of values on each call.)"""
    try:
        return Role(role).label
    except ValueError:
        return role


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
    # Hand-written (productops.reads): the evidence binder and every contract page draw it.
    rows = fetch(
        "SELECT period_start, value, sample_size, level FROM contracts_evaluation "
        "WHERE contract_id = %s AND grain = %s AND cut = %s ORDER BY period_start DESC LIMIT %s",
        [contract.pk, contract.grain, cut, periods],
        fields_of(Evaluation, "period_start", "value", "sample_size", "level"),
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


@dataclass(frozen=True)
class Threshold:
    """One threshold line: its level (target, warning, breach, stop), the label drawn at its end,
    its value, and the action rule its hover tells."""

    level: str
    label: str
    value: float
    rule: str


def contract_thresholds(contract: MetricContract) -> list[Threshold]:
    """The contract's threshold lines with their action rules (no database access)."""
    return [
        Threshold(level=level, label=str(label), value=value, rule=action_rule_text(contract, level))
        for level, label, value in thresholds(contract)
    ]


@functools.cache
def _white_template() -> dict:
    """The part of plotly's "plotly_white" template a trend chart uses, as plotly.js reads it
    (plotly.js knows no template names, so a figure carries its template: the whole one is 7 kB
    per chart, this is a tenth of it and draws the same)."""
    import plotly.io as pio

    layout = pio.templates["plotly_white"].to_plotly_json()["layout"]
    keep = (
        "autotypenumbers",
        "font",
        "hoverlabel",
        "paper_bgcolor",
        "plot_bgcolor",
        "xaxis",
        "yaxis",
        "shapedefaults",
        "annotationdefaults",
        "title",
    )
    return {"layout": {key: layout[key] for key in keep if key in layout}}


def _level_label(level: str) -> str:
    return _level_label_in(level, get_language())


@functools.lru_cache(maxsize=256)
def _level_label_in(level: str, language: str | None) -> str:
    # A chart names a level for each of its points: each name is translated once per language.
    return str(SignalLevel(level).label) if level in SignalLevel.values else str(level)


# Print: the fonts installed for the PDF (Chinese text included), and room for an A4 column.
PRINT_FONT = "Noto Sans, Noto Sans CJK SC, sans-serif"


def trend_figure(
    *,
    metric_id: str,
    name: str,
    unit: str = "",
    lines: list[Series] = (),
    threshold_lines: list[Threshold] = (),
    markers=(),
    subtitle: list[str] = (),
    x_title: str = "",
    meta: dict | None = None,
    for_print: bool = False,
) -> dict:
    """A contract's trend as Plotly figure JSON (what plotly.js and kaleido read), drawn from
    plain data: no database access, no validation cost (``plotly.graph_objects`` spends ~70 ms a
    chart checking properties; ``go.Figure(trend_figure(...))`` when Python code wants one).

    - ``lines``: one trace each, in the colour-blind-safe order; a line with ``levels`` shows
      each point's level as colour *and* symbol, and a legend key names the symbols in words.
    - ``threshold_lines``: horizontal lines named by level (``layout.shapes``), in colour and dash,
      labelled with value; an invisible line along each carries its action rule to the hover.
    - ``markers``: ``[(date, label), ...]`` vertical dotted lines labelled above the plot (releases).
    - ``for_print``: the same chart laid out for a static image in a printed pack.
    The board cards, the contract page and the PDF packs all draw through this function.
    """
    unit_sep = "" if unit == "%" else " "
    language = get_language()  # once: a line names the level of each of its points
    data: list[dict] = []
    shown_levels: list[str] = []
    for index, item in enumerate(lines):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        marker = {"color": colour, "size": 7}
        if item.levels is not None:
            styles = [LEVEL_MARKER.get(level, LEVEL_MARKER[SignalLevel.OK]) for level in item.levels]
            marker = {"color": [s[0] for s in styles], "symbol": [s[1] for s in styles], "size": 9}
            shown_levels += [level for level in dict.fromkeys(item.levels) if level not in shown_levels]
        level_labels = (
            [_level_label_in(level, language) for level in item.levels]
            if item.levels is not None
            else [""] * len(item.x)
        )
        data.append(
            {
                "type": "scatter",
                "x": list(item.x),
                "y": list(item.y),
                "name": _text(item.name),
                "mode": "lines+markers",
                "line": {"color": colour, "width": 2},
                "marker": marker,
                "connectgaps": False,
                "customdata": [[n, level] for n, level in zip(item.sample, level_labels, strict=True)],
                "hovertemplate": (
                    ("%{y:.1%}" if is_share(unit) else f"%{{y:.4g}}{unit_sep}{_text(unit)}")
                    + " · "
                    + _("sample")
                    + " %{customdata[0]}"
                    + ("<br>%{customdata[1]}" if item.levels is not None else "")
                ),
                "meta": {
                    "kind": "series",
                    "name": item.name,
                    "sample": list(item.sample),
                    "levels": list(item.levels) if item.levels is not None else None,
                },
            }
        )
    # Levels in words, not colour alone: one legend entry per level the points show.
    for level in sorted(
        shown_levels, key=lambda lv: list(LEVEL_MARKER).index(lv) if lv in LEVEL_MARKER else 9
    ):
        colour, symbol = LEVEL_MARKER.get(level, LEVEL_MARKER[SignalLevel.OK])
        data.append(
            {
                "type": "scatter",
                "x": [None],
                "y": [None],
                "name": _level_label(level),
                "mode": "markers",
                "marker": {"color": colour, "symbol": symbol, "size": 9},
                "hoverinfo": "skip",
                "legendgroup": "levels",
                "meta": {"kind": "level_key", "level": level},
            }
        )

    all_x = sorted({x for item in lines for x in item.x})
    shapes: list[dict] = []
    threshold_meta = []
    for threshold in threshold_lines:
        colour, dash = THRESHOLD_STYLE[threshold.level]
        threshold_meta.append(
            {
                "level": threshold.level,
                "label": threshold.label,
                "value": threshold.value,
                "rule": threshold.rule,
            }
        )
        shapes.append(
            {
                "type": "line",
                "name": threshold.level,
                "xref": "paper",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": threshold.value,
                "y1": threshold.value,
                "line": {"color": colour, "dash": dash, "width": 1.5},
                "label": {
                    "text": _text(f"{threshold.label} {format_value(threshold.value, unit)}"),
                    "textposition": "end",
                    "font": {"size": 11, "color": colour},
                },
            }
        )
        if all_x:
            # An invisible line along the threshold carries its action rule to the hover label.
            data.append(
                {
                    "type": "scatter",
                    "x": all_x,
                    "y": [threshold.value] * len(all_x),
                    "name": threshold.label,
                    "mode": "lines",
                    "line": {"color": "rgba(0,0,0,0)", "width": 8},
                    "showlegend": False,
                    "hovertemplate": f"{_text(threshold.rule)}<extra></extra>",
                    "hoverlabel": {"bgcolor": colour},
                    "meta": {"kind": "threshold", "level": threshold.level},
                }
            )

    annotations: list[dict] = []
    marker_meta = []
    for index, (when, text) in enumerate(markers or ()):
        marker_meta.append({"date": when, "label": str(text)})
        shapes.append(
            {
                "type": "line",
                "name": "marker",
                "xref": "x",
                "x0": when,
                "x1": when,
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": MARKER_COLOUR, "dash": "dot", "width": 1},
            }
        )
        annotations.append(
            {
                "x": when,
                "xref": "x",
                "y": 1,
                "yref": "paper",
                "yanchor": "bottom",
                # Releases a few days apart: every other label one line higher, so both read.
                "yshift": 13 * (index % 2),
                "text": _text(text),
                "showarrow": False,
                "font": {"size": 10 if for_print else 11, "color": MARKER_COLOUR},
            }
        )
    if not lines:
        annotations.append(
            {
                "text": _("No observations yet."),
                "xref": "paper",
                "yref": "paper",
                "x": 0.5,
                "y": 0.5,
                "showarrow": False,
            }
        )

    y_range = _padded_range([y for item in lines for y in item.y] + [t.value for t in threshold_lines])
    layout = {
        "template": _white_template(),
        "title": {
            "text": _text(f"{name} ({metric_id})"),
            "subtitle": {"text": _text(" · ".join(str(part) for part in subtitle if part))},
        },
        "xaxis": {"title": {"text": _text(x_title or _("Period start"))}},
        "yaxis": {
            "title": {"text": _text(y_title(unit))},
            **({"tickformat": ".1%"} if is_share(unit) else {}),
            **({"range": y_range} if y_range else {}),
        },
        "colorway": SERIES_COLOURS,
        "hovermode": "x unified",
        "legend": {"orientation": "h", "yanchor": "top", "y": -0.2},
        "margin": {"l": 60, "r": 110, "t": 80, "b": 60},
        "shapes": shapes,
        "annotations": annotations,
        "meta": {
            **(meta or {}),
            "metric_id": metric_id,
            "unit": unit,
            "thresholds": threshold_meta,
            "markers": marker_meta,
        },
    }
    if for_print:
        layout.update(
            {
                "font": {"family": PRINT_FONT, "size": 11},
                "title": {
                    **layout["title"],
                    "font": {"size": 14},
                    "subtitle": {**layout["title"]["subtitle"], "font": {"size": 11}},
                },
                # Beside the plot, in the right margin: a printed page has no room below.
                "legend": {
                    "orientation": "v",
                    "x": 1.01,
                    "xanchor": "left",
                    "y": 1,
                    "yanchor": "top",
                    "font": {"size": 10},
                },
                "margin": {"l": 60, "r": 10, "t": 66 if markers else 52, "b": 44},
                "xaxis": {**layout["xaxis"], "title": {**layout["xaxis"]["title"], "standoff": 4}},
            }
        )
        if len(lines) == 1:
            # One line needs no legend entry of its own; the level symbols keep theirs.
            data[0]["showlegend"] = False
    return {"data": data, "layout": layout}


def _padded_range(values) -> list[float] | None:
    """The value axis around the points and threshold lines, with room above the highest and
    below the lowest for a threshold's label (drawn just above its line), so none is cut off."""
    values = [value for value in values if value is not None]
    if not values:
        return None
    low, high = min(values), max(values)
    span = (high - low) or abs(high) or 1.0
    return [low - 0.06 * span, high + 0.14 * span]


def contract_subtitle(contract: MetricContract, *, cut_text: str = "", hidden: int = 0) -> list[str]:
    """What the chart's subtitle says about the contract: evidence level, direction, grain, the
    cut drawn, a status other than active, and lines left out."""
    subtitle = [
        evidence_text(contract.evidence_level),
        str(Direction(contract.direction).label) if contract.direction in Direction.values else "",
        _("per %(grain)s") % {"grain": grain_label(contract.grain)},
    ]
    if cut_text:
        subtitle.append(_("cut %(cut)s") % {"cut": cut_text})
    if contract.status != ContractStatus.ACTIVE:
        subtitle.append(str(ContractStatus(contract.status).label))
    if hidden:
        subtitle.append(_("%(count)s smaller lines not shown") % {"count": hidden})
    return subtitle


def evidence_text(level: str) -> str:
    """``Evidence E3``: the evidence quality level (playbook 11.2) as a chart's subtitle says it."""
    return _("Evidence %(level)s") % {"level": level} if level else ""


def grain_label(grain: str) -> str:
    return Grain(grain).label.lower() if grain in Grain.values else grain


def contract_figure(
    contract: MetricContract,
    lines: list[Series],
    *,
    by: str = "",
    dimension: str = "",
    cut_text: str = "",
    markers=(),
    for_print: bool = False,
) -> dict:
    """The contract's trend from lines already loaded (by ``contract_lines`` or a batch loader):
    the contract's name and id, its thresholds with their action rules, the markers. At most
    ``MAX_SERIES`` lines, the heaviest first; the subtitle says how many were left out."""
    hidden = max(0, len(lines) - MAX_SERIES)
    lines = list(lines)[:MAX_SERIES]
    return trend_figure(
        metric_id=contract.metric_id,
        name=contract.name,
        unit=contract.unit,
        lines=lines,
        threshold_lines=contract_thresholds(contract),
        markers=markers,
        subtitle=contract_subtitle(contract, cut_text=cut_text, hidden=hidden),
        x_title=_("Period start (%(grain)s)") % {"grain": grain_label(contract.grain)},
        meta={
            "by": by or "",
            "dimension": dimension if by == "cohort" else "",
            "cut": cut_text,
            "hidden_series": hidden,
        },
        for_print=for_print,
    )


@dataclass
class TrendLines:
    """A contract's lines as ``contract_lines`` read them, and the cut they were read for (an
    unknown ``by`` or dimension falls back to what was actually drawn)."""

    lines: list[Series]
    by: str
    dimension: str
    cut_text: str


def contract_lines(
    contract: MetricContract, *, cut: str = "", by: str | None = None, dimension: str = "", periods: int = 26
) -> TrendLines:
    """One contract's lines over its last ``periods`` periods, in one or two statements (see
    ``contract_trend``). Boards read many contracts' whole-population lines at once with
    ``whole_population_lines`` instead."""
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
    return TrendLines(
        lines=series, by=by or "", dimension=dimension if by == "cohort" else "", cut_text=cut_text
    )


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
    hovering one tells its action rule. Drawn by ``trend_figure``; returned as a
    ``plotly.graph_objects.Figure`` for the contract page and its tests.
    """
    read = contract_lines(contract, cut=cut, by=by, dimension=dimension, periods=periods)
    return go.Figure(
        contract_figure(
            contract,
            read.lines,
            by=read.by,
            dimension=read.dimension,
            cut_text=read.cut_text,
            markers=markers,
        )
    )


# --- many contracts at once (boards) ----------------------------------------------------------


def whole_population_lines(contracts, *, periods: int = 26) -> dict[int, list[Series]]:
    """Each contract's whole-population line over its last ``periods`` periods at its own grain,
    as ``contract_lines`` reads it one by one, for many contracts in one statement: the
    evaluation rows ranked per contract by a window function. A contract never evaluated yet is
    pooled from its observations, all such contracts in one more statement (none when every
    contract has been evaluated). ``{contract pk: [Series]}`` (an empty list: nothing to draw)."""
    contracts = list(contracts)
    periods = max(1, int(periods))
    found: dict[int, list[Series]] = {contract.pk: [] for contract in contracts}
    if not contracts:
        return found
    # Hand-written (productops.reads): every board reads it, for up to every active contract.
    own_grain, params = own_grain_sql(contracts, "e")
    rows = fetch(
        "SELECT contract_id, period_start, value, sample_size, level FROM ("
        "SELECT e.contract_id, e.period_start, e.value, e.sample_size, e.level, "
        "ROW_NUMBER() OVER (PARTITION BY e.contract_id ORDER BY e.period_start DESC) AS recency "
        f"FROM contracts_evaluation e WHERE {own_grain} AND e.cut = '') ranked "
        "WHERE recency <= %s ORDER BY contract_id, period_start",
        [*params, periods],
        fields_of(Evaluation, "contract_id", "period_start", "value", "sample_size", "level"),
    )
    evaluated: dict[int, Series] = {}
    whole = str(_("Whole population"))  # translated once, not once per row
    for contract_id, period_start, value, sample, level in rows:
        item = evaluated.get(contract_id)
        if item is None:
            item = evaluated[contract_id] = Series(name=whole, levels=[])
        item.x.append(period_start)
        item.y.append(value)
        item.sample.append(sample)
        item.levels.append(level)
    for pk, item in evaluated.items():
        found[pk] = [item]
    never = [contract for contract in contracts if contract.pk not in evaluated]
    for pk, item in _pooled_lines(never, periods=periods).items():
        found[pk] = [item]
    return found


def _pooled_lines(contracts, *, periods: int) -> dict[int, Series]:
    """The whole population pooled from the observations, for contracts of any grains and kinds
    in one statement: each row is bucketed by its own contract's grain, and both poolings (ratio
    and weighted mean) are summed so each contract takes its own (``_value_expression``)."""
    if not contracts:
        return {}
    bucket = Case(
        *[
            When(contract__grain=grain, then=trunc("period_start", output_field=DateField()))
            for grain, trunc in _TRUNC.items()
        ],
        output_field=DateField(),
    )
    weighted = Sum(F("value") * F("sample_size"), output_field=FloatField()) / NullIf(
        Sum("sample_size", output_field=FloatField()), Value(0.0)
    )
    ratio = Sum(
        Case(When(denominator__isnull=False, then=F("numerator"))), output_field=FloatField()
    ) / NullIf(
        Sum(Case(When(numerator__isnull=False, then=F("denominator"))), output_field=FloatField()),
        Value(0.0),
    )
    rows = (
        Observation.objects.filter(contract_id__in=[contract.pk for contract in contracts])
        .annotate(bucket=bucket)
        .values("contract_id", "bucket")
        .annotate(
            ratio=ratio,
            mean=Coalesce(weighted, Avg("value"), output_field=FloatField()),
            period_sample=Sum("sample_size"),
        )
        .order_by("contract_id", "bucket")
    )
    is_ratio = {contract.pk: contract.is_ratio for contract in contracts}
    pooled: dict[int, Series] = {}
    for row in rows:
        item = pooled.setdefault(row["contract_id"], Series(name=str(_("Whole population"))))
        value = row["ratio"] if is_ratio[row["contract_id"]] and row["ratio"] is not None else row["mean"]
        item.x.append(_as_date(row["bucket"]))
        item.y.append(value)
        item.sample.append(row["period_sample"])
    for item in pooled.values():
        item.x, item.y, item.sample = item.x[-periods:], item.y[-periods:], item.sample[-periods:]
    return pooled


def offered_cuts(contracts) -> dict[int, list[str]]:
    """The cohort cuts each contract has been evaluated for at its own grain (what a trend
    card offers to cut by), for many contracts in one statement."""
    contracts = list(contracts)
    cuts: dict[int, list[str]] = {contract.pk: [] for contract in contracts}
    if not contracts:
        return cuts
    own_grain, params = own_grain_sql(contracts, "e")
    rows = fetch(
        f"SELECT DISTINCT e.contract_id, e.cut FROM contracts_evaluation e WHERE {own_grain} AND e.cut <> '' "
        "ORDER BY e.contract_id, e.cut",
        params,
    )
    for contract_id, cut in rows:
        cuts[contract_id].append(cut)
    return cuts


@dataclass
class ChartTable:
    """The numbers of a chart as a table (for screen readers, and for anyone who prefers one).
    ``levels`` runs beside ``rows``: the level in words of the period where a line carries levels
    (the evaluated whole population or cut), "" otherwise."""

    columns: list[str]
    rows: list[list]
    thresholds: list[dict]
    markers: list[dict]
    levels: list[str] = field(default_factory=list)


def _figure_json(fig) -> dict:
    return fig if isinstance(fig, dict) else fig.to_plotly_json()


def figure_table(fig) -> ChartTable:
    """Rows of the chart's lines: one per period, a value and a sample size per line. ``fig`` is
    figure JSON (``trend_figure``) or a ``go.Figure`` (``contract_trend``)."""
    fig = _figure_json(fig)
    lines = [trace for trace in fig["data"] if (trace.get("meta") or {}).get("kind") == "series"]
    columns = [_("Period")]
    by_period: dict = {}
    level_of: dict = {}
    for index, trace in enumerate(lines):
        meta = trace.get("meta") or {}
        name = meta.get("name", trace.get("name"))
        columns += [name, _("%(line)s sample") % {"line": name}]
        x = list(trace.get("x") or [])
        samples = meta.get("sample") or [None] * len(x)
        for period, y, n in zip(x, trace.get("y") or [], samples, strict=False):
            by_period.setdefault(period, [None] * (2 * len(lines)))[2 * index : 2 * index + 2] = [y, n]
        for period, level in zip(x, meta.get("levels") or [], strict=False):
            level_of.setdefault(period, _level_label(level))
    periods = sorted(by_period)
    meta = fig["layout"].get("meta") or {}
    return ChartTable(
        columns=columns,
        rows=[[period, *by_period[period]] for period in periods],
        thresholds=list(meta.get("thresholds", [])),
        markers=list(meta.get("markers", [])),
        levels=[level_of.get(period, "") for period in periods],
    )
