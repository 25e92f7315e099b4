"""Static chart images for printed packs: a Plotly figure to PNG with kaleido (>= 1.0), which
drives a headless Chromium. One kaleido session (one Chromium, a few tabs) per process, started on
first use and stopped at exit; /usr/bin/chromium unless KALEIDO_BROWSER_PATH (or BROWSER_PATH) says else.

Pack charts are drawn from the frozen snapshot (``snapshot_figure``), not from the database, so
a pack rebuilt later shows the trend as it was sent; they use the styles of contracts.charts.

Speed (bench/packs.py): a pack draws about a dozen charts. Two things cost most of that time
and are avoided here, with the same pictures as a result:

- kaleido reloads a tab (plotly.js, 4.8 MB of script) after every figure, a defensive reset.
  ``Plotly.toImage`` draws into a detached element it purges itself, so the page holds no state
  between figures; ``_ReusingKaleido`` reuses a tab for ``RELOAD_EVERY`` figures instead, and a
  failed render throws the whole session away (the next call starts a clean one).
- ``plotly.graph_objects`` validates every property of a figure in Python (~70 ms a chart);
  ``snapshot_figure`` writes the figure's JSON directly, as plotly.js reads it.
"""

import asyncio
import atexit
import functools
import os
import shutil
import threading

import kaleido

from contracts.charts import LEVEL_MARKER, OKABE_ITO, THRESHOLD_STYLE, _text
from contracts.choices import SignalLevel


def browser_path() -> str | None:
    return (
        os.environ.get("KALEIDO_BROWSER_PATH")
        or os.environ.get("BROWSER_PATH")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


# Tabs of the one Chromium: charts of a pack render side by side. Two, for the two CPUs of the
# machines we run on: a third tab measured slower, not faster (bench/README.md, Packs).
TABS = 2
# A tab is reloaded (a fresh plotly.js page) after this many figures: a bound on anything a
# long-lived worker's page might accumulate, at the cost of one reload per RELOAD_EVERY charts.
RELOAD_EVERY = 200

_lock = threading.Lock()
_session = None


class _ReusingKaleido(kaleido.Kaleido):
    """kaleido.Kaleido that puts a tab back without reloading it, except every RELOAD_EVERY
    figures (see the module docstring for why that is safe for PNG output)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._uses: dict[str, int] = {}

    async def _return_kaleido_tab(self, tab) -> None:
        key = tab.tab.target_id
        self._uses[key] = self._uses.get(key, 0) + 1
        if self._uses[key] >= RELOAD_EVERY:
            self._uses[key] = 0
            await tab.reload()
        await self.tabs_ready.put(tab)


class _Session:
    """One kaleido (one Chromium, ``TABS`` tabs) living on an event loop in a daemon thread, so
    synchronous callers can hand it one figure or a whole batch (rendered concurrently)."""

    def __init__(self):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True, name="kaleido")
        self.thread.start()
        self.kaleido = _ReusingKaleido(n=TABS, path=browser_path(), mathjax=False)
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


def _discard_session(session: "_Session") -> None:
    """After a failed render: close that session (if it is still the current one) so the next
    call starts a clean Chromium rather than reusing a tab in an unknown state."""
    global _session
    with _lock:
        if _session is session:
            _session = None
        else:
            return
    try:
        session.close()
    except Exception:  # a crashed browser may not close cleanly; it is gone either way
        pass


def _opts(width: int, height: int, scale: float) -> dict:
    return {"format": "png", "width": width, "height": height, "scale": scale}


def figure_png(fig, width: int = 800, height: int = 320, scale: float = 1.5) -> bytes:
    """The figure (a plotly Figure or its JSON dict) as PNG bytes (``scale`` > 1 keeps lines
    sharp when printed)."""
    return figures_png([fig], width=width, height=height, scale=scale)[0]


def figures_png(figs, width: int = 800, height: int = 320, scale: float = 1.5) -> list[bytes]:
    """Several figures at once, in order, rendered concurrently on the session's tabs."""
    figs = list(figs)
    if not figs:
        return []
    session = _ensure_session()

    async def render_all():
        opts = _opts(width, height, scale)
        return await asyncio.gather(*(session.kaleido.calc_fig(fig, opts=opts) for fig in figs))

    try:
        return list(session.run(render_all()))
    except Exception:
        _discard_session(session)
        raise


@functools.cache
def _white_template() -> dict:
    """Plotly's "plotly_white" template as plotly.js reads it (plotly.js knows no template
    names: the Python side always sends the template itself)."""
    import plotly.io as pio

    return pio.templates["plotly_white"].to_plotly_json()


def _threshold(level: str, value: float) -> tuple[dict, dict]:
    """The horizontal line of one threshold across the plot and its label at the right edge
    (what ``Figure.add_hline`` writes)."""
    colour, dash = THRESHOLD_STYLE[level]
    line = {
        "type": "line",
        "xref": "x domain",
        "x0": 0,
        "x1": 1,
        "yref": "y",
        "y0": value,
        "y1": value,
        "line": {"color": colour, "dash": dash, "width": 1.5},
    }
    label = {
        "xref": "x domain",
        "x": 1,
        "xanchor": "left",
        "yref": "y",
        "y": value,
        "yanchor": "middle",
        "text": f"{level} {value:g}",
        "showarrow": False,
        "font": {"size": 11, "color": colour},
    }
    return line, label


def snapshot_figure(row: dict) -> dict:
    """The trend of one snapshot figure row as Plotly figure JSON: values per period with their
    level markers, and the contract's target, warning, breach and stop lines (colour and dash,
    as on screen)."""
    x = row.get("trend_periods") or list(range(len(row.get("trend") or [])))
    levels = row.get("trend_levels") or [SignalLevel.OK] * len(x)
    fallback = LEVEL_MARKER[SignalLevel.OK]
    shapes, annotations = [], []
    for level, value in (row.get("thresholds") or {}).items():
        if value is None or level not in THRESHOLD_STYLE:
            continue
        line, label = _threshold(level, value)
        shapes.append(line)
        annotations.append(label)
    trace = {
        "type": "scatter",
        "x": list(x),
        "y": list(row.get("trend") or []),
        "mode": "lines+markers",
        "line": {"color": OKABE_ITO["blue"], "width": 2},
        "marker": {
            "color": [LEVEL_MARKER.get(level, fallback)[0] for level in levels],
            "symbol": [LEVEL_MARKER.get(level, fallback)[1] for level in levels],
            "size": 8,
        },
        "showlegend": False,
    }
    title = f"{_text(row['name'])} ({_text(row['metric_id'])}) · {_text(row['evidence_level'])}"
    return {
        "data": [trace],
        "layout": {
            "template": _white_template(),
            "title": {"text": title, "font": {"size": 14}},
            "margin": {"l": 50, "r": 90, "t": 40, "b": 30},
            "yaxis": {"title": {"text": _text(row.get("unit") or "")}},
            "font": {"family": "Noto Sans, Noto Sans CJK SC, sans-serif"},
            "shapes": shapes,
            "annotations": annotations,
        },
    }
