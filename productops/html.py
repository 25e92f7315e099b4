"""HTML for the hot loops of the boards: many small escaped pieces joined into one safe string.

``django.utils.html.format_html`` and ``escape`` are right everywhere else, but each call goes
through Django's lazy-string wrappers and a ``SafeString`` per piece: on a board's table views
(thousands of cells a page) that cost more than the database. These do the same escaping
(``html.escape`` with quotes, as Django's ``escape``) on plain strings, and the caller marks the
finished fragment safe once with ``safe_join``.
"""

import html

from django.utils.safestring import SafeString, mark_safe


def esc(value) -> str:
    """``value`` as HTML text: HTML already marked safe (anything with ``__html__``) as it is,
    anything else (text people typed, numbers, lazy translations) converted and escaped."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def safe_join(pieces, separator: str = "") -> SafeString:
    """Pieces of HTML, each already escaped with ``esc`` (or written here as markup), as one
    safe fragment."""
    return mark_safe(separator.join(pieces))  # noqa: S308 - every piece was escaped by esc()
