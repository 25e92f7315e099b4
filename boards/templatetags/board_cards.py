"""A trend card's cut controls, built in Python: the "All", "By <dimension>" and "By version"
buttons and the cohort-cut menu (playbook 18.4: every trend can be cut by cohort and by version,
on the page, via htmx). A board draws a dozen cards, each with some 80 values in these controls:
the template language spent longer on them than the card's SQL. The markup is the one
boards/trend_card.html had."""

import functools
from urllib.parse import quote

from django import template
from django.utils.translation import get_language, gettext

from productops.html import esc, safe_join

register = template.Library()


@functools.lru_cache(maxsize=16)
def _words_in(language: str | None) -> dict[str, str]:
    # Translated (and escaped) once per language, not once per button of every card.
    return {
        "all": esc(gettext("All")),
        "by_version": esc(gettext("By version")),
        "by_dimension": gettext("By %(dimension)s"),
        "cohort_cut": esc(gettext("Cohort cut")),
        "whole_population": esc(gettext("Whole population")),
        "show": esc(gettext("Show")),
    }


def _cut_button(card, query: str, label: str, current: bool) -> str:
    """One cut button: a plain link to the card's chart endpoint, swapped in place by htmx.
    ``query`` and ``label`` are HTML already."""
    href = f"{card.url}{query}"
    style = "btn-secondary" if current else "btn-outline-secondary"
    aria = ' aria-current="true"' if current else ""
    return (
        f'<a class="btn btn-sm {style}" href="{href}" hx-get="{href}" hx-target="#{card.dom_id}"'
        f' hx-swap="outerHTML"{aria}>{label}</a>'
    )


def _cut_menu(card, words: dict[str, str]) -> str:
    """The cohort-cut menu (a GET form that htmx submits on change; a button without JavaScript)."""
    hidden = ""
    if card.by:
        hidden += f'<input type="hidden" name="by" value="{esc(card.by)}">'
    hidden += "\n      "
    if card.dimension:
        hidden += f'<input type="hidden" name="dimension" value="{esc(card.dimension)}">'
    options = "".join(
        f'<option value="{esc(cut)}"{" selected" if cut == card.cut else ""}>{esc(cut)}</option>'
        for cut in card.cuts
    )
    return (
        f'\n    <form method="get" action="{card.url}" class="d-flex gap-1 ms-auto" hx-get="{card.url}"'
        f' hx-target="#{card.dom_id}" hx-swap="outerHTML" hx-trigger="change">\n      '
        f"{hidden}\n"
        f'      <label class="visually-hidden" for="{card.dom_id}-cut">{words["cohort_cut"]}</label>\n'
        f'      <select class="form-select form-select-sm" id="{card.dom_id}-cut" name="cut">\n'
        f'        <option value="">{words["whole_population"]}</option>\n'
        f"        {options}\n"
        f"      </select>\n"
        f'      <noscript><button class="btn btn-sm btn-secondary" type="submit">{words["show"]}</button></noscript>\n'
        f"    </form>\n    "
    )


@register.simple_tag
def trend_card_cuts(card) -> str:
    """The card's cut buttons and cohort-cut menu, as HTML (everything from data escaped)."""
    words = _words_in(get_language())
    cut = f"cut={esc(quote(card.cut, safe='/'))}" if card.cut else ""
    parts = [_cut_button(card, f"?{cut}" if cut else "", words["all"], not card.by), "\n    "]
    for dimension in card.contract.cohort_dimensions or ():
        query = f"?by=cohort&amp;dimension={esc(quote(dimension, safe='/'))}{'&amp;' + cut if cut else ''}"
        label = words["by_dimension"] % {"dimension": esc(dimension)}
        current = card.by == "cohort" and card.dimension == dimension
        parts.append(f"\n    {_cut_button(card, query, label, current)}\n    ")
    version_query = f"?by=version{'&amp;' + cut if cut else ''}"
    parts.append(f"\n    {_cut_button(card, version_query, words['by_version'], card.by == 'version')}\n    ")
    if card.cuts:
        parts.append(_cut_menu(card, words))
    return safe_join(parts)


@functools.lru_cache(maxsize=16)
def _card_words_in(language: str | None) -> dict[str, str]:
    # A card's fixed words, translated once per language rather than once per card. Translated
    # literals are HTML as written (as the template's {% translate %} left them); the values
    # put into the sentences with slots are escaped where they are filled in.
    return {
        "contract_title": gettext("The metric contract this chart is drawn from"),
        "evidence_level_title": gettext("Evidence quality level (playbook 11.2)"),
        "latest": gettext("Latest: %(level)s"),
        "evidence_title": gettext(
            "The contract, observations, signals, actions and decisions behind this chart"
        ),
        "evidence": gettext("Evidence"),
        "cut_name": gettext("Cut %(name)s"),
        "as_table": gettext("The chart's numbers as a table"),
        "per_period": gettext("%(name)s per period"),
        "level": gettext("Level"),
        "no_observations": gettext("No observations yet."),
    }


def _thresholds_html(card, contract) -> str:
    """The threshold lines under the table view, each with its action rule."""
    if not card.table.thresholds:
        return ""
    items = "".join(
        f"<li><strong>{esc(threshold['label'])} {esc(contract.format_value(threshold['value']))}</strong>"
        f" — {esc(threshold['rule'])}</li>"
        for threshold in card.table.thresholds
    )
    return f'\n    <ul class="small mb-0">\n      {items}\n    </ul>\n    '


@register.simple_tag
def trend_card_html(card) -> str:
    """One contract's trend card on a board (``boards.cards.TrendCard``): its title and links,
    the cut controls, the chart, and the chart's numbers as a table with the threshold lines.
    Built in Python: a board draws a dozen cards, and the template language spent about a
    millisecond on each card's fixed markup."""
    words = _card_words_in(get_language())
    contract = card.contract
    dom_id = esc(card.dom_id)
    name = esc(contract.name)
    latest = (
        f'<span class="small">{words["latest"] % {"level": esc(card.latest_level)}}</span>'
        if card.latest_level
        else ""
    )
    columns = "".join(f'<th scope="col">{esc(column)}</th>' for column in card.table.columns)
    level_column = f'<th scope="col">{words["level"]}</th>' if card.latest_level else ""
    empty = (
        ""
        if card.table.rows
        else f'<tr><td colspan="{len(card.table.columns) + 2}" class="po-empty">{words["no_observations"]}</td></tr>'
    )
    return safe_join(
        (
            f'\n\n<section class="card po-trend-card mb-3" id="{dom_id}" data-metric="{esc(contract.metric_id)}"'
            f' aria-labelledby="{dom_id}-title"><div class="card-body">\n'
            '  <div class="d-flex flex-wrap align-items-baseline gap-2">\n'
            f'    <h3 class="h6 mb-0" id="{dom_id}-title">{name}</h3>\n'
            f'    <a class="small font-monospace" href="{esc(contract.get_absolute_url())}"'
            f' title="{words["contract_title"]}">{esc(contract.metric_id)}</a>\n'
            f'    <span class="badge text-bg-light border" title="{words["evidence_level_title"]}">'
            f"{esc(contract.evidence_level)}</span>\n"
            f"    {latest}\n"
            f'    <a class="small ms-auto" href="{esc(card.evidence_url)}" title="{words["evidence_title"]}">'
            f"{words['evidence']} →</a>\n"
            "  </div>\n"
            '  <nav class="d-flex flex-wrap gap-1 align-items-center my-2"'
            f' aria-label="{words["cut_name"] % {"name": name}}">\n'
            f"    {trend_card_cuts(card)}\n"
            "  </nav>\n"
            f'  <div class="po-chart" data-by="{esc(card.by)}" data-cut="{esc(card.cut)}">{card.chart_html}</div>\n'
            '  <details class="mt-1">\n'
            f'    <summary class="small">{words["as_table"]}</summary>\n'
            '    <div class="table-responsive">\n'
            '    <table class="table table-sm po-table mt-2">\n'
            f"      <caption>{words['per_period'] % {'name': name}}</caption>\n"
            f"      <thead><tr>{columns}{level_column}"
            f'<th scope="col"><span class="visually-hidden">{words["evidence"]}</span></th></tr></thead>\n'
            "      <tbody>\n"
            f"        {card.table_body_html}\n"
            f"        {empty}\n"
            "      </tbody>\n"
            "    </table>\n"
            "    </div>\n"
            f"    {_thresholds_html(card, contract)}\n"
            "  </details>\n"
            "</div></section>\n\n",
        )
    )
