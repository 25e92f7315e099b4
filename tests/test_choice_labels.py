"""get_<field>_display served from a table per field (productops.choice_labels): the same words
as Django's own lookup, the raw value for a value outside the choices, labels still translated
when asked (the table keeps them lazy), and every model's display methods rebound."""

from functools import partialmethod

from django.apps import apps
from django.db import models
from django.utils.functional import Promise

from actions.models import Action
from decisions.choices import DecisionType
from decisions.models import Decision
from productops import choice_labels


def test_the_label_of_each_choice_and_the_raw_value_outside_them():
    for value, label in DecisionType.choices:
        shown = Decision(type=value).get_type_display()
        assert shown == str(label) and type(shown) is str
    assert Decision(type="not-a-type").get_type_display() == "not-a-type"


def test_the_table_keeps_labels_lazy_so_the_active_language_decides():
    Decision(type="restrict").get_type_display()
    table = choice_labels._table(Decision._meta.get_field("type"))
    assert isinstance(table["restrict"], Promise)


def test_history_models_are_served_too():
    assert Action.history.model(status="closed").get_status_display() == "Closed"


def test_no_model_keeps_djangos_own_display_lookup():
    left = [
        f"{model.__name__}.{name}"
        for model in apps.get_models(include_auto_created=True)
        for name, method in vars(model).items()
        if isinstance(method, partialmethod) and method.func is models.Model._get_FIELD_display
    ]
    assert left == []
