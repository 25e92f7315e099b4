"""The boards' figures tables, built in Python: a board shows hundreds of contract rows, each
with its level, its cuts by dimension and a link per cut; the same markup drawn by template
includes (``forums/meeting_level.html`` and ``forums/meeting_cohorts.html`` once per row and per
cut) was most of the weekly board's rendering time.

``{% figure_rows figures multi=multi all_cuts=all_cuts %}`` draws the ``<tr>`` of each figure
as ``boards/runtime_figures.html`` shows them; ``{% level_badge level label %}`` is the markup of
``forums/meeting_level.html``. Every value is escaped by ``format_html``.
"""

from urllib.parse import quote

from django import template
from django.template.defaultfilters import floatformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from boards.cards import evidence_url
from contracts.choices import Direction

register = template.Library()

# The level's shape, so it reads without colour (as forums/meeting_level.html draws it).
SHAPES = {"stop": "■", "breach": "▲", "warning": "●", "ok": "✓"}


def level_html(level: str, label: str) -> str:
    """``<span class="po-level po-level-warning">● Warning</span>``."""
    return format_html(
        '<span class="po-level po-level-{}">{} {}</span>', level, SHAPES.get(level, "–"), label
    )


@register.simple_tag
def level_badge(level: str, label: str) -> str:
    """A contract level in words, with a shape."""
    return level_html(level, label)


def cohorts_html(groups, binder_href: str) -> str:
    """A figure's cuts by dimension, as ``forums/meeting_cohorts.html`` draws them: each cut links
    to the figure's evidence binder narrowed to the cut; a level beside any cut not OK."""
    if not groups:
        return "—"
    joiner = "&" if "?" in binder_href else "?"
    lines = []
    for dimension, cuts in groups:
        parts = []
        for cut in cuts:
            level = (
                ""
                if cut["level"] == "ok"
                else format_html(" {}", level_html(cut["level"], cut["level_label"]))
            )
            parts.append(
                format_html(
                    '<span class="po-cut"><a href="{}">{}</a> {}{}</span>',
                    f"{binder_href}{joiner}cut={quote(cut['cut'], safe='/')}",
                    cut["value"],
                    cut["value_text"],
                    level,
                )
            )
        lines.append(
            format_html(
                '<div><span class="text-body-secondary">{}:</span> {}</div>',
                dimension,
                mark_safe(" · ".join(parts)),  # noqa: S308 - each part is escaped by format_html
            )
        )
    return mark_safe("".join(lines))  # noqa: S308 - each line is escaped by format_html


def _signal_html(signal) -> str:
    if signal is None:
        return ""
    text = gettext("Open signal: %(level)s since %(since)s") % {
        "level": signal.get_level_display(),
        "since": signal.opened_period.isoformat() if signal.opened_period else "",
    }
    action = ""
    if signal.action is not None:
        action = format_html(
            ' → <a href="{}">{}</a>', signal.action.get_absolute_url(), signal.action.readable_id
        )
    return format_html(
        '<div class="small"><a href="{}">{}</a>{}</div>', signal.get_absolute_url(), text, action
    )


def _change_html(figure, better: str, worse: str) -> str:
    """The change against the period before, and whether it is better or worse (a change that
    rounds to nothing is neither)."""
    change, change_text = figure.change, figure.change_text
    if not change or change_text.startswith("±"):
        return format_html("{}", change_text)
    if (change > 0) == (figure.contract.direction == Direction.HIGHER_IS_BETTER):
        return format_html('{} <span class="po-better">{}</span>', change_text, better)
    return format_html('{} <span class="po-worse">{}</span>', change_text, worse)


def figure_row_html(figure, *, multi: bool, all_cuts: bool, words: dict) -> str:
    """One contract's row: name and id (and its open signal), capability (organisation-wide),
    latest value linked to its evidence, change against the period before, level, and the cuts
    (every cohort, or those past warning)."""
    contract = figure.contract
    binder_href = evidence_url(contract.metric_id, period=figure.period)
    period = (
        format_html('<div class="small text-body-secondary">{}</div>', figure.period.isoformat())
        if figure.period
        else ""
    )
    capability = format_html('<td class="small">{}</td>', contract.capability.name) if multi else ""
    groups = figure.cohorts if all_cuts else figure.cohorts_past_warning
    return format_html(
        '<tr class="{}" data-metric="{}" data-level="{}">'
        '<td><a href="{}">{}</a><div class="small text-body-secondary font-monospace">{}</div>{}</td>'
        "{}"
        '<td class="text-end text-nowrap"><a class="po-value" data-value href="{}" title="{}">{}</a>{}</td>'
        '<td class="text-end text-nowrap small">{}</td>'
        '<td class="text-nowrap">{}</td>'
        '<td class="small po-cohorts">{}</td>'
        "</tr>",
        "po-row-alarm" if figure.alarming else "",
        contract.metric_id,
        figure.level,
        contract.get_absolute_url(),
        contract.name,
        contract.metric_id,
        _signal_html(figure.signal),
        capability,
        binder_href,
        words["evidence"],
        figure.value_text,
        period,
        _change_html(figure, words["better"], words["worse"]),
        level_html(figure.level, figure.level_label),
        cohorts_html(groups, binder_href),
    )


@register.simple_tag
def figure_rows(figures, multi=False, all_cuts=False) -> str:
    """The ``<tr>`` of each figure of a board's figures table (``boards/runtime_figures.html``)."""
    words = {
        "evidence": gettext("The evidence behind this figure"),
        "better": gettext("better"),
        "worse": gettext("worse"),
    }
    return format_html_join(
        "\n",
        "{}",
        (
            (figure_row_html(figure, multi=bool(multi), all_cuts=bool(all_cuts), words=words),)
            for figure in figures
        ),
    )


@register.simple_tag
def pending_card(figure, trigger: str = "revealed") -> str:
    """A trend card still to load: the contract's name and a plain link to its card, replaced by
    the card (htmx ``trigger``: ``revealed`` when scrolled to, ``intersect once`` in a fold)."""
    card, contract = figure.card, figure.contract
    url = card.url
    return format_html(
        '<section class="card po-trend-card po-trend-pending mb-3" id="{}" data-metric="{}" hx-get="{}" '
        'hx-trigger="{}" hx-swap="outerHTML"><div class="card-body">'
        '<h3 class="h6 mb-1">{}</h3>'
        '<p class="small mb-0"><a class="font-monospace" href="{}">{}</a> · '
        '<span class="text-body-secondary">{}</span></p>'
        "</div></section>",
        card.dom_id,
        contract.metric_id,
        url,
        trigger,
        contract.name,
        url,
        contract.metric_id,
        gettext("Loading the trend…"),
    )


def _signed_percent(value, suffix: str = "%") -> str:
    """``+3.2%`` / ``-1.0%`` as the template wrote it (``floatformat:1``), a dash for none."""
    if value is None:
        return "—"
    return f"{'+' if value > 0 else ''}{floatformat(value, 1)}{suffix}"


def cost_to_outcome_row_html(row, *, multi: bool, words: dict) -> str:
    """One cost-per-case contract against one outcome it buys: both linked with their evidence,
    the cost per good outcome now, its movement (costs more, less, or steady), and the movements
    of the cost per case and of the good-outcome share."""
    cost, outcome = row.cost.contract, row.outcome.contract
    movement = row.movement_percent
    if movement is None:
        movement_html = "—"
    else:
        if row.worse:
            verdict = format_html(' <span class="po-worse">{}</span>', words["costs_more"])
        elif row.better:
            verdict = format_html(' <span class="po-better">{}</span>', words["costs_less"])
        else:
            verdict = format_html(' <span class="text-body-secondary">{}</span>', words["steady"])
        movement_html = format_html("{}{}", _signed_percent(movement), verdict)
    points = row.good_movement_points
    points_html = (
        "—"
        if points is None
        else gettext("%(points)s pts") % {"points": f"{'+' if points > 0 else ''}{floatformat(points, 1)}"}
    )
    return format_html(
        '<tr class="{}" data-cost="{}" data-outcome="{}">'
        "{}"
        '<td><a href="{}">{}</a><div class="small"><a href="{}" title="{}">{}</a></div></td>'
        '<td><a href="{}">{}</a><div class="small text-body-secondary">{} · <a href="{}" title="{}">{}</a></div></td>'
        '<td class="text-end text-nowrap"><span class="po-value" data-per-good>{}</span></td>'
        '<td class="text-end text-nowrap" data-movement>{}</td>'
        '<td class="text-end text-nowrap small">{}</td>'
        '<td class="text-end text-nowrap small">{}</td>'
        "</tr>",
        "po-row-alarm" if row.worse else "",
        cost.metric_id,
        outcome.metric_id,
        format_html('<td class="small">{}</td>', row.capability.name) if multi else "",
        cost.get_absolute_url(),
        cost.name,
        evidence_url(cost.metric_id, period=row.period),
        words["evidence_title"],
        words["evidence"],
        outcome.get_absolute_url(),
        outcome.name,
        gettext("good outcome: %(good)s") % {"good": row.good_label},
        evidence_url(outcome.metric_id, period=row.period),
        words["evidence_title"],
        words["evidence"],
        row.per_good_now_text,
        movement_html,
        _signed_percent(row.cost_movement_percent),
        points_html,
    )


@register.simple_tag
def cost_to_outcome_rows(rows, multi=False) -> str:
    """The ``<tr>`` of each cost-to-outcome pair of the runtime board."""
    words = {
        "evidence_title": gettext("The evidence behind this figure"),
        "evidence": gettext("evidence"),
        "costs_more": gettext("costs more"),
        "costs_less": gettext("costs less"),
        "steady": gettext("steady"),
    }
    return format_html_join(
        "\n",
        "{}",
        ((cost_to_outcome_row_html(row, multi=bool(multi), words=words),) for row in rows),
    )


@register.simple_tag
def need_rows(items, multi=False) -> str:
    """The ``<tr>`` of each thing that needs someone today (the runtime board's list): its level,
    what (linked, marked when it is the reader's), the capability organisation-wide, where it
    stands."""
    yours = gettext("yours")
    rows = []
    for item in items:
        capability = (
            format_html('<td class="small">{}</td>', item.capability.name if item.capability else "")
            if multi
            else ""
        )
        rows.append(
            format_html(
                '<tr class="{}" data-urgency="{}"><td class="text-nowrap">{}</td>'
                '<td><a href="{}">{}</a>{}</td>{}<td class="small">{}</td></tr>',
                "table-warning" if item.yours else "",
                item.urgency,
                level_html(item.level, item.label),
                item.url,
                item.what,
                format_html(' <span class="badge text-bg-dark">{}</span>', yours) if item.yours else "",
                capability,
                item.detail,
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - each row is escaped by format_html


@register.simple_tag
def incident_rows(severity: str, label: str, incidents, multi=False) -> str:
    """The ``<tr>`` of the open incidents of one severity: severity, the incident (linked), the
    capability organisation-wide, its state (a Sev1 not contained says so) and its age in days."""
    not_contained = gettext("not contained")
    rows = []
    for incident in incidents:
        state = incident.get_state_display()
        if severity == "sev1" and not incident.is_contained:
            state = format_html("{} · <strong>{}</strong>", state, not_contained)
        rows.append(
            format_html(
                '<tr><td><span class="po-level po-sev-{}">{}</span></td>'
                '<td><a href="{}">{}</a> {}</td>{}<td class="small">{}</td>'
                '<td class="text-end" data-age>{}</td></tr>',
                severity,
                label,
                incident.get_absolute_url(),
                incident.readable_id,
                incident.title,
                format_html('<td class="small">{}</td>', incident.capability.name) if multi else "",
                state,
                incident.age_days,
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - each row is escaped by format_html
