"""The portfolio board's rating cells, built in Python: a page of 36 capabilities has some 250
cells of a dozen conditions and values each, which the template language renders several times
slower than format_html. The markup is the one boards/portfolio.html had."""

import functools

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext

register = template.Library()


def _words() -> dict:
    """The words every cell repeats, in the active language."""
    return _words_in(get_language())


@functools.lru_cache(maxsize=16)
def _words_in(language: str | None) -> dict:
    # Translated once per language, not once per column of every row.
    return {
        "not_rated": gettext("not rated"),
        "suggestion_only": gettext("the data’s suggestion: nobody has rated it yet"),
        "now_title": gettext("What the data suggests today"),
        "now_word": gettext("now"),
        "today_word": gettext("Today:"),
    }


def _summary(cell, labelled: bool, words: dict) -> str:
    """The cell's folded line: its dimension (when the column has several), the rating, the
    guide's reading of it, and the data's rating today when it differs."""
    parts = []
    if labelled:
        parts.append(format_html('<span class="small text-body-secondary">{}</span> ', cell.label))
    rating = f"{cell.shown} / 5" if cell.shown else words["not_rated"]
    parts.append(
        format_html(
            '<span class="po-rating po-rating-{}" title="{}: {}">{}</span>',
            cell.shown or "none",
            cell.label,
            rating,
            cell.shown or "–",
        )
    )
    if cell.shown and not cell.rated:
        parts.append(format_html('<sup title="{}">*</sup>', words["suggestion_only"]))
    if cell.shown:
        reading = cell.guide[1] if cell.shown <= 2 else cell.guide[2] if cell.shown >= 4 else ""
        parts.append(format_html('\n<span class="small">{}</span>', reading))
    if cell.changed:
        parts.append(
            format_html(
                '\n<span class="small po-now" title="{}">{} {}</span>',
                words["now_title"],
                words["now_word"],
                cell.now,
            )
        )
    return mark_safe("".join(parts))  # each part escaped by format_html


def _cell(cell, labelled: bool, words: dict) -> str:
    body = [format_html('<div class="small mt-1">{}</div>', cell.evidence or cell.now_evidence)]
    if cell.changed:
        body.append(
            format_html(
                '<div class="small mt-1 text-body-secondary">{} {}</div>',
                words["today_word"],
                cell.now_evidence,
            )
        )
    if cell.cites:
        links = format_html_join(
            ", ", '<a class="font-monospace" href="{}">{}</a>', ((c["url"], c["ref"]) for c in cell.cites)
        )
        body.append(format_html('<div class="small mt-1">{}</div>', links))
    return format_html(
        '<details class="po-board-cell{}" data-dimension="{}">\n<summary>{}</summary>\n{}\n</details>',
        " po-cell-exception" if cell.exception else "",
        cell.dimension,
        _summary(cell, labelled, words),
        mark_safe("\n".join(body)),  # each part escaped by format_html
    )


@register.simple_tag
def portfolio_cells(cells) -> str:
    """The rating cells of one column of a capability's row (boards.portfolio.BoardCell)."""
    words = _words()
    labelled = len(cells) > 1
    return mark_safe("\n".join(_cell(cell, labelled, words) for cell in cells))  # escaped per cell
