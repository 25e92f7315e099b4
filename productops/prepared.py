"""Prepared reads: the SQL a queryset compiles to, kept per process for the same inputs.

Why: a board cut to one capability runs some twenty statements that each take the database
0.3-1 ms, and building and compiling each one's queryset costs Django 1-5 ms more (a closure row
of seventeen filtered counts: 4 ms of Python for a 0.3 ms statement; ``bench/boards.py``). A
prepared read keeps the rule where it lives, in a queryset the ORM builds, and keeps only the
text of the statement it compiles to.

How: the builder is a pure function of its arguments (capability ids as a tuple, a date, a
person), so the same arguments always give the same statement. ``prepared`` keeps the compiled
statement per (builder, arguments) in a bounded cache; every call runs it and reads its rows
afresh, loaded as the queryset would have loaded them (model instances with their
``select_related`` relations and annotations, dicts, tuples or flat values; ``prefetch_related``
runs after, as usual). A builder must not read the clock, the request or the database: what it
depends on must be an argument, or the statement would be kept with a stale value.
"""

import collections
import dataclasses
import datetime
import functools
import threading
from dataclasses import dataclass

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Count
from django.db.models.query import (
    FlatValuesListIterable,
    ModelIterable,
    ValuesIterable,
    ValuesListIterable,
    get_related_populators,
    prefetch_related_objects,
)

from productops.reads import converted

# Distinct statements kept per process: each board's reads for each scope a reader opens it
# with, for the day, and the header's counts of each person. One kept statement holds some 14 KB
# (its SQL, and the columns and relations to load its rows; measured on the boards at scale):
# 14 MB at most per worker.
KEPT_STATEMENTS = 1024


@dataclass(frozen=True)
class Statement:
    """A queryset's compiled statement and what loading its rows needs. ``sql`` None: the
    queryset matches nothing by construction (an empty ``__in``), and runs no statement."""

    sql: str | None
    params: tuple
    kind: type
    converters: tuple = ()
    col_count: int | None = None
    names: tuple = ()
    klass_info: dict | None = None
    select: tuple = ()
    annotation_col_map: dict | None = None
    prefetch: tuple = ()
    slots: tuple = ()


# What a bound argument is compiled with, to find its places among the parameters: a moment no
# record holds.
STAND_IN = datetime.datetime(1900, 1, 1, tzinfo=datetime.UTC)

# Kept statements by (builder, arguments), the most recently used last.
_statements: collections.OrderedDict = collections.OrderedDict()
_lock = threading.Lock()

LOADERS = (ModelIterable, ValuesIterable, ValuesListIterable, FlatValuesListIterable)


def prepared(builder=None, *, bound: int = 0):
    """``builder(*args)`` returns a queryset; the decorated function returns its rows as a list
    (what ``list(queryset)`` gives), from the statement compiled once for those arguments.

    ``bound``: the last so many arguments are moments (datetimes) that change on every call (a
    window ending now): the statement is compiled once with stand-ins for them, and each call
    binds its own. Each must reach the statement as a parameter of its own, as it is (the builder
    compares a column with it, or selects it): compute ``now - 7 days`` before the call, not in
    the builder."""

    def decorate(builder):
        @functools.wraps(builder)
        def read(*args):
            split = len(args) - bound
            key = (builder, args[:split])
            statement, _first = _kept(key, lambda: (_statement(builder, args[:split], bound), None))
            if bound and statement.sql is not None:
                statement = _bind(statement, args[split:])
            return _rows(statement)

        return read

    return decorate(builder) if builder is not None else decorate


def prepared_counts(builder):
    """``builder(*args)`` returns ``(queryset, {name: Count(...)})``; the decorated function
    returns ``queryset.aggregate(**counts)`` (a dict of ints), from the statement compiled once
    for those arguments."""

    @functools.wraps(builder)
    def read(*args):
        (sql, params, names, empty), first = _kept((builder, args), lambda: _count_statement(builder, args))
        if first is not None:
            return first  # the statement just compiled ran once to be taken: its rows are fresh
        if sql is None:
            return dict(empty)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return dict(zip(names, row, strict=True))

    return read


def _kept(key: tuple, compile_it) -> tuple:
    """(the statement kept for ``key``, None), or when none is, (``compile_it()``'s statement,
    what compiling it read, if anything) after keeping it: the least recently used go first."""
    with _lock:
        found = _statements.get(key)
        if found is not None:
            _statements.move_to_end(key)
            return found, None
    statement, first = compile_it()
    with _lock:
        _statements[key] = statement
        while len(_statements) > KEPT_STATEMENTS:
            _statements.popitem(last=False)
    return statement, first


def _statement(builder, args: tuple, bound: int = 0) -> Statement:
    stand_ins = tuple(STAND_IN + datetime.timedelta(microseconds=index + 1) for index in range(bound))
    queryset = builder(*args, *stand_ins)
    kind = queryset._iterable_class
    if kind not in LOADERS or queryset._known_related_objects:
        raise TypeError(
            f"{builder.__qualname__}: a prepared read loads instances, values or values_list rows."
        )
    query = queryset.query
    compiler = query.get_compiler(using=queryset.db)
    prefetch = tuple(queryset._prefetch_related_lookups)
    try:
        sql, params = compiler.as_sql()
    except EmptyResultSet:
        return Statement(sql=None, params=(), kind=kind)
    fields = [column[0] for column in compiler.select[0 : compiler.col_count]]
    names = ()
    if kind is ValuesIterable:
        names = tuple(query.selected or (*query.extra_select, *query.values_select, *query.annotation_select))
    return Statement(
        sql=sql,
        params=tuple(params),
        slots=_slots(builder, tuple(params), stand_ins),
        kind=kind,
        converters=tuple(
            (position, expression, tuple(convert_all))
            for position, (convert_all, expression) in compiler.get_converters(fields).items()
        ),
        col_count=compiler.col_count if compiler.has_extra_select else None,
        names=names,
        klass_info=compiler.klass_info,
        select=tuple(compiler.select),
        annotation_col_map=compiler.annotation_col_map,
        prefetch=prefetch,
    )


def _slots(builder, params: tuple, stand_ins: tuple) -> tuple:
    """(position in the parameters, which bound argument) of each place a stand-in went."""
    adapt = connection.ops.adapt_datetimefield_value
    slots = []
    for index, stand_in in enumerate(stand_ins):
        found = [position for position, value in enumerate(params) if value in (stand_in, adapt(stand_in))]
        if not found:
            raise TypeError(
                f"{builder.__qualname__}: bound argument {index + 1} does not reach the statement as it is."
            )
        slots += [(position, index) for position in found]
    return tuple(slots)


def _bind(statement: Statement, moments: tuple) -> Statement:
    """The statement with these moments in their places (adapted as the ORM adapts a datetime)."""
    adapt = connection.ops.adapt_datetimefield_value
    params = list(statement.params)
    for position, index in statement.slots:
        params[position] = adapt(moments[index])
    return dataclasses.replace(statement, params=tuple(params))


def _count_statement(builder, args: tuple) -> tuple:
    """((sql, params, names, None), the counts read), or ((None, (), (), the counts), None) when
    the queryset matches nothing by construction. The statement is the one ``aggregate`` runs,
    taken as it runs."""
    queryset, counts = builder(*args)
    if not all(isinstance(count, Count) for count in counts.values()):
        raise TypeError(f"{builder.__qualname__}: a prepared count takes Count aggregates only.")
    taken = []

    def take(execute, sql, params, many, context):
        taken.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(take):
        result = queryset.order_by().aggregate(**counts)
    if not taken:
        return (None, (), (), tuple(result.items())), None
    (sql, params), names = taken[0], tuple(result)
    return (sql, params, names, None), result


def _rows(statement: Statement) -> list:
    if statement.sql is None:
        return []
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, statement.params)
        rows = cursor.fetchall()
    if statement.col_count is not None:
        rows = [row[: statement.col_count] for row in rows]
    if statement.converters:
        rows = [converted(row, statement.converters) for row in rows]
    if statement.kind is ModelIterable:
        return _instances(statement, rows)
    if statement.kind is ValuesIterable:
        return [dict(zip(statement.names, row, strict=True)) for row in rows]
    if statement.kind is FlatValuesListIterable:
        return [row[0] for row in rows]
    return [tuple(row) for row in rows]


def forget() -> None:
    """Drop every kept statement (tests that count compilations start from none)."""
    with _lock:
        _statements.clear()


def _instances(statement: Statement, rows) -> list:
    """The rows as ``ModelIterable`` loads them: an instance each, with its ``select_related``
    relations and annotations; then its ``prefetch_related`` lookups."""
    klass_info, select, db = statement.klass_info, statement.select, connection.alias
    model = klass_info["model"]
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    attnames = [column[0].target.attname for column in select[start:end]]
    populators = get_related_populators(klass_info, list(select), db)
    annotations = list((statement.annotation_col_map or {}).items())
    found = []
    for row in rows:
        item = model.from_db(db, attnames, row[start:end])
        for populator in populators:
            populator.populate(row, item)
        for name, position in annotations:
            setattr(item, name, row[position])
        found.append(item)
    if statement.prefetch and found:
        prefetch_related_objects(found, *statement.prefetch)
    return found
