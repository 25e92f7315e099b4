"""Evaluation periods of a metric contract: a day, an ISO week (Monday to Sunday) or a calendar
month, named by the date they start on."""

import datetime

from django.utils.translation import gettext

from contracts.choices import Grain


def period_start_of(day: datetime.date, grain: str) -> datetime.date:
    """The first day of the period of ``grain`` that contains ``day``."""
    if grain == Grain.DAY:
        return day
    if grain == Grain.WEEK:
        return day - datetime.timedelta(days=day.weekday())
    if grain == Grain.MONTH:
        return day.replace(day=1)
    raise ValueError(f"unknown grain {grain!r}")


def shift_period(start: datetime.date, grain: str, periods: int) -> datetime.date:
    """The start of the period ``periods`` later (earlier when negative) than the one at ``start``."""
    if grain == Grain.DAY:
        return start + datetime.timedelta(days=periods)
    if grain == Grain.WEEK:
        return start + datetime.timedelta(weeks=periods)
    if grain == Grain.MONTH:
        years, month = divmod(start.month - 1 + periods, 12)
        return datetime.date(start.year + years, month + 1, 1)
    raise ValueError(f"unknown grain {grain!r}")


def period_end_of(start: datetime.date, grain: str) -> datetime.date:
    """The last day of the period starting at ``start``."""
    return shift_period(start, grain, 1) - datetime.timedelta(days=1)


def describe_period(start: datetime.date, grain: str) -> str:
    """How people say the period: "week of 2026-06-08", "2026-06-08", "month of 2026-06"."""
    if grain == Grain.DAY:
        return start.isoformat()
    if grain == Grain.MONTH:
        return gettext("month of %(month)s") % {"month": start.strftime("%Y-%m")}
    return gettext("week of %(date)s") % {"date": start.isoformat()}


# Observations finer than or equal to the evaluation grain, and nesting in it, feed a period.
# (A week straddles two months, so weekly rows never feed a monthly contract.)
FEEDING_GRAINS = {
    Grain.DAY: [Grain.DAY],
    Grain.WEEK: [Grain.DAY, Grain.WEEK],
    Grain.MONTH: [Grain.DAY, Grain.MONTH],
}
