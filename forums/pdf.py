"""The review pack as a page (HTML) and as an A4 PDF (WeasyPrint), from a frozen snapshot
(forums.packs.pack_snapshot). Trend charts are PNGs (kaleido), kept as base64 with the built pack
and embedded as data: URIs, so the page and every later rendering show the very same images.

WeasyPrint writes no creation date or random file identifier, and the footer's times come from
the snapshot: the same snapshot and images give the same PDF, byte for byte."""

import base64

from django.template.loader import render_to_string

from forums.charts_static import figures_png, snapshot_figure
from forums.packs import CHART_SECTIONS

MAX_CHARTS = 12
# 800 x 300 CSS pixels at scale 1.5: 1200 x 450 image pixels across the A4 text width
# (182 mm), about 170 dpi, sharp when printed.
CHART_WIDTH, CHART_HEIGHT, CHART_SCALE = 800, 300, 1.5
_LEVEL_RANK = {"stop": 0, "breach": 1, "warning": 2, "insufficient": 3, "ok": 4}


def chart_rows(snapshot: dict, limit: int = MAX_CHARTS) -> list[dict]:
    """The figure rows that get a chart: outcome, quality, risk and cost rows with a trend, worst
    level first (then section order), at most ``limit``."""
    rows = []
    for position, section in enumerate(snapshot["sections"]):
        if section["key"] in CHART_SECTIONS:
            rows += [(position, row) for row in section["rows"] if row.get("trend")]
    rows.sort(key=lambda item: (_LEVEL_RANK.get(item[1]["level"], 5), item[0]))
    return [row for _position, row in rows[:limit]]


def chart_images(snapshot: dict, limit: int = MAX_CHARTS) -> dict[str, str]:
    """metric id -> base64 PNG of its trend chart, drawn now from the snapshot (what a built
    pack stores in ``ReviewPack.charts``)."""
    rows = chart_rows(snapshot, limit)
    pngs = figures_png(
        [snapshot_figure(row) for row in rows], width=CHART_WIDTH, height=CHART_HEIGHT, scale=CHART_SCALE
    )
    return {
        row["metric_id"]: base64.b64encode(png).decode("ascii") for row, png in zip(rows, pngs, strict=True)
    }


def chart_uri(image: str) -> str:
    """A stored chart image as the ``src`` of an <img>."""
    if not image or image.startswith("data:"):
        return image
    return "data:image/png;base64," + image


def pack_html(snapshot: dict, *, charts: dict[str, str] | None = None, page: dict | None = None) -> str:
    """The pack as one HTML document; ``charts`` (metric id -> base64 PNG) are placed under their
    figures' tables (none when empty). ``page`` (links: ``session_url``, ``pdf_url``) makes it
    the browser page: a toolbar on screen, the same document when printed."""
    charts = charts or {}
    sections = [
        {
            **section,
            "rows": [
                {**row, "chart": chart_uri(charts.get(row["metric_id"], ""))} for row in section["rows"]
            ],
        }
        if section["key"] in CHART_SECTIONS
        else section
        for section in snapshot["sections"]
    ]
    return render_to_string(
        "forums/pack.html",
        {"pack": snapshot, "meta": snapshot["meta"], "sections": sections, "page": page},
    )


def render_pack(snapshot: dict, *, charts: dict[str, str] | None = None) -> tuple[bytes, int]:
    """(PDF bytes, number of pages) of the pack; ``charts`` as chart_images returns them (the
    images stored with a built pack), drawn now when None."""
    # Imported here: importing WeasyPrint parses its default stylesheets, which every web
    # process would pay (and log) at start-up although only pack builds need it.
    from weasyprint import HTML

    if charts is None:
        charts = chart_images(snapshot)
    document = HTML(string=pack_html(snapshot, charts=charts)).render()
    return document.write_pdf(), len(document.pages)


def pack_pdf(snapshot: dict, *, charts: dict[str, str] | None = None) -> bytes:
    return render_pack(snapshot, charts=charts)[0]
