"""How people and moments are written into frozen records (packs, minutes, memos): plain text
that reads the same whenever the record is opened again."""

import datetime

from django.utils import timezone


def person_name(user) -> str:
    """A person as colleagues know them: full name, else login; "" for nobody (the system)."""
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def local_iso(value) -> str | None:
    """A date as ISO; a moment as ISO to the minute in the organisation's zone (a naive one as
    given); None stays None."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(timespec="minutes")
    return value.isoformat()
