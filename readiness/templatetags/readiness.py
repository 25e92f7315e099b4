"""Template tags that put a capability's operating readiness on pages other apps own (the
capability page, the portfolio board): those pages include a readiness partial by name, and the
partial asks these tags, so no lower app imports readiness.

The gaps and the records they name are built here rather than in a template: the portfolio board
lists some 300 gaps a render, and a template include per gap cost more than the answers."""

from django import template
from django.utils.translation import gettext

from productops.html import esc, safe_join
from readiness.questions import capability_readiness as _capability_readiness
from readiness.questions import readiness_for

register = template.Library()


@register.simple_tag
def capability_readiness(capability):
    """The capability's Readiness (its eight answers)."""
    return _capability_readiness(capability)


@register.simple_tag
def readiness_of_lines(lines):
    """The Readiness of each capability of a board's lines (objects with ``.capability``, or
    capabilities), in their order, in a fixed number of queries."""
    capabilities = [getattr(line, "capability", line) for line in lines]
    return readiness_for(capabilities)


def _faults(answer, open_word: str) -> str:
    """The records a gap names, linked ("Open: DEC-0001, DEC-0002"); nothing when it names none."""
    if not answer.faults:
        return ""
    links = ", ".join(f'<a href="{esc(item.url)}">{esc(item.label)}</a>' for item in answer.faults)
    return f'<span class="small text-nowrap-md po-readiness-faults">{esc(open_word)} {links}</span>'


@register.simple_tag
def readiness_faults(answer):
    """The records the answer's gap names, linked."""
    return safe_join([_faults(answer, gettext("Open:"))])


@register.simple_tag
def readiness_gaps(readiness):
    """One list item per question the capability has not answered: the question, the gap in
    words and the records it names."""
    open_word = gettext("Open:")
    return safe_join(
        f'<li data-question="{esc(answer.key)}"><strong>{esc(answer.question)}</strong> '
        f"{esc(answer.gap)} {_faults(answer, open_word)}</li>"
        for answer in readiness.gaps
    )
