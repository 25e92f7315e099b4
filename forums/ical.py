"""The operating calendar as an iCal feed: the sessions of the forums a person takes part in.
The feed URL carries the person's calendar token (the release calendar's, one secret per
person). UIDs are stable so a moved session replaces its event."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event

from forums.services import sessions_for_feed

PRODID = "-//ProductOps//Operating calendar//EN"


def calendar_feed(user) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", gettext("ProductOps forums"))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    base = settings.PRODUCTOPS_BASE_URL.rstrip("/")
    stamp = timezone.now()
    for session in sessions_for_feed(user):
        event = Event()
        event.add("uid", f"forum-session-{session.pk}@productops")
        event.add("dtstamp", stamp)
        event.add("dtstart", session.scheduled_at.astimezone(datetime.UTC))
        event.add("dtend", session.ends_at.astimezone(datetime.UTC))
        event.add("summary", session.forum.name)
        lines = [gettext("State: %(state)s") % {"state": session.get_state_display()}]
        if session.decision_requested:
            lines.insert(0, gettext("Decision requested: %(text)s") % {"text": session.decision_requested})
        event.add("description", "\n".join(lines))
        event.add("url", f"{base}{session.get_absolute_url()}")
        calendar.add_component(event)
    return calendar.to_ical()
