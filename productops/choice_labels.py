"""A field's value in words (``get_<field>_display``), looked up in a table kept per field.

Django's own ``Model._get_FIELD_display`` rebuilds ``dict(make_hashable(field.flatchoices))`` on
every call, and making each (value, label) pair hashable hashes the label: a lazy translation,
so every call translates every label of the field. A board shows a state, a severity or a type
on hundreds of rows: on the portfolio board that was 3,400 translations a render (about a tenth
of its time). Here the table {value: lazy label} is built once per field and the one label
asked for is translated when asked, so the active language still decides the words.
"""

from functools import partialmethod

from django.apps import apps
from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable

_TABLES: dict[int, dict] = {}


def _table(field) -> dict | None:
    """{value: label} of a field with fixed choices; None when its choices are computed per
    call (a callable), which Django's own lookup serves."""
    table = _TABLES.get(id(field))
    if table is None:
        if not isinstance(field.choices, (list, tuple)):
            return None
        table = _TABLES[id(field)] = {make_hashable(value): label for value, label in field.flatchoices}
    return table


def _get_field_display(self, field):
    table = _table(field)
    if table is None:
        return _django_field_display(self, field)
    value = getattr(self, field.attname)
    return force_str(table.get(make_hashable(value), value), strings_only=True)


_django_field_display = models.Model._get_FIELD_display


def install() -> None:
    """Serve every model's ``get_<field>_display`` from the per-field tables (called once, from
    ``ProductOpsConfig.ready``). Django binds each of those methods to ``_get_FIELD_display``
    when the model class is built, so each is rebound here; a method a model defines itself is
    left alone."""
    for model in apps.get_models(include_auto_created=True):
        for name, method in list(vars(model).items()):
            if (
                isinstance(method, partialmethod)
                and method.func is _django_field_display
                and set(method.keywords) == {"field"}
            ):
                setattr(model, name, partialmethod(_get_field_display, field=method.keywords["field"]))
