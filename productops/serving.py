"""How a web process serves pages: its garbage collector, tuned once at start-up.

A board render allocates hundreds of thousands of short-lived objects (rows, figures, HTML
pieces). With CPython's default thresholds (a young collection every 700 allocations, a full one
every 100 young ones) a render ran 20-40 young and 2-4 older collections, and every few renders a
full one that walked every module, model and URL pattern loaded at start-up: 5-10% of a board's
time (measured on the demo at 1,000,000 observations). So, as large Python web services do:

- ``gc.freeze()`` after start-up moves everything loaded so far out of the collector's sight (it
  lives as long as the process anyway);
- the young generation collects every ``WEB_GC_THRESHOLD`` allocations (default 50,000) instead
  of 700 (the setting of the same name). Cyclic garbage is still collected; between two collections it can hold a few MB more.

``WEB_GC_THRESHOLD=0`` leaves Python's defaults. Called by ``productops.wsgi`` (gunicorn, each
worker) and by ``bench/boards.py`` so that the benchmark measures what production runs.
"""

import gc

from django.conf import settings


def tune_garbage_collector() -> tuple[int, int, int]:
    """Freeze what start-up loaded and raise the young generation's threshold (unless
    ``WEB_GC_THRESHOLD`` is 0). Returns the thresholds in force."""
    threshold = settings.WEB_GC_THRESHOLD
    if threshold:
        gc.collect()
        gc.freeze()
        _young, middle, old = gc.get_threshold()
        gc.set_threshold(threshold, middle, old)
    return gc.get_threshold()
