"""The release calendar as an iCal feed: a person's calendar app subscribes to a URL holding
their token and sees the releases (planned or deployed) and post-release review dates of the
capabilities they hold a role on. Whole-day events; UIDs are stable so updates replace events."""

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event

from releases.choices import ReleaseState
from releases.services import releases_visible_for_feed

PRODID = "-//ProductOps//Release calendar//EN"


def _event(uid: str, day: datetime.date, summary: str, description: str, url: str, stamp) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + datetime.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", description)
    if url:
        event.add("url", url)
    event.add("transp", "TRANSPARENT")
    return event


def calendar_feed(user) -> bytes:
    """The person's feed: one event per release on its deployed date (or planned date while not
    deployed) and one on its post-release review date."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", gettext("ProductOps releases"))
    calendar.add("x-wr-timezone", settings.TIME_ZONE)
    base = settings.PRODUCTOPS_BASE_URL.rstrip("/")
    stamp = timezone.now()
    for release in releases_visible_for_feed(user):
        url = f"{base}{release.get_absolute_url()}"
        description = "\n".join(
            [
                release.change,
                gettext("Capability: %(name)s") % {"name": release.capability.name},
                gettext("%(type)s %(versions)s, risk %(tier)s, owner %(owner)s")
                % {
                    "type": release.get_object_type_display(),
                    "versions": release.version_change,
                    "tier": release.get_risk_tier_display().lower(),
                    "owner": release.owner,
                },
                gettext("State: %(state)s") % {"state": release.get_state_display()},
            ]
        )
        names = {"id": release.readable_id, "capability": release.capability.name, "change": release.change}
        if release.deployed_date:
            summary = gettext("%(id)s deployed: %(change)s (%(capability)s)") % names
            if release.state == ReleaseState.ROLLED_BACK:
                summary = gettext("%(id)s deployed, rolled back: %(change)s (%(capability)s)") % names
            day = release.deployed_date
        else:
            summary = gettext("%(id)s planned: %(change)s (%(capability)s)") % names
            day = release.planned_date
        calendar.add_component(
            _event(f"{release.readable_id}-release@productops", day, summary, description, url, stamp)
        )
        if release.post_release_review_date and release.state != ReleaseState.ROLLED_BACK:
            summary = gettext("%(id)s impact review: %(change)s (%(capability)s)") % names
            if release.state == ReleaseState.IMPACT_REVIEWED:
                summary = gettext("%(id)s impact review (done): %(change)s (%(capability)s)") % names
            calendar.add_component(
                _event(
                    f"{release.readable_id}-review@productops",
                    release.post_release_review_date,
                    summary,
                    description,
                    f"{url}impact/",
                    stamp,
                )
            )
    return calendar.to_ical()
