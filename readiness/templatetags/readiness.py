"""Template tags that put a capability's operating readiness on pages other apps own (the
capability page, the portfolio board): those pages include a readiness partial by name, and the
partial asks these tags, so no lower app imports readiness."""

from django import template

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
