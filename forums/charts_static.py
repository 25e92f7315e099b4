"""Static chart images for printed packs: a Plotly figure to PNG with kaleido (>= 1.0), which
drives a headless Chromium. One kaleido session (one Chromium, a few tabs) per process, started on
first use and stopped at exit; /usr/bin/chromium unless KALEIDO_BROWSER_PATH (or BROWSER_PATH) says else.

Pack charts are drawn from the frozen snapshot (``snapshot_figure``), not from the database, so
a pack rebuilt later shows the trend as it was sent; they use the styles of contracts.charts.
"""

import asyncio
import atexit
import os
import shutil
import threading

import kaleido
import plotly.graph_objects as go

from contracts.charts import LEVEL_MARKER, OKABE_ITO, THRESHOLD_STYLE
from contracts.choices import SignalLevel


def browser_path() -> str | None:
    return (
        os.environ.get("KALEIDO_BROWSER_PATH")
        or os.environ.get("BROWSER_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


TABS = 3  # tabs of the one Chromium: charts of a pack render side by side

_lock = threading.Lock()
_session = None


class _Session:
    """One kaleido (one Chromium, ``TABS`` tabs) living on an event loop in a daemon thread, so
    synchronous callers can hand it one figure or a whole batch (rendered concurrently)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="kaleido")
        self.thread.start()
        self.kaleido = kaleido.Kaleido(n=TABS, path=browser_path(), mathjax=False)
        self.run(self.kaleido.open())

    def run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()

    def close(self):
        try:
            self.run(self.kaleido.close())
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=10)


def _ensure_session() -> "_Session":
    """Start the process's kaleido session once (Chromium runs without its sandbox: choreographer
    passes --no-sandbox unless asked to enable it, which root in a container needs)."""
    global _session
    with _lock:
        if _session is None:
            _session = _Session()
            atexit.register(stop)
        return _session


def stop() -> None:
    global _session
    with _lock:
        if _session is not None:
            session, _session = _session, None
            session.close()


def _opts(width: int, height: int, scale: float) -> dict:
    return {"format": "png", "width": width, "height": height, "scale": scale}


def figure_png(fig: go.Figure, width: int = 800, height: int = 320, scale: float = 1.5) -> bytes:
    """The figure as PNG bytes (``scale`` > 1 keeps lines sharp when printed)."""
    session = _ensure_session()
    return session.run(session.kaleido.calc_fig(fig, opts=_opts(width, height, scale)))


def figures_png(figs, width: int = 800, height: int = 320, scale: float = 1.5) -> list[bytes]:
    """Several figures at once, in order, rendered concurrently on the session's tabs."""
    figs = list(figs)
    if not figs:
        return []
    session = _ensure_session()

    async def render_all():
        opts = _opts(width, height, scale)
        return await asyncio.gather(*(session.kaleido.calc_fig(fig, opts=opts) for fig in figs))

    return list(session.run(render_all()))


def snapshot_figure(row: dict) -> go.Figure:
    """The trend of one snapshot figure row: values per period with their level markers, and the
    contract's target, warning, breach and stop lines (colour and dash, as on screen)."""
    x = row.get("trend_periods") or list(range(len(row.get("trend") or [])))
    levels = row.get("trend_levels") or [SignalLevel.OK] * len(x)
    fallback = LEVEL_MARKER[SignalLevel.OK]
    fig = go.Figure(
        go.Scatter(
            x=x,
            y=row.get("trend") or [],
            mode="lines+markers",
            line={"color": OKABE_ITO["blue"], "width": 2},
            marker={
                "color": [LEVEL_MARKER.get(level, fallback)[0] for level in levels],
                "symbol": [LEVEL_MARKER.get(level, fallback)[1] for level in levels],
                "size": 8,
            },
            showlegend=False,
        )
    )
    for level, value in (row.get("thresholds") or {}).items():
        if value is None or level not in THRESHOLD_STYLE:
            continue
        colour, dash = THRESHOLD_STYLE[level]
        fig.add_hline(
            y=value,
            line={"color": colour, "dash": dash, "width": 1.5},
            annotation_text=f"{level} {value:g}",
            annotation_position="right",
            annotation_font={"size": 11, "color": colour},
        )
    fig.update_layout(
        title={
            "text": f"{row['name']} ({row['metric_id']}) · {row['evidence_level']}",
            "font": {"size": 14},
        },
        template="plotly_white",
        margin={"l": 50, "r": 90, "t": 40, "b": 30},
        yaxis={"title": {"text": row.get("unit") or ""}},
        font={"family": "Noto Sans, Noto Sans CJK SC, sans-serif"},
    )
    return fig
