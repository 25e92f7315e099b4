"""Static chart images for printed packs: a Plotly figure to PNG with kaleido (>= 1.0), which
drives a headless Chromium. One kaleido session (one Chromium, a few tabs) per process, started on
first use and stopped at exit; /usr/bin/chromium unless KALEIDO_BROWSER_PATH (or BROWSER_PATH) says else.

Pack charts are drawn from the frozen snapshot (``snapshot_figure``), not from the database, so
a pack rebuilt later shows the trend as it was sent; they are drawn by the same function as the
boards' and the contract page's charts (``contracts.charts.trend_figure``), laid out for print.

Speed (bench/packs.py): a pack draws about a dozen charts. Two things cost most of that time
and are avoided here, with the same pictures as a result:

- kaleido reloads a tab (plotly.js, 4.8 MB of script) after every figure, a defensive reset.
  ``Plotly.toImage`` draws into a detached element it purges itself, so the page holds no state
  between figures; ``_ReusingKaleido`` reuses a tab for ``RELOAD_EVERY`` figures instead, and a
  failed render throws the whole session away (the next call starts a clean one).
- ``plotly.graph_objects`` validates every property of a figure in Python (~70 ms a chart);
  ``trend_figure`` writes the figure's JSON directly, as plotly.js reads it.
"""

import asyncio
import atexit
import os
import shutil
import threading

import kaleido
from django.utils.translation import gettext as _

from contracts.charts import THRESHOLD_STYLE, Series, Threshold, evidence_text, grain_label, trend_figure
from contracts.choices import Direction


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


# The threshold labels a frozen row's levels are drawn with (as on screen).
_THRESHOLD_LABELS = {"target": _("Target"), "warning": _("Warning"), "breach": _("Breach"), "stop": _("Stop")}


def _snapshot_thresholds(row: dict) -> list[Threshold]:
    """The row's threshold lines with the action rules frozen with it; a pack built before the
    rules were frozen knows only the warning action."""
    rules = row.get("threshold_rules") or {}
    lines = []
    for level, value in (row.get("thresholds") or {}).items():
        if value is None or level not in THRESHOLD_STYLE:
            continue
        rule = rules.get(level) or (row.get("action_rule") or "" if level == "warning" else "")
        lines.append(Threshold(level=level, label=str(_THRESHOLD_LABELS[level]), value=value, rule=rule))
    return lines


def snapshot_figure(row: dict) -> dict:
    """The trend of one frozen snapshot figure row as Plotly figure JSON, drawn by the charts'
    own ``contracts.charts.trend_figure`` (the board's and contract page's chart) laid out for
    print: values per period with their levels as colour and symbol, the contract's target,
    warning, breach and stop lines, the release markers frozen with the row. Everything comes
    from the row, nothing from the database, so a pack drawn again later is the same image."""
    values = list(row.get("trend") or [])
    periods = list(row.get("trend_periods") or range(len(values)))
    levels = row.get("trend_levels")
    line = Series(
        name=str(_("Whole population")),
        x=periods,
        y=values,
        sample=list(row.get("trend_samples") or [None] * len(values)),
        levels=list(levels) if levels else None,
    )
    direction = row.get("direction")
    grain = row.get("grain")
    subtitle = [
        evidence_text(row.get("evidence_level") or ""),
        str(Direction(direction).label) if direction in Direction.values else "",
        _("per %(grain)s") % {"grain": grain_label(grain)} if grain else "",
    ]
    return trend_figure(
        metric_id=row["metric_id"],
        name=row["name"],
        unit=row.get("unit") or "",
        lines=[line] if values else [],
        threshold_lines=_snapshot_thresholds(row),
        markers=[(marker["date"], marker["label"]) for marker in row.get("markers") or ()],
        subtitle=subtitle,
        x_title=_("Period start (%(grain)s)") % {"grain": grain_label(grain)} if grain else _("Period start"),
        meta={"cut": ""},
        for_print=True,
    )
