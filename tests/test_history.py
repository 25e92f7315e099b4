import pytest

from productops.history import history_entries

pytestmark = pytest.mark.django_db


def test_history_shows_who_changed_which_field_with_labels_not_codes(capability, pm):
    capability._history_user = pm
    capability.risk_tier = "critical"
    capability.save()
    [latest, created] = history_entries(capability)
    assert created.kind == "created"
    assert latest.who == pm
    [change] = latest.changes
    assert (change.label, change.old, change.new) == ("risk tier", "Medium", "Critical")


def test_saves_that_change_nothing_are_left_out(capability):
    capability.save()
    assert [entry.kind for entry in history_entries(capability)] == ["created"]
