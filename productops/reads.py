"""Hand-written reads for the pages many people open before a forum (the boards, the evidence
binder, the readiness section of the portfolio board).

Why not the ORM there: turning a queryset into SQL costs Django some 0.5-1 ms a statement
(measured on the boards at scale, ``bench/boards.py``'s ``board_<name>_orm_ms``), and a board
issues twenty to thirty of them; building a model instance per row costs more again. These reads
are plain parameterised SQL that runs on PostgreSQL and on SQLite (the zero-setup demo), their
rows converted to Python values exactly as the ORM would load them into the model's fields.
Reads whose filters carry a domain rule stay querysets, made as cheap by ``productops.prepared``
(each compiled once for the same arguments).
"""

import functools

from django.db import connection


def placeholders(values) -> str:
    """``%s, %s, ...`` for the values of an ``IN (...)``; ``NULL`` (matching nothing) for none."""
    return ", ".join(["%s"] * len(values)) or "NULL"


def loaded_values(row, fields) -> list:
    """A raw cursor's ``row`` with each value as the ORM loads it into the model field at its
    place (``None`` in ``fields``: the value as it came). SQLite returns dates, times and the
    minimum of a date column as text; PostgreSQL returns what the field holds."""
    return converted(row, _converters(connection.vendor, tuple(fields)))


def converted(row, plan: tuple) -> list:
    """``row`` with ``plan``'s converters applied at their places: (position, column or
    expression, its converters), as ``_converters`` works them out (``productops.prepared`` too,
    from the compiler)."""
    values = list(row)
    for index, column, converters in plan:
        value = values[index]
        if value is not None:
            for convert in converters:
                value = convert(value, column, connection)
            values[index] = value
    return values


@functools.cache
def _converters(vendor: str, fields: tuple) -> tuple:
    """(position, column, its converters) of each of ``fields`` whose values the ORM converts on
    this kind of database (worked out once: a board reads the same columns on every render)."""
    found = []
    for index, model_field in enumerate(fields):
        if model_field is None:
            continue
        column = model_field.get_col(model_field.model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if converters:
            found.append((index, column, tuple(converters)))
    return tuple(found)


def fetch(sql: str, params, fields=None) -> list[tuple]:
    """The rows of ``sql``; with ``fields`` (one model field, or None, per column) each value as
    the ORM would load it."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    plan = _converters(connection.vendor, tuple(fields)) if fields is not None else ()
    if not plan:
        return rows
    # The plan is looked up once a read, not once a row (its key hashes every field).
    return [tuple(converted(row, plan)) for row in rows]


@functools.cache
def column_list(model, alias: str) -> str:
    """Every column of ``model`` on the table aliased ``alias``, in field order: what
    ``instance`` takes back (worked out once: the same read runs on every request)."""
    return ", ".join(
        f"{alias}.{connection.ops.quote_name(field.column)}" for field in model._meta.concrete_fields
    )


def instance(model, values):
    """The instance of ``model`` the ORM would load from ``values`` (every column, in field
    order, as ``column_list`` selects them and ``loaded_values`` converts them)."""
    return model.from_db(connection.alias, [field.attname for field in model._meta.concrete_fields], values)


def instances_of(row, *models) -> list:
    """A joined row (``column_list`` of each model in turn) as one instance of each, or None
    for a model whose columns are all NULL (an outer join that found nothing)."""
    found, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        values = row[start : start + width]
        start += width
        found.append(None if all(value is None for value in values) else instance(model, list(values)))
    return found


def loaded(model, db: str | None = None, /, **values):
    """An instance of ``model`` as the ORM loads one from ``db`` (the default database when not
    given) with only the columns ``values`` names by attribute name (the rest deferred, read on
    first use)."""
    names = [field.attname for field in model._meta.concrete_fields if field.attname in values]
    return model.from_db(db or connection.alias, names, [values[name] for name in names])


def raw_instances(model, sql: str, params) -> list:
    """``list(model.objects.raw(sql, params))`` without the raw queryset's per-statement set-up:
    each row as an instance of ``model`` with the columns named like its fields loaded (converted
    as the ORM loads them; the others deferred) and any other column set as an attribute of that
    name. The row must name the primary key, as a raw queryset requires."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = tuple(column[0] for column in cursor.description)
        rows = cursor.fetchall()
    positions, attnames, fields, extra = _raw_layout(model, names)
    plan = _converters(connection.vendor, fields)
    db = connection.alias
    found = []
    for row in rows:
        values = converted([row[position] for position in positions], plan)
        item = model.from_db(db, attnames, values)
        for position, name in extra:
            setattr(item, name, row[position])
        found.append(item)
    return found


@functools.cache
def _raw_layout(model, names: tuple) -> tuple:
    """Where a raw read's columns go on ``model``: the positions, attribute names and fields of
    the columns that are its fields (in field order, as ``Model.from_db`` takes them), and
    (position, name) of the other columns."""
    by_column = {field.column: field for field in model._meta.concrete_fields}
    if model._meta.pk.column not in names:
        raise ValueError(f"A raw read of {model.__name__} must name its primary key.")
    position_of = {name: position for position, name in enumerate(names)}
    fields = [field for field in model._meta.concrete_fields if field.column in position_of]
    extra = tuple((position, name) for position, name in enumerate(names) if name not in by_column)
    return (
        tuple(position_of[field.column] for field in fields),
        [field.attname for field in fields],
        tuple(fields),
        extra,
    )


@functools.cache
def fields_of(model, *names: str) -> tuple:
    """The fields of ``model`` by name (an attribute name such as ``capability_id`` too), one per
    column of a hand-written read, for ``fetch`` to load the values as the ORM would; None for a
    name that is no field (a computed column: a count, an EXISTS)."""
    from django.core.exceptions import FieldDoesNotExist

    found = []
    for name in names:
        try:
            found.append(model._meta.get_field(name))
        except FieldDoesNotExist:
            found.append(None)
    return tuple(found)


def ordering_sql(model, alias: str) -> str:
    """``model``'s default ordering (``Meta.ordering``, e.g. ``["-started_at", "-id"]``) as the
    ORDER BY of a hand-written read on the table aliased ``alias``, so that the model keeps the
    one definition of its order."""
    terms = []
    for name in model._meta.ordering:
        descending = name.startswith("-")
        field = model._meta.get_field(name.lstrip("-"))
        terms.append(f"{alias}.{connection.ops.quote_name(field.column)}{' DESC' if descending else ''}")
    return ", ".join(terms)
