"""Template helpers shared by every app."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import SafeString, mark_safe

from productops.html import esc, safe_join

register = template.Library()

_ALLOWED_TAGS = {
    "p",
    "br",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "code",
    "pre",
    "blockquote",
    "a",
    "h3",
    "h4",
    "h5",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "hr",
    "del",
}


@register.filter
def markdown(text: str) -> str:
    """Render text a person typed (notes, evidence) as Markdown; scripts and handlers are removed."""
    if not text:
        return ""
    html = markdown_lib.markdown(str(text), extensions=["tables", "sane_lists"])
    return mark_safe(
        nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener")
    )


@register.simple_tag
def option_list(pairs, selected="") -> SafeString:
    """The ``<option>`` elements of a chooser of (value, label) pairs, the one of value
    ``selected`` selected: the capability switcher every page shows and the boards' capability
    choosers list every capability the reader may see (a template loop spent some 15 µs an
    option, on every page)."""
    return safe_join(
        f'<option value="{esc(value)}"{" selected" if value == selected else ""}>{esc(label)}</option>'
        for value, label in pairs
    )


@register.simple_tag
def capability_options(capabilities, chosen=None) -> SafeString:
    """``option_list`` of capabilities by slug, ``chosen`` (a capability, or None) selected."""
    return option_list(
        [(capability.slug, capability.name) for capability in capabilities], chosen.slug if chosen else None
    )
