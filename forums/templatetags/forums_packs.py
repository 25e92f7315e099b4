"""``{% session_pack_panel session %}``: the review pack panel of a session page, from any page
that includes ``forums/session_pack_panel.html`` with only ``session`` in its context."""

from django import template

register = template.Library()


@register.inclusion_tag("forums/session_pack_panel.html#panel", takes_context=True)
def session_pack_panel(context, session):
    from forums.pack_delivery import pack_panel

    return pack_panel(session, context["request"].user)
