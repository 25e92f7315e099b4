"""Template helpers shared by every app."""

import markdown as markdown_lib
import nh3
from django import template
from django.utils.safestring import mark_safe

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
