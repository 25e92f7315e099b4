"""Template tags and filters of the evidence binder."""

from django import template

from boards.cards import evidence_url
from productops.formats import person_name

register = template.Library()


@register.filter
def person(user) -> str:
    """A person as colleagues know them (full name, else login); "" for nobody (the system, or a
    role not filled). ``x.get_full_name|default:x.username`` fails when ``x`` is empty: a filter
    argument is resolved strictly."""
    return person_name(user)


@register.simple_tag
def binder_url(metric_id: str, cut: str = "", period=None) -> str:
    """Where the evidence behind a board's figure is: ``{% binder_url metric_id period=day as href %}``."""
    return evidence_url(metric_id, cut=cut, period=period)
