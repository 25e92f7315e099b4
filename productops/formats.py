"""How people and moments are written into frozen records (packs, minutes, memos): plain text
that reads the same whenever the record is opened again."""

import datetime
import functools
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation, getcontext

from django.utils import timezone
from django.utils.translation import get_language


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


def one_decimal(value) -> str:
    """A number with one decimal place, as the template filter ``floatformat:1`` writes it
    (halves rounded away from zero on the number's decimal form, no minus sign on a zero, the
    active language's decimal separator), for the boards' hot loops: the filter's own
    localisation machinery cost more than the rest of a row. Anything but a finite number, or
    grouping digits in thousands, is left to the filter itself."""
    from django.conf import settings

    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        number = None
    if number is None or not number.is_finite() or settings.USE_THOUSAND_SEPARATOR:
        from django.template.defaultfilters import floatformat

        return floatformat(value, 1)
    rounded = number.quantize(
        _TENTH, ROUND_HALF_UP, Context(prec=max(getcontext().prec, len(number.as_tuple()[1]) + 3))
    )
    text = f"{abs(rounded):f}"
    if rounded < 0:
        text = "-" + text
    return text.replace(".", _decimal_separator(get_language()))


_TENTH = Decimal("0.1")


@functools.lru_cache(maxsize=16)
def _decimal_separator(language: str | None) -> str:
    from django.utils.formats import get_format

    return get_format("DECIMAL_SEPARATOR", language)
