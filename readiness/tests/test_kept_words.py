"""The questions' words are translated once per language and kept (the portfolio board asks them
of every capability): a kept phrase still follows the language active when it is asked."""

import pytest
from django.utils import translation

from readiness import questions
from readiness.tests import world as w

pytestmark = pytest.mark.django_db


@pytest.fixture
def tagged(monkeypatch):
    # The project ships no catalogue for these phrases yet: a stand-in gettext marks each phrase
    # with the language it was translated in.
    monkeypatch.setattr(questions, "gettext", lambda message: f"[{translation.get_language()}] {message}")
    questions._translated.cache_clear()
    questions._core_forum_words.cache_clear()
    yield
    questions._translated.cache_clear()
    questions._core_forum_words.cache_clear()


def gaps(capability):
    readiness = questions.capability_readiness(capability, today=w.TODAY)
    return readiness.state_label, {answer.key: answer.gap for answer in readiness.answers}


def test_a_kept_phrase_follows_the_active_language(tagged, capability):
    with translation.override("en"):
        en_label, en = gaps(capability)
    with translation.override("zh-hans"):
        zh_label, zh = gaps(capability)
    with translation.override("en"):
        assert gaps(capability) == (en_label, en)
    assert en_label == "[en] Only running" and zh_label == "[zh-hans] Only running"
    assert en["valid_assumptions"].startswith("[en] The assumption ledger of")
    assert zh["valid_assumptions"].startswith("[zh-hans] The assumption ledger of")
    assert zh["forum_decisions"].startswith("[zh-hans] No weekly ops review covers")
