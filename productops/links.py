"""Links to records' pages, reversed once per process and kept.

A board names hundreds of records (every decision, release, action and contract it cites has a
link), and Django's ``reverse`` walks the URL resolver for each: 30 to 50 microseconds a call,
some 750 calls on the portfolio board. The same records are linked again on the next render and
by the next reader, so a link is worked out once and kept (``functools.lru_cache``).

Exact: the result is ``django.urls.reverse``'s own for the same URL configuration, script prefix,
view name and keyword arguments (the key); a reverse that fails is not kept; the kept links are
dropped when the URL configuration changes (``ROOT_URLCONF``, ``FORCE_SCRIPT_NAME``, as tests
change them).
"""

import functools

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, get_urlconf
from django.urls import reverse as django_reverse

# Links of records worth keeping: a large portfolio's boards name some thousands of records.
KEPT_LINKS = 20_000


def reverse(viewname: str, *, kwargs: dict) -> str:
    """``django.urls.reverse(viewname, kwargs=kwargs)``, kept per process."""
    return _kept(get_urlconf(), get_script_prefix(), viewname, tuple(sorted(kwargs.items())))


@functools.lru_cache(maxsize=KEPT_LINKS)
def _kept(urlconf, prefix: str, viewname: str, items: tuple) -> str:
    return django_reverse(viewname, urlconf=urlconf, kwargs=dict(items))


@receiver(setting_changed)
def _forget_links(*, setting, **kwargs):
    if setting in ("ROOT_URLCONF", "FORCE_SCRIPT_NAME"):
        _kept.cache_clear()
