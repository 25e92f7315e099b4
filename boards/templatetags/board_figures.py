"""The boards' figures tables, built in Python: a board shows hundreds of contract rows, each
with its level, its cuts by dimension and a link per cut; the same markup drawn by template
includes (``forums/meeting_level.html`` and ``forums/meeting_cohorts.html`` once per row and per
cut) was most of the weekly board's rendering time.

``{% figure_rows figures multi=multi all_cuts=all_cuts %}`` draws the ``<tr>`` of each figure
as a board's figures table (``figures_table``) shows them; ``{% level_badge level label %}`` is the markup of
``forums/meeting_level.html``. Every value is escaped with ``productops.html.esc`` (Django's
escaping without ``format_html``'s per-call wrappers, which cost more than the board's SQL on a
few thousand cells) and each finished fragment is marked safe once with ``safe_join``.
"""

import functools
from urllib.parse import quote

from django import template
from django.utils.translation import get_language, gettext

from boards.cards import evidence_url
from boards.templatetags.board_cards import trend_card_html
from contracts.choices import Direction
from productops.formats import one_decimal
from productops.html import esc, safe_join

register = template.Library()

# The level's shape, so it reads without colour (as forums/meeting_level.html draws it).
SHAPES = {"stop": "■", "breach": "▲", "warning": "●", "ok": "✓"}


def level_html(level: str, label: str) -> str:
    """``<span class="po-level po-level-warning">● Warning</span>`` (escaped HTML)."""
    return f'<span class="po-level po-level-{esc(level)}">{esc(SHAPES.get(level, "–"))} {esc(label)}</span>'


@register.simple_tag
def level_badge(level: str, label: str) -> str:
    """A contract level in words, with a shape."""
    return safe_join([level_html(level, label)])


def cohorts_html(groups, binder_href: str) -> str:
    """A figure's cuts by dimension, as ``forums/meeting_cohorts.html`` draws them: each cut links
    to the figure's evidence binder narrowed to the cut; a level beside any cut not OK (escaped
    HTML)."""
    if not groups:
        return "—"
    joiner = "&" if "?" in binder_href else "?"
    base = esc(f"{binder_href}{joiner}cut=")
    lines = []
    for dimension, cuts in groups:
        parts = []
        for cut in cuts:
            level = "" if cut["level"] == "ok" else " " + level_html(cut["level"], cut["level_label"])
            parts.append(
                f'<span class="po-cut"><a href="{base}{esc(quote(cut["cut"], safe="/"))}">{esc(cut["value"])}</a>'
                f" {esc(cut['value_text'])}{level}</span>"
            )
        lines.append(
            f'<div><span class="text-body-secondary">{esc(dimension)}:</span> {" · ".join(parts)}</div>'
        )
    return "".join(lines)


def _signal_html(signal) -> str:
    if signal is None:
        return ""
    text = gettext("Open signal: %(level)s since %(since)s") % {
        "level": signal.get_level_display(),
        "since": signal.opened_period.isoformat() if signal.opened_period else "",
    }
    action = ""
    if signal.action is not None:
        action = f' → <a href="{esc(signal.action.get_absolute_url())}">{esc(signal.action.readable_id)}</a>'
    return f'<div class="small"><a href="{esc(signal.get_absolute_url())}">{esc(text)}</a>{action}</div>'


def _change_html(figure, better: str, worse: str) -> str:
    """The change against the period before, and whether it is better or worse (a change that
    rounds to nothing is neither). ``better`` and ``worse`` are escaped already."""
    change, change_text = figure.change, figure.change_text
    if not change or change_text.startswith("±"):
        return esc(change_text)
    if (change > 0) == (figure.contract.direction == Direction.HIGHER_IS_BETTER):
        return f'{esc(change_text)} <span class="po-better">{better}</span>'
    return f'{esc(change_text)} <span class="po-worse">{worse}</span>'


def figure_row_html(figure, *, multi: bool, all_cuts: bool, words: dict) -> str:
    """One contract's row: name and id (and its open signal), capability (organisation-wide),
    latest value linked to its evidence, change against the period before, level, and the cuts
    (every cohort, or those past warning). ``words`` are escaped already."""
    contract = figure.contract
    binder_href = evidence_url(contract.metric_id, period=figure.period)
    period = (
        f'<div class="small text-body-secondary">{figure.period.isoformat()}</div>' if figure.period else ""
    )
    capability = f'<td class="small">{esc(contract.capability.name)}</td>' if multi else ""
    groups = figure.cohorts if all_cuts else figure.cohorts_past_warning
    metric_id = esc(contract.metric_id)
    return (
        f'<tr class="{"po-row-alarm" if figure.alarming else ""}" data-metric="{metric_id}"'
        f' data-level="{esc(figure.level)}">'
        f'<td><a href="{esc(contract.get_absolute_url())}">{esc(contract.name)}</a>'
        f'<div class="small text-body-secondary font-monospace">{metric_id}</div>{_signal_html(figure.signal)}</td>'
        f"{capability}"
        f'<td class="text-end text-nowrap"><a class="po-value" data-value href="{esc(binder_href)}"'
        f' title="{words["evidence"]}">{esc(figure.value_text)}</a>{period}</td>'
        f'<td class="text-end text-nowrap small">{_change_html(figure, words["better"], words["worse"])}</td>'
        f'<td class="text-nowrap">{level_html(figure.level, figure.level_label)}</td>'
        f'<td class="small po-cohorts">{cohorts_html(groups, binder_href)}</td>'
        "</tr>"
    )


@register.simple_tag
def figure_rows(figures, multi=False, all_cuts=False) -> str:
    """The ``<tr>`` of each figure of a board's figures table (``figures_table``)."""
    words = {
        "evidence": esc(gettext("The evidence behind this figure")),
        "better": esc(gettext("better")),
        "worse": esc(gettext("worse")),
    }
    multi, all_cuts = bool(multi), bool(all_cuts)
    return safe_join(
        (figure_row_html(figure, multi=multi, all_cuts=all_cuts, words=words) for figure in figures), "\n"
    )


@functools.lru_cache(maxsize=16)
def _table_words_in(language: str | None) -> dict[str, str]:
    # A figures table's headings, translated once per language (a weekly board draws 14 tables);
    # HTML as the translators wrote them, as the template's {% translate %} left them.
    return {
        key: gettext(text)
        for key, text in (
            ("metric_contract", "Metric contract"),
            ("capability", "Capability"),
            ("latest", "Latest"),
            ("change", "Change"),
            ("level", "Level"),
            ("by_cohort", "By cohort"),
            ("cuts_past_warning", "Cuts past warning"),
        )
    }


@register.simple_tag
def figures_table(figures, empty, multi=False, all_cuts=False) -> str:
    """A board's contract figures as a table: latest value and change, level, the cuts past
    warning (every cohort with ``all_cuts``), the open signal, the capability when the board
    shows several (``multi``); ``empty`` (HTML) when there are none."""
    if not figures:
        return safe_join(("\n\n", f'<p class="po-empty small mb-2">{esc(empty)}</p>', "\n\n"))
    words = _table_words_in(get_language())
    capability = f'<th scope="col">{words["capability"]}</th>' if multi else ""
    cuts = words["by_cohort"] if all_cuts else words["cuts_past_warning"]
    return safe_join(
        (
            "\n\n"
            '<div class="table-responsive">\n'
            '<table class="table table-sm align-middle po-figures mb-2">\n'
            "  <thead><tr>\n"
            f'    <th scope="col">{words["metric_contract"]}</th>\n'
            f"    {capability}\n"
            f'    <th scope="col" class="text-end">{words["latest"]}</th>\n'
            f'    <th scope="col" class="text-end">{words["change"]}</th>\n'
            f'    <th scope="col">{words["level"]}</th>\n'
            f'    <th scope="col">{cuts}</th>\n'
            "  </tr></thead>\n"
            "  <tbody>\n"
            f"  {figure_rows(figures, multi=multi, all_cuts=all_cuts)}\n"
            "  </tbody>\n"
            "</table>\n"
            "</div>\n"
            "\n",
        )
    )


def _card_items(figures, cols: str, trigger: str) -> str:
    """Each figure's trend card in its column (``cols``): drawn, or still to load (a pending
    card that loads on ``trigger``)."""
    items = []
    for figure in figures:
        card = figure.card
        if not card:
            continue
        body = (
            pending_card(figure, trigger)
            if getattr(card, "pending", False)
            else f"\n    {trend_card_html(card)}\n    "
        )
        items.append(f'\n  <div class="{esc(cols)}">\n    {body}\n  </div>\n  ')
    return "".join(items)


@register.simple_tag
def figure_cards(figures, cols="") -> str:
    """The trend cards of some figures, two to a row (``cols``: another column class); a card
    not drawn with the page loads when scrolled to."""
    if not figures:
        return safe_join(("\n\n",))
    return safe_join(
        (
            '\n\n<div class="row g-3">\n  ',
            _card_items(figures, cols or "col-xl-6", "revealed"),
            "\n</div>\n\n",
        )
    )


@register.simple_tag
def quiet_figure_cards(figures) -> str:
    """The folded trend cards of a weekly board slot: each loads when its fold is opened and
    the card comes into view, with a plain link for a browser without JavaScript."""
    return safe_join(
        ('\n<div class="row g-3 mt-1">\n  ', _card_items(figures, "col-xl-6", "intersect once"), "\n</div>\n")
    )


@register.simple_tag
def pending_card(figure, trigger: str = "revealed") -> str:
    """A trend card still to load: the contract's name and a plain link to its card, replaced by
    the card (htmx ``trigger``: ``revealed`` when scrolled to, ``intersect once`` in a fold)."""
    card, contract = figure.card, figure.contract
    url = esc(card.url)
    metric_id = esc(contract.metric_id)
    return safe_join(
        [
            f'<section class="card po-trend-card po-trend-pending mb-3" id="{esc(card.dom_id)}"'
            f' data-metric="{metric_id}" hx-get="{url}" hx-trigger="{esc(trigger)}" hx-swap="outerHTML">'
            f'<div class="card-body"><h3 class="h6 mb-1">{esc(contract.name)}</h3>'
            f'<p class="small mb-0"><a class="font-monospace" href="{url}">{metric_id}</a> · '
            f'<span class="text-body-secondary">{esc(gettext("Loading the trend…"))}</span></p>'
            "</div></section>"
        ]
    )


def _signed_percent(value, suffix: str = "%") -> str:
    """``+3.2%`` / ``-1.0%`` as the template wrote it (``floatformat:1``), a dash for none."""
    if value is None:
        return "—"
    return f"{'+' if value > 0 else ''}{one_decimal(value)}{suffix}"


def cost_to_outcome_row_html(row, *, multi: bool, words: dict) -> str:
    """One cost-per-case contract against one outcome it buys: both linked with their evidence,
    the cost per good outcome now, its movement (costs more, less, or steady), and the movements
    of the cost per case and of the good-outcome share. ``words`` are escaped already, but the
    sentences with a slot (``points``, ``good_outcome``), escaped once filled in."""
    cost, outcome = row.cost.contract, row.outcome.contract
    movement = row.movement_percent
    if movement is None:
        movement_html = "—"
    else:
        if row.worse:
            verdict = f' <span class="po-worse">{words["costs_more"]}</span>'
        elif row.better:
            verdict = f' <span class="po-better">{words["costs_less"]}</span>'
        else:
            verdict = f' <span class="text-body-secondary">{words["steady"]}</span>'
        movement_html = esc(_signed_percent(movement)) + verdict
    points = row.good_movement_points
    points_html = (
        "—"
        if points is None
        else words["points"] % {"points": f"{'+' if points > 0 else ''}{one_decimal(points)}"}
    )
    capability = f'<td class="small">{esc(row.capability.name)}</td>' if multi else ""
    evidence = f'title="{words["evidence_title"]}">{words["evidence"]}</a>'
    good = words["good_outcome"] % {"good": row.good_label}
    return (
        f'<tr class="{"po-row-alarm" if row.worse else ""}" data-cost="{esc(cost.metric_id)}"'
        f' data-outcome="{esc(outcome.metric_id)}">'
        f"{capability}"
        f'<td><a href="{esc(cost.get_absolute_url())}">{esc(cost.name)}</a><div class="small">'
        f'<a href="{esc(evidence_url(cost.metric_id, period=row.period))}" {evidence}</div></td>'
        f'<td><a href="{esc(outcome.get_absolute_url())}">{esc(outcome.name)}</a>'
        f'<div class="small text-body-secondary">{esc(good)} · '
        f'<a href="{esc(evidence_url(outcome.metric_id, period=row.period))}" {evidence}</div></td>'
        f'<td class="text-end text-nowrap"><span class="po-value" data-per-good>{esc(row.per_good_now_text)}</span></td>'
        f'<td class="text-end text-nowrap" data-movement>{movement_html}</td>'
        f'<td class="text-end text-nowrap small">{esc(_signed_percent(row.cost_movement_percent))}</td>'
        f'<td class="text-end text-nowrap small">{esc(points_html)}</td>'
        "</tr>"
    )


@register.simple_tag
def cost_to_outcome_rows(rows, multi=False) -> str:
    """The ``<tr>`` of each cost-to-outcome pair of the runtime board."""
    words = {
        "evidence_title": esc(gettext("The evidence behind this figure")),
        "evidence": esc(gettext("evidence")),
        "costs_more": esc(gettext("costs more")),
        "costs_less": esc(gettext("costs less")),
        "steady": esc(gettext("steady")),
        # Sentences with a slot: filled in, then escaped with what they hold.
        "points": gettext("%(points)s pts"),
        "good_outcome": gettext("good outcome: %(good)s"),
    }
    multi = bool(multi)
    return safe_join((cost_to_outcome_row_html(row, multi=multi, words=words) for row in rows), "\n")


@register.simple_tag
def need_rows(items, multi=False) -> str:
    """The ``<tr>`` of each thing that needs someone today (the runtime board's list): its level,
    what (linked, marked when it is the reader's), the capability organisation-wide, where it
    stands."""
    yours = f' <span class="badge text-bg-dark">{esc(gettext("yours"))}</span>'
    rows = []
    for item in items:
        capability = (
            f'<td class="small">{esc(item.capability.name if item.capability else "")}</td>' if multi else ""
        )
        rows.append(
            f'<tr class="{"table-warning" if item.yours else ""}" data-urgency="{esc(item.urgency)}">'
            f'<td class="text-nowrap">{level_html(item.level, item.label)}</td>'
            f'<td><a href="{esc(item.url)}">{esc(item.what)}</a>{yours if item.yours else ""}</td>'
            f'{capability}<td class="small">{esc(item.detail)}</td></tr>'
        )
    return safe_join(rows, "\n")


@register.simple_tag
def incident_rows(severity: str, label: str, incidents, multi=False) -> str:
    """The ``<tr>`` of the open incidents of one severity: severity, the incident (linked), the
    capability organisation-wide, its state (a Sev1 not contained says so) and its age in days."""
    not_contained = esc(gettext("not contained"))
    head = f'<tr><td><span class="po-level po-sev-{esc(severity)}">{esc(label)}</span></td>'
    rows = []
    for incident in incidents:
        state = esc(incident.get_state_display())
        if severity == "sev1" and not incident.is_contained:
            state = f"{state} · <strong>{not_contained}</strong>"
        capability = f'<td class="small">{esc(incident.capability.name)}</td>' if multi else ""
        rows.append(
            f'{head}<td><a href="{esc(incident.get_absolute_url())}">{esc(incident.readable_id)}</a>'
            f' {esc(incident.title)}</td>{capability}<td class="small">{state}</td>'
            f'<td class="text-end" data-age>{esc(incident.age_days)}</td></tr>'
        )
    return safe_join(rows, "\n")
