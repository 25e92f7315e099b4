"""Observation ingest: telemetry rows in, observations upserted, the touched contracts queued for
evaluation.

One path serves the JSON API, the CSV upload job, the demo data and the commands:
``validate_rows`` checks a batch in plain Python (one query for the contracts, no serializer per
row), ``observations_ingest`` writes it all or nothing. On PostgreSQL the batch is COPYed into a
temporary staging table and merged with one ``INSERT ... ON CONFLICT DO UPDATE``; a row identical
to the stored one is left alone, so re-sending a batch changes nothing (not even ``ingested_at``).

The upsert key is (contract, grain, period start, cohort key, version key): the canonical texts
of the cohort and the version set (``contracts.models.cohort_key``).
"""

import contextlib
import csv
import datetime
import gc
import io
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from math import isfinite

from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from contracts.choices import Grain
from contracts.models import ImportJob, MetricContract, Observation
from productops.errors import DomainError
from productops.jobs import enqueue
from productops.permissions import can_change, can_view, require_change, role_map
from productops.roles import Activity, Role, roles_that_change

logger = logging.getLogger(__name__)

MAX_ROWS_PER_REQUEST = 10_000
# Rows validated and written at a time by the CSV job (bounded memory, steady progress).
CHUNK_ROWS = 5_000
# The CSV job lists this many errors on its page, then says how many more there were.
MAX_LISTED_ERRORS = 200
MAX_UPLOAD_BYTES = 200 * 1024 * 1024
# A write that loses a deadlock or a serialization check is tried this many times in all.
WRITE_ATTEMPTS = 3
RETRYABLE = {"40P01", "40001"}  # deadlock_detected, serialization_failure

FIELDS = frozenset(
    {
        "contract",
        "period_start",
        "grain",
        "cohort",
        "version_set",
        "value",
        "numerator",
        "denominator",
        "sample_size",
        "source",
    }
)
GRAINS = frozenset(Grain.values)
# Column sizes of the observation table: a longer text would make the database refuse the batch.
KEY_MAX = Observation._meta.get_field("cohort_key").max_length
SOURCE_MAX = Observation._meta.get_field("source").max_length
# PostgreSQL stores no NUL character in text or JSON: a row holding one is refused, naming it.
NUL = "\x00"
SAMPLE_MAX = 2_147_483_647  # PositiveIntegerField on PostgreSQL
# Set by the CSV reader on a line with more cells than the header has columns.
EXTRA_CELLS = "__cells__"


def _nul_refused() -> str:
    return str(ProhibitNullCharactersValidator.message)


# The columns a clean row carries, in this order (the staging table and COPY use the same order).
COLUMNS = (
    "contract_id",
    "grain",
    "period_start",
    "cohort",
    "cohort_key",
    "version_set",
    "version_key",
    "value",
    "numerator",
    "denominator",
    "sample_size",
    "source",
)
UPSERT_KEY = ("contract_id", "grain", "period_start", "cohort_key", "version_key")
UPDATED = ("value", "numerator", "denominator", "sample_size", "source", "cohort", "version_set")


@contextlib.contextmanager
def gc_paused():
    """Pause Python's cyclic garbage collector while a batch is parsed, checked and written.

    A 5,000-row batch allocates some 75,000 dicts and tuples, none of them in a reference cycle;
    the collector would walk them again and again as they pile up (a quarter of the parsing and
    validation time, measured). Reference counting still frees everything; the collector runs
    when the batch is done.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class IngestRejected(DomainError):
    """A batch with at least one bad row: nothing was written. ``errors`` lists every bad row and
    field as ``{"row": n, "field": name, "error": message}`` (rows counted from 1)."""

    status_code = 400

    def __init__(self, errors: list[dict], *, total: int | None = None):
        self.errors = errors
        self.total = len(errors) if total is None else total
        message = ngettext(
            "%(count)d error: nothing was written.", "%(count)d errors: nothing was written.", self.total
        ) % {"count": self.total}
        super().__init__(message, code="ingest_rejected")

    def as_dict(self) -> dict:
        return {"errors": self.errors}


@dataclass(frozen=True)
class IngestResult:
    """What a batch changed: rows inserted or changed (identical rows are not counted), and the
    contracts those rows belong to (queued for evaluation)."""

    written: int
    touched_contract_ids: frozenset[int]
    received: int = 0
    touched_metric_ids: tuple[str, ...] = field(default=())
    # The earliest period among the changed rows: evaluation re-reads from there on.
    since: datetime.date | None = None

    @property
    def unchanged(self) -> int:
        return self.received - self.written


@dataclass(frozen=True)
class _Contract:
    id: int
    metric_id: str
    dimensions: frozenset[str]
    # None when the person may ingest for it; else the message shown for each row naming it.
    refusal: str | None


def may_ingest_anywhere(user) -> bool:
    """True when the person holds a role that may change metric contracts on some capability
    (the API answers 403 to anyone else before reading the body)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    allowed = roles_that_change(Activity.METRIC_CONTRACT) - {Role.VIEWER}
    return any(roles & allowed for roles in role_map(user).values())


class RowValidator:
    """Checks batches of observation rows against the contracts, the grains and the person's rights.

    Keeps what it learnt between batches (contracts, parsed periods, canonical keys), and the
    upsert keys already seen so that a duplicate in a later chunk of the same file is caught.
    ``compact_keys`` remembers a 64-bit hash of each key instead of the key itself (a CSV of
    millions of rows would otherwise hold them all in memory).
    """

    def __init__(self, *, user=None, capability=None, track_duplicates=True, compact_keys=False):
        self.user = user
        self.capability_id = getattr(capability, "pk", capability)
        self.track_duplicates = track_duplicates
        self.compact_keys = compact_keys
        self.seen: dict = {}
        self._contracts: dict[str, _Contract | None] = {}
        self._periods: dict[tuple[str, str], datetime.date | str] = {}
        self._json: dict[str, str] = {}
        self._mappings: dict[tuple, tuple[str, str]] = {}

    # Contracts -------------------------------------------------------------------------------

    def _load_contracts(self, rows) -> None:
        """One query for the metric ids of the batch that are not known yet."""
        wanted = set()
        for row in rows:
            if type(row) is dict:
                metric = row.get("contract")
                if type(metric) is str and metric not in self._contracts:
                    wanted.add(metric)
        if not wanted:
            return
        # A NUL cannot be in a stored metric id (and PostgreSQL refuses it in a query).
        found = MetricContract.objects.filter(metric_id__in=[m for m in wanted if NUL not in m]).values_list(
            "metric_id", "id", "capability_id", "cohort_dimensions"
        )
        for metric, pk, capability_id, dimensions in found:
            self._contracts[metric] = _Contract(
                pk, metric, frozenset(dimensions or ()), self._refusal(metric, capability_id)
            )
        for metric in wanted - self._contracts.keys():
            self._contracts[metric] = None

    def _refusal(self, metric: str, capability_id: int) -> str | None:
        user = self.user
        if user is not None and not can_view(user, capability_id):
            # The same words as for a contract that does not exist: an outsider learns nothing.
            return _unknown(metric)
        if self.capability_id is not None and capability_id != self.capability_id:
            return _("The contract “%(id)s” belongs to another capability than this import’s.") % {
                "id": metric
            }
        if user is not None and not can_change(user, Activity.METRIC_CONTRACT, capability_id):
            return _("Your roles do not allow you to ingest observations for “%(id)s”.") % {"id": metric}
        return None

    # Rows --------------------------------------------------------------------------------------

    def _period(self, grain: str, text) -> datetime.date | str:
        """The period's start date, or the message saying what is wrong with it (cached)."""
        cache_key = (grain, text)
        found = self._periods.get(cache_key)
        if found is not None:
            return found
        try:
            day = datetime.date.fromisoformat(text)
            if len(text) != 10:
                raise ValueError
        except ValueError:
            result = _("“%(value)s” is not a date; use YYYY-MM-DD.") % {"value": text}
        else:
            if grain == Grain.WEEK and day.weekday() != 0:
                result = _("A weekly period starts on a Monday; %(date)s is a %(weekday)s.") % {
                    "date": text,
                    "weekday": WEEKDAYS[day.weekday()],
                }
            elif grain == Grain.MONTH and day.day != 1:
                result = _("A monthly period starts on the 1st; %(date)s does not.") % {"date": text}
            else:
                result = day
        if len(self._periods) < 100_000:
            self._periods[cache_key] = result
        return result

    def _as_json(self, key: str, mapping: dict) -> str:
        # The canonical key determines the mapping (values hold no "|"), so one dump per key.
        text = self._json.get(key)
        if text is None:
            # Escaped like Django's JSONField, so SQLite compares the same text (PostgreSQL: jsonb).
            text = json.dumps(mapping, sort_keys=True)
            if len(self._json) < 100_000:
                self._json[key] = text
        return text

    def validate(self, rows: list, *, first_row: int = 1, lines: list[int] | None = None):
        """(clean rows, errors) for one batch. A clean row is a tuple in ``COLUMNS`` order; a row
        with any error yields no clean row. Errors are ``{"row", "field", "error"}`` dicts (with
        ``"line"``, the line in the file, when ``lines`` is given)."""
        self._load_contracts(rows)
        contracts = self._contracts
        seen = self.seen
        track = self.track_duplicates
        compact = self.compact_keys
        clean: list[tuple] = []
        errors: list[dict] = []

        def add(index, name, message):
            error = {"row": first_row + index, "field": name, "error": message}
            if lines is not None:
                error["line"] = lines[index]
            errors.append(error)

        for index, row in enumerate(rows):
            if type(row) is not dict:
                add(index, "non_field_errors", _("Each row must be an object of field: value pairs."))
                continue
            before = len(errors)

            if not FIELDS.issuperset(row):
                cells = row.get(EXTRA_CELLS)
                if cells:
                    add(
                        index,
                        "non_field_errors",
                        _("This line has %(cells)d cells; the header has %(width)d.")
                        % {"cells": cells[0], "width": cells[1]},
                    )
                for name in sorted(set(row) - FIELDS - {EXTRA_CELLS}, key=str):
                    add(index, str(name), _("Unknown field; the fields are %(fields)s.") % _FIELD_LIST)

            # Contract
            contract = None
            metric = row.get("contract")
            if metric is None or metric == "":
                add(index, "contract", _("Name the contract by its metric id."))
            elif type(metric) is not str:
                add(index, "contract", _("Give the contract’s metric id as text."))
            elif NUL in metric:
                add(index, "contract", _nul_refused())
            else:
                contract = contracts.get(metric)
                if contract is None:
                    add(index, "contract", _unknown(metric))
                elif contract.refusal is not None:
                    add(index, "contract", contract.refusal)
                    contract = None

            # Grain and period
            grain = row.get("grain")
            if grain is None or grain == "":
                grain = "day"
            elif type(grain) is not str or grain not in GRAINS:
                add(
                    index,
                    "grain",
                    _("“%(value)s” is not a grain; use day, week or month.") % {"value": grain},
                )
                grain = None
            period = None
            text = row.get("period_start")
            if text is None or text == "":
                add(index, "period_start", _("The period start is required (YYYY-MM-DD)."))
            elif type(text) is not str:
                add(index, "period_start", _("Give the period start as text, YYYY-MM-DD."))
            elif grain is not None:
                period = self._period(grain, text)
                if type(period) is str:
                    add(index, "period_start", period)
                    period = None

            # Cohort and version set
            cohort_text, ckey = self._mapping(index, row.get("cohort"), "cohort", contract, add)
            version_text, vkey = self._mapping(index, row.get("version_set"), "version_set", None, add)

            # Numbers
            value = row.get("value")
            if not (type(value) is float and isfinite(value)):
                value = _number(value)
            if value is None:
                add(index, "value", _("The value is required."))
            elif type(value) is str:
                add(index, "value", value)
                value = None
            numerator = row.get("numerator")
            if numerator is not None and not (type(numerator) is float and isfinite(numerator)):
                numerator = _number(numerator)
            if type(numerator) is str:
                add(index, "numerator", numerator)
                numerator = False
            denominator = row.get("denominator")
            if denominator is not None and not (type(denominator) is float and isfinite(denominator)):
                denominator = _number(denominator)
            if type(denominator) is str:
                add(index, "denominator", denominator)
                denominator = False
            elif denominator is not None and denominator <= 0:
                add(index, "denominator", _("The denominator must be greater than 0."))
            # (False marks a number already refused above: no second error about the pair.)
            if numerator is None and denominator is not None and denominator is not False:
                add(index, "numerator", _("Give the numerator with the denominator, or neither."))
            elif denominator is None and numerator is not None and numerator is not False:
                add(index, "denominator", _("Give the denominator with the numerator, or neither."))

            sample_size = _count(row.get("sample_size"))
            if type(sample_size) is str:
                add(index, "sample_size", sample_size)

            source = row.get("source")
            if source is None:
                source = ""
            elif type(source) is not str:
                add(index, "source", _("Give the source as text."))
            elif len(source) > SOURCE_MAX:
                add(index, "source", _("At most %(max)d characters.") % {"max": SOURCE_MAX})
            elif NUL in source:
                add(index, "source", _nul_refused())

            if contract is None or period is None or ckey is None or vkey is None:
                continue
            if track:
                key = (contract.id, grain, period, ckey, vkey)
                if compact:
                    key = hash(key)
                earlier = seen.get(key)
                if earlier is not None:
                    add(
                        index,
                        "non_field_errors",
                        _(
                            "Same contract, grain, period, cohort and version set as row %(row)d: "
                            "send each observation once per batch."
                        )
                        % {"row": earlier},
                    )
                    continue
                seen[key] = first_row + index
            if len(errors) != before:
                continue
            clean.append(
                (
                    contract.id,
                    grain,
                    period,
                    cohort_text,
                    ckey,
                    version_text,
                    vkey,
                    value,
                    numerator,
                    denominator,
                    sample_size,
                    source,
                )
            )
        return clean, errors

    def _mapping(self, index, mapping, name, contract, add):
        """(JSON text, canonical key) of a cohort or version set, or (None, None) after an error.

        A batch repeats a few cohorts and version sets thousands of times: a mapping already
        accepted for the same contract is answered from a cache keyed on its items."""
        if type(mapping) is dict:
            if not mapping:
                return "{}", ""
            try:
                cache_key = (name, contract.id if contract is not None else None, *mapping.items())
                found = self._mappings.get(cache_key)
            except TypeError:  # an unhashable value (a list, an object): checked below
                cache_key = found = None
            if found is not None:
                return found
            found = self._check_mapping(index, mapping, name, contract, add)
            if cache_key is not None and found[1] is not None and len(self._mappings) < 100_000:
                self._mappings[cache_key] = found
            return found
        if mapping is None or mapping == "":
            return "{}", ""
        return self._check_mapping(index, mapping, name, contract, add)

    def _check_mapping(self, index, mapping, name, contract, add):
        if type(mapping) is not dict:
            if name == "cohort":
                add(
                    index,
                    name,
                    _('Give the cohort as an object of dimension: value, e.g. {"intent": "billing"}.'),
                )
            else:
                add(
                    index,
                    name,
                    _('Give the version set as an object of object: version, e.g. {"prompt": "v12"}.'),
                )
            return None, None
        ok = True
        if contract is not None and not contract.dimensions.issuperset(mapping):
            undeclared = sorted(set(mapping) - contract.dimensions)
            add(
                index,
                name,
                ngettext(
                    "%(names)s is not a cohort dimension of %(id)s (declared: %(declared)s).",
                    "%(names)s are not cohort dimensions of %(id)s (declared: %(declared)s).",
                    len(undeclared),
                )
                % {
                    "names": ", ".join(undeclared),
                    "id": contract.metric_id,
                    "declared": ", ".join(sorted(contract.dimensions)) or _("none"),
                },
            )
            ok = False
        for key, item in mapping.items():
            if NUL in key or (type(item) is str and NUL in item):
                add(index, name, _nul_refused())
                ok = False
                continue
            if not key or "=" in key or "|" in key:
                add(index, name, _("“%(key)s” is not a valid name (no “=” or “|”).") % {"key": key})
                ok = False
            if type(item) is not str or not item:
                add(
                    index,
                    name,
                    _("The value of “%(key)s” must be non-empty text, not %(value)s.")
                    % {"key": key, "value": json.dumps(item, ensure_ascii=False)},
                )
                ok = False
            elif "|" in item:
                add(index, name, _("The value of “%(key)s” may not contain “|”.") % {"key": key})
                ok = False
        if not ok:
            return None, None
        canonical = "|".join(f"{key}={mapping[key]}" for key in sorted(mapping))
        if len(canonical) > KEY_MAX:
            add(index, name, _("Too long: at most %(max)d characters in all.") % {"max": KEY_MAX})
            return None, None
        return self._as_json(canonical, mapping), canonical


_FIELD_LIST = {"fields": ", ".join(sorted(FIELDS))}


def _unknown(metric: str) -> str:
    return _("Unknown contract “%(id)s”, or not one you may ingest for.") % {"id": metric}


def _number(value):
    """A finite float, None when absent, or the message saying what is wrong (a str)."""
    kind = type(value)
    if kind is float:
        number = value
    elif kind is int:
        try:
            number = float(value)
        except OverflowError:
            return _("%(value)s is too large.") % {"value": value}
    elif kind is str:
        if not value:
            return None
        try:
            number = float(value)
        except ValueError:
            return _("“%(value)s” is not a number.") % {"value": value}
    elif value is None:
        return None
    else:
        return _("%(value)s is not a number.") % {"value": json.dumps(value, ensure_ascii=False)}
    if isfinite(number):
        return number
    return _("%(value)s is not a finite number.") % {"value": value}


def _count(value):
    """A sample size: an int from 0 up, or the message saying what is wrong (a str)."""
    kind = type(value)
    if kind is int:
        number = value
    elif kind is str and value:
        try:
            number = int(value)
        except ValueError:
            number = _number(value)
            if type(number) is str:
                return _("“%(value)s” is not a whole number.") % {"value": value}
            if not number.is_integer():
                return _("The sample size is a whole number of cases, not %(value)s.") % {"value": value}
            number = int(number)
    elif kind is float and isfinite(value):
        if not value.is_integer():
            return _("The sample size is a whole number of cases, not %(value)s.") % {"value": value}
        number = int(value)
    elif value is None or value == "":
        return _("The sample size is required.")
    else:
        return _("%(value)s is not a whole number.") % {"value": json.dumps(value, ensure_ascii=False)}
    if number < 0:
        return _("The sample size cannot be negative.")
    if number > SAMPLE_MAX:
        return _("%(value)s is too large.") % {"value": value}
    return number


def validate_rows(rows, *, user=None, capability=None) -> tuple[list[tuple], list[dict]]:
    """Check a batch of observation rows: (clean rows, errors).

    ``rows`` are dicts with ``contract`` (metric id), ``period_start`` (YYYY-MM-DD), ``grain``
    (day, week or month; day when absent), ``cohort`` and ``version_set`` (objects of text values),
    ``value``, optional ``numerator`` and ``denominator``, ``sample_size`` and optional ``source``.
    With a ``user``, only contracts they may change (A or R on metric contracts) are accepted;
    with a ``capability``, only that capability's. Every error of every row is listed.
    """
    return RowValidator(user=user, capability=capability).validate(list(rows))


# Writing ---------------------------------------------------------------------------------------


def _table() -> str:
    return connection.ops.quote_name(Observation._meta.db_table)


_STAGE = "contracts_observation_stage"


class Written(dict):
    """What an upsert changed: {contract id: (rows inserted or changed, earliest period of them)}."""

    def add(self, contract_id: int, count: int, earliest: datetime.date) -> None:
        if count:
            known = self.get(contract_id)
            self[contract_id] = (
                (count, earliest) if known is None else (known[0] + count, min(known[1], earliest))
            )

    def merge(self, other: "Written") -> None:
        for contract_id, (count, earliest) in other.items():
            self.add(contract_id, count, earliest)

    @property
    def rows(self) -> int:
        return sum(count for count, _earliest in self.values())

    @property
    def since(self) -> datetime.date | None:
        return min((earliest for _count, earliest in self.values()), default=None)


def _write_postgresql(clean: list[tuple], now) -> Written:
    table = _table()
    columns = ", ".join(COLUMNS)
    differs = f"({', '.join(f'o.{name}' for name in UPDATED)}) IS DISTINCT FROM ({', '.join(f'EXCLUDED.{name}' for name in UPDATED)})"
    with connection.cursor() as cursor:
        # Dropped at commit, and right after use so that a second batch in the same transaction
        # (the CSV job writes its chunks in one) can create it again.
        cursor.execute(
            f"""CREATE TEMP TABLE {_STAGE} (
                contract_id bigint, grain varchar(8), period_start date, cohort jsonb,
                cohort_key varchar({KEY_MAX}), version_set jsonb, version_key varchar({KEY_MAX}),
                value double precision, numerator double precision, denominator double precision,
                sample_size integer, source varchar({SOURCE_MAX})
            ) ON COMMIT DROP"""
        )
        with cursor.copy(f"COPY {_STAGE} ({columns}) FROM STDIN") as copy:
            for row in clean:
                copy.write_row(row)
        # In key order, so that two batches sharing rows lock them in the same order (no deadlock).
        cursor.execute(
            f"""WITH written AS (
                INSERT INTO {table} AS o ({columns}, ingested_at)
                SELECT {columns}, %s FROM {_STAGE} ORDER BY {", ".join(UPSERT_KEY)}
                ON CONFLICT ({", ".join(UPSERT_KEY)}) DO UPDATE SET
                    {", ".join(f"{name} = EXCLUDED.{name}" for name in UPDATED)},
                    ingested_at = EXCLUDED.ingested_at
                WHERE {differs}
                RETURNING o.contract_id, o.period_start
            )
            SELECT contract_id, count(*), min(period_start) FROM written GROUP BY contract_id""",
            [now],
        )
        written = Written()
        for contract_id, count, earliest in cursor.fetchall():
            written.add(contract_id, count, earliest)
        cursor.execute(f"DROP TABLE {_STAGE}")
    return written


def _write_other(clean: list[tuple], now) -> Written:
    """SQLite (the demo and laptops): the same upsert, row by row inside the driver's executemany.

    Django's ``bulk_create(update_conflicts=True)`` cannot say "only when the row differs", so a
    re-sent batch would rewrite ``ingested_at``; the raw statement keeps re-sends a no-op.
    """
    table = _table()
    columns = ", ".join(COLUMNS)
    placeholders = ", ".join(["%s"] * (len(COLUMNS) + 1))
    differs = " OR ".join(f"{table}.{name} IS NOT excluded.{name}" for name in UPDATED)
    sql = (
        f"INSERT INTO {table} ({columns}, ingested_at) VALUES ({placeholders}) "
        f"ON CONFLICT ({', '.join(UPSERT_KEY)}) DO UPDATE SET "
        f"{', '.join(f'{name} = excluded.{name}' for name in UPDATED)}, ingested_at = excluded.ingested_at "
        f"WHERE {differs}"
    )
    stamp = connection.ops.adapt_datetimefield_value(now)
    by_contract: dict[int, list[tuple]] = {}
    for row in clean:
        by_contract.setdefault(row[0], []).append((*row[:2], row[2].isoformat(), *row[3:], stamp))
    written = Written()
    with connection.cursor() as cursor:
        for contract_id, params in by_contract.items():
            for start in range(0, len(params), CHUNK_ROWS):
                chunk = params[start : start + CHUNK_ROWS]
                cursor.executemany(sql, chunk)
                if cursor.rowcount > 0:
                    # The driver counts changed rows, not which: the chunk's earliest day stands in.
                    earliest = datetime.date.fromisoformat(min(row[2] for row in chunk))
                    written.add(contract_id, cursor.rowcount, earliest)
    return written


def observations_write(clean: list[tuple], *, source: str = "") -> Written:
    """Upsert validated rows (``RowValidator`` tuples); what changed, by contract.

    Runs inside the caller's transaction; rows without a source take ``source``.
    """
    if not clean:
        return Written()
    if source:
        clean = [row if row[11] else (*row[:11], source[:SOURCE_MAX]) for row in clean]
    now = timezone.now()
    if connection.vendor == "postgresql":
        return _write_postgresql(clean, now)
    return _write_other(clean, now)


def evaluate_contracts_later(contract_ids, since: datetime.date | None = None) -> None:
    """Queue the evaluation of the contracts whose observations changed (after commit), from the
    earliest period that changed."""
    from contracts import tasks

    evaluate = getattr(tasks, "evaluate_contracts", None)
    if evaluate is None:  # the evaluation job is not installed (yet): the schedule catches up
        logger.warning("No evaluate_contracts task: contracts %s not queued.", sorted(contract_ids))
        return
    # A broker that is down keeps the job in the outbox (productops.jobs) until it is back.
    try:
        enqueue(evaluate, contract_ids=sorted(contract_ids), since=since.isoformat() if since else None)
    except Exception:  # run in-process and failed: the data is committed; the schedule catches up
        logger.exception("Could not queue the evaluation of contracts %s.", sorted(contract_ids))


def _queue_evaluation(written: Written) -> None:
    if written:
        ids, since = frozenset(written), written.since
        transaction.on_commit(lambda: evaluate_contracts_later(ids, since))


def _result(written: Written, received: int, validator: RowValidator) -> IngestResult:
    metric_ids = {c.id: c.metric_id for c in validator._contracts.values() if c is not None}
    return IngestResult(
        written=written.rows,
        touched_contract_ids=frozenset(written),
        received=received,
        touched_metric_ids=tuple(sorted(metric_ids[pk] for pk in written)),
        since=written.since,
    )


def observations_ingest(
    rows, *, user=None, source: str = "", capability=None, evaluate: bool = True
) -> IngestResult:
    """Validate a batch of observation rows and upsert it, all or nothing.

    Raises ``IngestRejected`` listing every bad row and field (nothing written). After the
    commit, the evaluation of the contracts whose observations changed is queued (unless
    ``evaluate`` is False: a caller that loads many batches, like the demo, evaluates once after).
    """
    rows = rows if isinstance(rows, list) else list(rows)
    validator = RowValidator(user=user, capability=capability)
    clean, errors = validator.validate(rows)
    if errors:
        raise IngestRejected(errors)
    # A deadlock or serialization failure with a concurrent writer is tried again, when this
    # call owns the transaction (inside a caller's, the caller's whole transaction is lost).
    attempts = 1 if connection.in_atomic_block else WRITE_ATTEMPTS
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                written = observations_write(clean, source=source)
                if evaluate:
                    _queue_evaluation(written)
        except OperationalError as error:
            if attempt == attempts or getattr(error.__cause__, "sqlstate", None) not in RETRYABLE:
                raise
            logger.warning("Observation batch retried after %s", error)
        else:
            return _result(written, len(rows), validator)


# CSV files -------------------------------------------------------------------------------------


class CsvFileError(Exception):
    """The file cannot be read as an observations CSV (encoding, header, malformed quoting)."""

    def __init__(self, message: str, *, line: int | None = None):
        super().__init__(message)
        self.error = {"row": None, "line": line, "field": "file", "error": message}


def _columns(header: list[str]) -> list[tuple[int, str, str]]:
    """(index, kind, name) per column: kind is field, cohort, version, cohort_json or version_json."""
    columns, problems = [], []
    for index, raw in enumerate(header):
        name = raw.strip()
        if name.startswith("cohort.") and len(name) > 7:
            columns.append((index, "cohort", name[7:]))
        elif name.startswith("version.") and len(name) > 8:
            columns.append((index, "version", name[8:]))
        elif name == "cohort":
            columns.append((index, "cohort_json", name))
        elif name == "version_set":
            columns.append((index, "version_json", name))
        elif name in FIELDS:
            columns.append((index, "field", name))
        elif name:
            problems.append(name)
    if problems:
        raise CsvFileError(
            _(
                "Unknown columns: %(names)s. The columns are %(fields)s, cohort.<dimension> and version.<object>."
            )
            % {"names": ", ".join(problems), "fields": ", ".join(sorted(FIELDS))},
            line=1,
        )
    names = {name for _index, kind, name in columns if kind == "field"}
    missing = sorted({"contract", "period_start", "value", "sample_size"} - names)
    if missing:
        raise CsvFileError(_("Missing columns: %(names)s.") % {"names": ", ".join(missing)}, line=1)
    return columns


def _json_cell(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text  # validation says what shape is expected


def csv_chunks(handle, *, size: int | None = None) -> Iterator[tuple[list[dict], list[int]]]:
    """Rows of an observations CSV as the API's dicts, ``size`` at a time, with their file lines.

    Cohort and version set come as ``cohort.<dimension>`` / ``version.<object>`` columns or as
    JSON in ``cohort`` / ``version_set`` columns; an empty cell is an absent value.
    """
    size = size or CHUNK_ROWS
    text = io.TextIOWrapper(handle, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = next(reader, None)
        if not header:
            raise CsvFileError(_("The file is empty: it needs a header line and rows."), line=1)
        columns = _columns(header)
        width = len(header)
        rows, lines = [], []
        for record in reader:
            if not record or (len(record) == 1 and not record[0].strip()):
                continue  # blank line
            row: dict = {}
            for index, kind, name in columns:
                if index >= len(record):
                    break
                cell = record[index]
                if not cell:
                    continue
                if kind == "field":
                    row[name] = cell
                elif kind == "cohort":
                    row.setdefault("cohort", {})[name] = cell
                elif kind == "version":
                    row.setdefault("version_set", {})[name] = cell
                else:
                    parsed = _json_cell(cell)
                    key = "cohort" if kind == "cohort_json" else "version_set"
                    if isinstance(parsed, dict) and isinstance(row.get(key), dict):
                        row[key].update(parsed)
                    else:
                        row[key] = parsed
            if len(record) > width:
                row[EXTRA_CELLS] = (len(record), width)  # reported by validation
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) >= size:
                yield rows, lines
                rows, lines = [], []
        if rows:
            yield rows, lines
    except UnicodeDecodeError as error:
        raise CsvFileError(
            _("The file is not UTF-8 text (after line %(line)d).") % {"line": reader.line_num}, line=None
        ) from error
    except csv.Error as error:
        raise CsvFileError(
            _("Line %(line)d cannot be read as CSV: %(error)s") % {"line": reader.line_num, "error": error},
            line=reader.line_num,
        ) from error
    finally:
        text.detach()


def _estimate_rows(handle) -> int:
    """Lines after the header (a quick upper bound for the progress bar)."""
    count, last = 0, b"\n"
    while block := handle.read(1 << 20):
        count += block.count(b"\n")
        last = block[-1:]
    if last != b"\n":
        count += 1
    return max(count - 1, 0)


def validate_import_file(file_field) -> None:
    """An observations upload: a .csv file of at most 200 MB."""
    name = os.path.basename(getattr(file_field, "name", "") or "")
    if not name.lower().endswith(".csv"):
        raise ValidationError(
            _("Upload a .csv file; “%(name)s” is not one."), code="file_type", params={"name": name}
        )
    if file_field.size is not None and file_field.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("Files may be at most 200 MB; “%(name)s” is %(size).0f MB."),
            code="file_size",
            params={"name": name, "size": file_field.size / (1024 * 1024)},
        )


def import_job_create(*, capability, file, by) -> ImportJob:
    """Store an uploaded CSV as an import job and queue it (after commit)."""
    require_change(by, Activity.METRIC_CONTRACT, capability)
    try:
        validate_import_file(file)
    except ValidationError as error:
        raise DomainError(error.messages[0], field="file") from error
    name = os.path.basename(file.name or "observations.csv")[:200]
    with transaction.atomic():
        job = ImportJob.objects.create(capability=capability, file=file, original_name=name, created_by=by)
        transaction.on_commit(lambda: _queue_import(job.pk))
    return job


def _queue_import(job_id: int) -> None:
    from contracts.tasks import import_observations_file

    enqueue(import_observations_file, job_id)


def _progress(job_id: int, **fields) -> None:
    ImportJob.objects.filter(pk=job_id).update(**fields)


def import_job_run(job_id: int) -> ImportJob | None:
    """Run an import job: validate every row of the file first (a bad file writes nothing), then
    upsert it chunk by chunk in one transaction. Safe to run twice: a finished job is skipped,
    and an interrupted one starts again (the upsert is idempotent, the write all or nothing)."""
    claimed = ImportJob.objects.filter(
        pk=job_id, state__in=[ImportJob.State.QUEUED, ImportJob.State.RUNNING]
    ).update(state=ImportJob.State.RUNNING, processed_rows=0, written_rows=0, errors=[], finished_at=None)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("capability", "created_by").get(pk=job_id)
    try:
        with job.file.open("rb") as handle:
            job.total_rows = _estimate_rows(handle)
        _progress(job_id, total_rows=job.total_rows)

        # Pass 1: validate everything, counting progress.
        validator = RowValidator(user=job.created_by, capability=job.capability, compact_keys=True)
        listed: list[dict] = []
        total_errors = processed = 0
        with job.file.open("rb") as handle, gc_paused():
            for rows, lines in csv_chunks(handle):
                _clean, errors = validator.validate(rows, first_row=processed + 1, lines=lines)
                total_errors += len(errors)
                listed.extend(errors[: MAX_LISTED_ERRORS - len(listed)])
                processed += len(rows)
                _progress(job_id, processed_rows=processed, total_rows=max(job.total_rows, processed))
        if processed == 0:
            raise CsvFileError(_("The file has a header but no rows."), line=2)
        if total_errors:
            return _fail(job, listed, total_errors, processed)

        # Pass 2: the file is valid; write it all or nothing.
        _progress(job_id, total_rows=processed)  # the estimate counted blank and continued lines
        validator.track_duplicates = False
        with transaction.atomic():
            written = Written()
            written_from = 0
            with job.file.open("rb") as handle, gc_paused():
                for rows, lines in csv_chunks(handle):
                    clean, errors = validator.validate(rows, first_row=written_from + 1, lines=lines)
                    if errors:  # the file or the person's roles changed between the passes
                        raise IngestRejected(errors)
                    written.merge(observations_write(clean, source=job.original_name))
                    written_from += len(rows)
            _queue_evaluation(written)
            _progress(
                job_id,
                state=ImportJob.State.DONE,
                total_rows=processed,
                processed_rows=processed,
                written_rows=written.rows,
                finished_at=timezone.now(),
            )
    except CsvFileError as error:
        return _fail(job, [error.error], 1, None)
    except IngestRejected as error:
        return _fail(job, error.errors[:MAX_LISTED_ERRORS], error.total, None)
    job.refresh_from_db()
    return job


def _fail(job: ImportJob, listed: list[dict], total: int, processed: int | None) -> ImportJob:
    errors = list(listed)
    if total > len(listed):
        more = total - len(listed)
        errors.append(
            {
                "row": None,
                "field": None,
                "more": more,
                "error": ngettext(
                    "… and %(count)d more error (%(total)d in all).",
                    "… and %(count)d more errors (%(total)d in all).",
                    more,
                )
                % {"count": more, "total": total},
            }
        )
    fields = {
        "state": ImportJob.State.FAILED,
        "errors": errors,
        "written_rows": 0,
        "finished_at": timezone.now(),
    }
    if processed is not None:
        fields["total_rows"] = fields["processed_rows"] = processed
    _progress(job.pk, **fields)
    job.refresh_from_db()
    return job


def import_job_fail(job_id: int, message: str) -> None:
    """Mark a job failed after an unexpected error (the write was rolled back: nothing written)."""
    ImportJob.objects.filter(pk=job_id).exclude(state=ImportJob.State.DONE).update(
        state=ImportJob.State.FAILED,
        errors=[{"row": None, "field": None, "error": message}],
        written_rows=0,
        finished_at=timezone.now(),
    )


def error_count(job: ImportJob) -> int:
    """All errors of a failed job, including those not listed."""
    return sum(entry.get("more", 1) for entry in job.errors or [])
