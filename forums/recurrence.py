"""A forum's schedule as a recurrence, and its next occurrences in the organisation's zone.

Pure: reads the forum's schedule fields and touches no database, so tests call it with any
object carrying them. Wall-clock times are kept across daylight-saving changes: "Tuesday 10:00"
is 10:00 in London in winter and in summer alike.
"""

import calendar
import datetime
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from django.conf import settings

from forums.choices import Frequency


def organisation_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> datetime.date | None:
    """The nth (1-4, or -1 for last) given weekday of a month; None when the month has none."""
    days = [
        datetime.date(year, month, day)
        for day in range(1, calendar.monthrange(year, month)[1] + 1)
        if datetime.date(year, month, day).weekday() == weekday
    ]
    if nth == -1:
        return days[-1]
    return days[nth - 1] if 0 < nth <= len(days) else None


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def _candidate_days(forum, start: datetime.date) -> Iterator[datetime.date]:
    """Every day the schedule falls on, from ``start`` onwards (endless)."""
    frequency = forum.frequency
    anchor = forum.anchor_date or start
    if frequency == Frequency.DAILY:
        day = start
        while True:
            if day.weekday() < 5:  # triage runs on working days
                yield day
            day += datetime.timedelta(days=1)
    elif frequency in (Frequency.WEEKLY, Frequency.BIWEEKLY):
        day = start + datetime.timedelta(days=(forum.weekday - start.weekday()) % 7)
        step = 7 if frequency == Frequency.WEEKLY else 14
        if frequency == Frequency.BIWEEKLY:
            # Keep the fortnight in step with the anchor's week, whatever day we start from.
            anchor_monday = anchor - datetime.timedelta(days=anchor.weekday())
            day_monday = day - datetime.timedelta(days=day.weekday())
            if ((day_monday - anchor_monday).days // 7) % 2:
                day += datetime.timedelta(days=7)
        while True:
            yield day
            day += datetime.timedelta(days=step)
    elif frequency in (Frequency.MONTHLY, Frequency.QUARTERLY):
        every = 1 if frequency == Frequency.MONTHLY else 3
        year, month = start.year, start.month
        # Quarterly meetings fall in the anchor's month and every third month from it.
        offset = (month - anchor.month) % every
        if offset:
            year, month = _add_months(year, month, every - offset)
        while True:
            day = nth_weekday(year, month, forum.weekday, forum.week_of_month or 1)
            if day is not None and day >= start:
                yield day
            year, month = _add_months(year, month, every)
    # AD_HOC: no schedule, nothing to yield.


def next_occurrences(forum, after: datetime.datetime, count: int, *, until: datetime.datetime | None = None):
    """The forum's next ``count`` meeting times strictly after ``after`` (aware datetimes in the
    organisation's zone), stopping early at ``until`` when given."""
    if forum.frequency == Frequency.AD_HOC or count <= 0 or forum.time_of_day is None:
        return []
    zone = organisation_zone()
    after_local = after.astimezone(zone)
    found: list[datetime.datetime] = []
    for day in _candidate_days(forum, after_local.date()):
        moment = datetime.datetime.combine(day, forum.time_of_day, tzinfo=zone)
        if until is not None and moment > until:
            break
        if moment > after:
            found.append(moment)
            if len(found) >= count:
                break
    return found
