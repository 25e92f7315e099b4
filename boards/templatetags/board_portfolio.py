"""The portfolio board's rating cells, built in Python: a page of 36 capabilities has some 250
cells of a dozen conditions and values each, which the template language renders several times
slower than Python. The markup is the one boards/portfolio.html had; every value is escaped with
``productops.html.esc`` (Django's escaping, without format_html's per-call lazy wrappers)."""

import functools

from django import template
from django.utils.formats import date_format
from django.utils.translation import get_language, gettext

from productops.html import esc, safe_join

register = template.Library()


def _words() -> dict:
    """The words every cell repeats, in the active language."""
    return _words_in(get_language())


@functools.lru_cache(maxsize=16)
def _words_in(language: str | None) -> dict:
    # Translated (and escaped: they are only ever written as HTML text) once per language, not
    # once per column of every row.
    return {
        key: esc(words)
        for key, words in (
            ("not_rated", gettext("not rated")),
            ("suggestion_only", gettext("the data’s suggestion: nobody has rated it yet")),
            ("now_title", gettext("What the data suggests today")),
            ("now_word", gettext("now")),
            ("today_word", gettext("Today:")),
            ("candidate_word", gettext("retirement candidate")),
            ("risk_word", gettext("risk")),
        )
    }


def _summary(cell, labelled: bool, changed: bool, words: dict) -> str:
    """The cell's folded line: its dimension (when the column has several), the rating, the
    guide's reading of it, and the data's rating today when it differs."""
    shown = cell.shown
    label = esc(cell.label)
    parts = [f'<span class="small text-body-secondary">{label}</span> '] if labelled else []
    rating = f"{shown} / 5" if shown else words["not_rated"]
    parts.append(
        f'<span class="po-rating po-rating-{esc(shown or "none")}" '
        f'title="{label}: {esc(rating) if shown else rating}">{esc(shown or "–")}</span>'
    )
    if shown and not cell.rated:
        parts.append(f'<sup title="{words["suggestion_only"]}">*</sup>')
    if shown:
        reading = cell.guide[1] if shown <= 2 else cell.guide[2] if shown >= 4 else ""
        parts.append(f'\n<span class="small">{esc(reading)}</span>')
    if changed:
        parts.append(
            f'\n<span class="small po-now" title="{words["now_title"]}">{words["now_word"]} {esc(cell.now)}</span>'
        )
    return "".join(parts)


def _cell(cell, labelled: bool, words: dict) -> str:
    changed = cell.changed
    body = [f'<div class="small mt-1">{esc(cell.evidence or cell.now_evidence)}</div>']
    if changed:
        body.append(
            f'<div class="small mt-1 text-body-secondary">{words["today_word"]} {esc(cell.now_evidence)}</div>'
        )
    if cell.cites:
        links = ", ".join(
            f'<a class="font-monospace" href="{esc(cite["url"])}">{esc(cite["ref"])}</a>'
            for cite in cell.cites
        )
        body.append(f'<div class="small mt-1">{links}</div>')
    exception = " po-cell-exception" if cell.exception else ""
    return (
        f'<details class="po-board-cell{exception}" data-dimension="{esc(cell.dimension)}">\n'
        f"<summary>{_summary(cell, labelled, changed, words)}</summary>\n" + "\n".join(body) + "\n</details>"
    )


def _cells(cells, words: dict) -> str:
    """The rating cells of one column of a capability's row (boards.portfolio.BoardCell)."""
    labelled = len(cells) > 1
    return "\n".join(_cell(cell, labelled, words) for cell in cells)


@register.simple_tag
def portfolio_columns(line) -> str:
    """The rating columns of a capability's row (boards.portfolio.PortfolioLine.columns), one
    table cell each: one tag a row rather than one a column (some 250 a page)."""
    words = _words()
    return safe_join(
        f'<td class="po-col po-col-{esc(key)}">\n{_cells(cells, words)}\n</td>'
        for key, _label, cells in line.columns
    )


@register.simple_tag
def portfolio_row_head(line) -> str:
    """A capability's row opening and its heading cell (boards.portfolio.PortfolioLine): its name,
    whether it is a retirement candidate, its risk tier and lifecycle status, and its latest
    memo's month and recommendation; one tag a row rather than a dozen lookups and filters."""
    words = _words()
    capability = line.capability
    candidate = line.retirement_candidate
    badge = (
        f'<div><span class="badge text-bg-warning">{words["candidate_word"]}</span></div>'
        if candidate
        else ""
    )
    memo = ""
    if line.memo:
        month = gettext("Memo %(month)s") % {"month": esc(date_format(line.memo.month, "Y-m"))}
        matrix = line.memo.matrix
        label = matrix.get("label") if isinstance(matrix, dict) else None
        memo = (
            f'<div class="small fw-normal"><a href="{esc(line.memo.get_absolute_url())}">{month}</a>: '
            f"{esc(label or line.memo.recommendation)}</div>"
        )
    return safe_join(
        [
            f'<tr id="portfolio-{esc(capability.slug)}" data-retirement="{"yes" if candidate else "no"}">\n'
            f'        <th scope="row">{esc(capability.name)}\n'
            f"          {badge}\n"
            f'          <div class="small fw-normal text-body-secondary">{esc(capability.get_risk_tier_display())} '
            f"{words['risk_word']} · {esc(capability.get_lifecycle_status_display().lower())}</div>\n"
            f"          {memo}\n"
            "        </th>"
        ]
    )
