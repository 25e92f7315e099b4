"""The boards' figure words (forums.meeting: a level in words, a change in points) are
translated once per language and kept: a kept phrase still follows the active language."""

import pytest
from django.utils import translation

from contracts.choices import SignalLevel
from contracts.models import MetricContract
from forums import meeting


@pytest.fixture
def tagged(monkeypatch):
    # No catalogue ships these phrases yet: a stand-in gettext marks each with its language.
    monkeypatch.setattr(meeting, "gettext", lambda message: f"[{translation.get_language()}] {message}")
    meeting._points_in.cache_clear()
    yield
    meeting._points_in.cache_clear()


def test_a_change_in_points_follows_the_active_language(tagged):
    share = MetricContract(unit="share")
    with translation.override("en"):
        assert meeting.delta_text(share, 0.031) == "[en] +3.1 pts"
    with translation.override("zh-hans"):
        assert meeting.delta_text(share, -0.0004) == "[zh-hans] ±0.0 pts"
    with translation.override("en"):
        assert meeting.delta_text(MetricContract(unit="%"), 2.0) == "[en] +2.0 pts"


@pytest.fixture
def tagged_labels(monkeypatch):
    # The levels' labels are lazy translations: the stand-in goes where they are translated.
    monkeypatch.setattr(
        translation._trans,
        "gettext",
        lambda message: f"[{translation.get_language()}] {message}",
        raising=False,
    )
    meeting._level_labels_in.cache_clear()
    yield
    meeting._level_labels_in.cache_clear()


def test_a_level_in_words_follows_the_active_language(tagged_labels):
    with translation.override("en"):
        assert meeting.level_label(SignalLevel.BREACH) == "[en] Breach"
    with translation.override("zh-hans"):
        assert meeting.level_label("breach") == "[zh-hans] Breach"
        assert meeting.level_label("no-such-level") == "no-such-level"
    with translation.override("en"):
        assert meeting.level_label("breach") == "[en] Breach"
