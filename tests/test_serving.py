"""The web process's garbage collector is tuned at start-up (productops.serving)."""

import gc
import importlib

import pytest

from productops.serving import tune_garbage_collector


@pytest.fixture
def restored_gc():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_start_up_objects_are_frozen_and_the_young_threshold_raised(settings, restored_gc):
    settings.WEB_GC_THRESHOLD = 40_000
    middle, old = gc.get_threshold()[1:]
    assert tune_garbage_collector() == (40_000, middle, old)
    assert gc.get_threshold() == (40_000, middle, old)
    assert gc.get_freeze_count() > 10_000  # Django, the apps and their models


def test_zero_keeps_pythons_defaults(settings, restored_gc):
    settings.WEB_GC_THRESHOLD = 0
    before, frozen = gc.get_threshold(), gc.get_freeze_count()
    assert tune_garbage_collector() == before
    assert gc.get_freeze_count() == frozen


def test_the_wsgi_entry_point_tunes_it(settings, restored_gc):
    settings.WEB_GC_THRESHOLD = 30_000
    gc.set_threshold(700, 10, 10)
    import productops.wsgi

    importlib.reload(productops.wsgi)  # run the entry point again, as a new worker would
    assert gc.get_threshold()[0] == 30_000
