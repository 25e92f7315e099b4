"""The review pack as a page (HTML) and as an A4 PDF (WeasyPrint), from a frozen snapshot
(forums.packs.pack_snapshot). Trend charts are PNGs (kaleido) embedded as data: URIs."""

import base64

from django.template.loader import render_to_string
from weasyprint import HTML

from forums.charts_static import figures_png, snapshot_figure
from forums.packs import CHART_SECTIONS

MAX_CHARTS = 12
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
    """metric id -> data: URI of its trend chart."""
    rows = chart_rows(snapshot, limit)
    pngs = figures_png([snapshot_figure(row) for row in rows], width=800, height=300)
    return {
        row["metric_id"]: "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        for row, png in zip(rows, pngs, strict=True)
    }


def pack_html(snapshot: dict, *, charts: dict[str, str] | None = None) -> str:
    """The pack page; ``charts`` (metric id -> image URI) defaults to no charts (the browser page
    draws them live); pack_pdf passes the static images."""
    charts = charts or {}
    sections = [
        {**section, "rows": [{**row, "chart": charts.get(row["metric_id"], "")} for row in section["rows"]]}
        if section["key"] in CHART_SECTIONS
        else section
        for section in snapshot["sections"]
    ]
    return render_to_string(
        "forums/pack.html", {"pack": snapshot, "meta": snapshot["meta"], "sections": sections}
    )


def render_pack(snapshot: dict, *, charts: dict[str, str] | None = None) -> tuple[bytes, int]:
    """(PDF bytes, number of pages) of the pack; ``charts`` as chart_images returns them (the
    images stored with a built pack), drawn now when None."""
    if charts is None:
        charts = chart_images(snapshot)
    document = HTML(string=pack_html(snapshot, charts=charts)).render()
    return document.write_pdf(), len(document.pages)


def pack_pdf(snapshot: dict, *, charts: dict[str, str] | None = None) -> bytes:
    return render_pack(snapshot, charts=charts)[0]
