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
