"""The readout's chart: treatment - control on the primary metric with its 95% interval, for the
whole population and each cohort that has enough data. A plain function over the readout dict
(live or frozen) returning a Plotly figure; the page shows the same figures as a table."""

import html

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from contracts.charts import OKABE_ITO


def _scale(effect: dict) -> float:
    """Shares are charted in percentage points, like the table reads them."""
    return 100.0 if effect["unit"].startswith("share") else 1.0


def cohort_effects_figure(readout: dict) -> go.Figure | None:
    """Dots with interval bars, one row per cohort; None when no comparison has enough data."""
    primary = readout["primary"]
    rows = [(_("Whole population"), primary)]
    for group in readout["cohorts"]:
        rows += [(effect["label"], effect) for effect in group["effects"]]
    rows = [(label, effect) for label, effect in rows if effect["sufficient"]]
    if not rows:
        return None
    scale = _scale(primary)
    rows.reverse()  # Plotly draws the first category at the bottom
    labels = [html.escape(label, quote=False) for label, _effect in rows]
    differences = [effect["difference"] * scale for _label, effect in rows]
    colours = [
        OKABE_ITO["black"]
        if index == len(rows) - 1
        else {"better": OKABE_ITO["bluish_green"], "worse": OKABE_ITO["vermillion"]}.get(
            effect["verdict"], OKABE_ITO["blue"]
        )
        for index, (_label, effect) in enumerate(rows)
    ]
    # Shares and percentages differ in percentage points.
    unit = _("pp") if scale == 100.0 or primary["unit"] == "%" else primary["unit"]
    fig = go.Figure(
        go.Scatter(
            x=differences,
            y=labels,
            mode="markers",
            marker={"size": 10, "color": colours, "symbol": "diamond"},
            error_x={
                "type": "data",
                "symmetric": False,
                "array": [(effect["ci_high"] - effect["difference"]) * scale for _label, effect in rows],
                "arrayminus": [(effect["difference"] - effect["ci_low"]) * scale for _label, effect in rows],
                "color": "#555555",
                "thickness": 1.5,
            },
            customdata=[[effect["ci_display"], effect["verdict_display"]] for _label, effect in rows],
            hovertemplate="%{y}: %{x:.3g} "
            + html.escape(unit)
            + "<br>"
            + html.escape(_("95% interval"))
            + " %{customdata[0]}<br>%{customdata[1]}<extra></extra>",
            name=_("Treatment − control"),
        )
    )
    fig.add_vline(x=0, line={"color": "#888888", "dash": "dot"})
    fig.update_layout(
        title={"text": html.escape(_("Effect on %(metric)s by cohort") % {"metric": primary["name"]})},
        xaxis={"title": {"text": _("Treatment − control (%(unit)s), 95%% interval") % {"unit": unit}}},
        yaxis={"automargin": True},
        height=max(240, 60 + 28 * len(rows)),
        margin={"l": 10, "r": 20, "t": 50, "b": 50},
        showlegend=False,
        template="plotly_white",
    )
    return fig
