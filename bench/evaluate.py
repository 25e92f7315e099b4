"""Benchmark: evaluating every metric contract over 1,000,000 observations, next to the one SQL
aggregate that computes the same per-period, per-cut values (the floor), then re-evaluating
after one new day of data.

PostgreSQL only (the figures mean nothing on SQLite). It works in its own throw-away database
(``productops_bench_eval`` on the server of DATABASE_URL): created, migrated, filled by COPY,
dropped at the end. Prints ``name value unit`` lines:

    observations        rows loaded (COPY, not the ORM)
    sql_floor_s         the single GROUP BY over all observations, all contracts, no writes (best of 3)
    evaluate_s          full evaluation of all contracts, one after the other, through the very
                        function the Celery task calls (evaluations, signals, actions, holds,
                        triggers, guardrail flags), from nothing evaluated (best of 3)
    evaluate_vs_sql     evaluate_s / sql_floor_s (goal: <= 3)
    evaluate_again_s    the same full run again: nothing changes, nothing is written
    reevaluate_s        after one new day of observations for every contract, re-evaluation of
                        every contract with since = that day (goal: well under evaluate_s; best
                        of three successive new days)

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/evaluate.py
"""

import datetime
import json
import os
import random
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BENCH_DB = "productops_bench_eval"
CAPABILITIES = 6
CONTRACTS_PER_CAPABILITY = 10
DAYS = 182
FIRST_DAY = datetime.date(2026, 1, 1)  # a Thursday: the new day lands mid-week
INTENTS = ["billing", "cards", "fraud", "loans"]
TEAMS = ["north", "south", "east", "west"]
CHANNELS = ["voice", "chat", "email"]
VERSIONS = [{"model": "m-2026-01", "prompt": "v12"}, {"model": "m-2026-01", "prompt": "v13"}]
SEED = 20260101


def refuse(message: str) -> None:
    print(f"bench/evaluate.py: {message}", file=sys.stderr)
    sys.exit(2)


def bench_database_url() -> tuple[str, str]:
    """(the server's maintenance URL, the bench database's URL), from DATABASE_URL."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://", "pgsql://")):
        refuse(
            "PostgreSQL only: set DATABASE_URL=postgres://user@host:5432/name (SQLite figures mean nothing)."
        )
    parts = urlsplit(url)
    maintenance = urlunsplit(("postgresql", parts.netloc, "/postgres", "", ""))
    bench = urlunsplit((parts.scheme, parts.netloc, f"/{BENCH_DB}", parts.query, ""))
    return maintenance, bench


def recreate_database(maintenance_url: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def setup_django(bench_url: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "productops.settings"
    # No query log (DEBUG). Notifications are queued as in production, on an in-memory broker
    # that nobody reads: the cost measured is the enqueue, not an SMTP round trip.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-key-not-for-production")
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["EMAIL_URL"] = "dummymail://localhost"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    # A worker loads the URL configuration once (links in notifications); do it before timing.
    from django.urls import get_resolver

    _ = get_resolver().reverse_dict


REPEATS = 3


def reset_results() -> None:
    """Back to "never evaluated" for another full run: no evaluations, signals, holds, actions
    or notifications (history rows stay; they are only appended to)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contracts_evaluation, contracts_stophold, contracts_signal, actions_action, "
            "productops_notification CASCADE"
        )
        cursor.execute(
            "UPDATE contracts_metriccontract SET improvement_not_net = false, improvement_not_net_reason = ''"
        )
        cursor.execute("CHECKPOINT")


def build_contracts():
    """Six capabilities of ten active weekly contracts, each cut by intent and team."""
    from contracts.models import MetricContract
    from portfolio.models import Capability
    from productops.models import RoleAssignment, User

    contracts = []
    for c in range(CAPABILITIES):
        capability = Capability.objects.create(
            name=f"Bench capability {c}", slug=f"bench-{c}", workflow="Bench", target_users="Agents"
        )
        pm = User.objects.create(username=f"bench-pm-{c}", email=f"pm{c}@example.test")
        RoleAssignment.objects.create(user=pm, role="ai_pm", capability=capability)
        for k in range(CONTRACTS_PER_CAPABILITY):
            ratio = k < 8
            contracts.append(
                MetricContract.objects.create(
                    metric_id=f"bench_{c}.metric_{k}",
                    name=f"Metric {k}",
                    capability=capability,
                    category=["outcome", "adoption", "quality", "risk", "cost", "reliability", "learning"][
                        k % 7
                    ],
                    status="active",
                    business_question="Bench",
                    numerator="Bench",
                    unit="%" if ratio else "seconds",
                    direction="lower",
                    is_ratio=ratio,
                    target=0.10 if ratio else 300,
                    warning=0.12 if ratio else 360,
                    breach=0.16 if ratio else 420,
                    stop_level=0.30 if ratio else None,
                    warning_action="Sample 50 cases for QA",
                    breach_action="Hold releases and review",
                    breach_closure_criterion="Back under warning for two weeks",
                    cohort_dimensions=["intent", "team", "channel"],
                    required_cuts=["intent", "team"],
                    grain="week",
                    min_sample_size=200,
                    consecutive_periods=1 + k % 2,
                    closure_periods=2,
                    evidence_level="E3",
                    business_owner=pm,
                )
            )
    return contracts


def observation_rows(contracts, days, rng):
    """Daily rows per cohort (intent x team x channel) and version set, with weekly seasonality,
    noise, and a drift in billing for some contracts (so signals, actions and holds happen)."""
    now = datetime.datetime.now(datetime.UTC).isoformat()
    cohorts = [
        {"intent": intent, "team": team, "channel": channel}
        for intent in INTENTS
        for team in TEAMS
        for channel in CHANNELS
    ]
    cohort_texts = [
        (json.dumps(cohort), "|".join(f"{k}={cohort[k]}" for k in sorted(cohort))) for cohort in cohorts
    ]
    version_texts = [
        (json.dumps(version), "|".join(f"{k}={version[k]}" for k in sorted(version))) for version in VERSIONS
    ]
    for contract in contracts:
        # Every third contract drifts up in billing (warnings, breaches); every tenth steeply,
        # through its stop level (holds).
        slope = 0.0016 if contract.pk % 10 == 1 else 0.0004 if contract.pk % 3 == 0 else 0.0
        for day in days:
            index = (day - FIRST_DAY).days
            season = 1.0 + 0.08 * (day.weekday() >= 5)
            for cohort, (cohort_json, key) in zip(cohorts, cohort_texts, strict=True):
                drift = slope * index if cohort["intent"] == "billing" else 0.0
                for version_json, version_key in version_texts:
                    n = rng.randint(20, 60)
                    if contract.is_ratio:
                        rate = max(0.0, min(1.0, (0.095 + drift) * season + rng.gauss(0, 0.02)))
                        numerator = round(rate * n)
                        value, num, den = numerator / n, numerator, n
                    else:
                        value, num, den = 300 * season + rng.gauss(0, 30) + 200 * drift, None, None
                    yield (
                        contract.pk,
                        day,
                        "day",
                        cohort_json,
                        key,
                        version_json,
                        version_key,
                        value,
                        num,
                        den,
                        n,
                        "bench",
                        now,
                    )


def copy_observations(rows) -> int:
    from django.db import connection

    from contracts.models import Observation

    columns = (
        "contract_id, period_start, grain, cohort, cohort_key, version_set, version_key, value, "
        "numerator, denominator, sample_size, source, ingested_at"
    )
    count = 0
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {Observation._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
    return count


def settle() -> None:
    """Statistics for the planner, and the load's WAL flushed, so no checkpoint runs mid-measurement."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contracts_observation")
        cursor.execute("CHECKPOINT")


def sql_floor(contracts) -> float:
    """The one statement: every contract's per-week, per-cut sums (no Python, no writes)."""
    from django.db import connection

    from contracts.evaluation import aggregate_sql

    sql, params = aggregate_sql(contracts)
    sql = f"SELECT contract_id, period, dim, cut_value, CASE WHEN den > 0 THEN num / den ELSE weighted / NULLIF(sample, 0) END, sample FROM ({sql}) per_cut"
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()
        best = min(best, time.perf_counter() - started)
    return best


def evaluate_all(contracts, since=None) -> tuple[float, dict]:
    from contracts.evaluation import evaluate_contract

    totals = {"written": 0, "signals_opened": 0, "holds_created": 0}
    started = time.perf_counter()
    for contract in contracts:
        run = evaluate_contract(contract.pk, since=since)
        assert not run.skipped, run
        for name in totals:
            totals[name] += getattr(run, name)
    return time.perf_counter() - started, totals


def main() -> None:
    maintenance_url, bench_url = bench_database_url()
    recreate_database(maintenance_url)
    try:
        setup_django(bench_url)
        from django.db import connection

        from actions.models import Action
        from contracts.models import Signal, StopHold

        rng = random.Random(SEED)
        contracts = build_contracts()
        days = [FIRST_DAY + datetime.timedelta(days=i) for i in range(DAYS)]
        loaded = copy_observations(observation_rows(contracts, days, rng))
        settle()
        print(f"observations {loaded} rows")
        print(f"contracts {len(contracts)} count")

        floor = sql_floor(contracts)
        # Best of three from a clean slate, as the floor is best of three: on a shared machine
        # the fastest run is the one least disturbed by others.
        evaluate_s = float("inf")
        for repeat in range(REPEATS):
            if repeat:
                reset_results()
            seconds, totals = evaluate_all(contracts)
            evaluate_s = min(evaluate_s, seconds)
        again_s, again = evaluate_all(contracts)
        assert again["written"] == 0 and again["signals_opened"] == 0, again

        # Three new days in turn (Thursday, Friday, Saturday of the last week), each followed by
        # the re-evaluation ingest would queue; best of three, like the other figures.
        reevaluate_s = float("inf")
        for extra in range(1, REPEATS + 1):
            new_day = days[-1] + datetime.timedelta(days=extra)
            added = copy_observations(observation_rows(contracts, [new_day], rng))
            settle()
            seconds, re_totals = evaluate_all(contracts, since=new_day)
            assert re_totals["written"] > 0, re_totals
            reevaluate_s = min(reevaluate_s, seconds)

        print(f"sql_floor_s {floor:.3f} s")
        print(f"evaluate_s {evaluate_s:.3f} s")
        print(f"evaluate_vs_sql {evaluate_s / floor:.2f} ratio")
        print(f"evaluate_again_s {again_s:.3f} s")
        print(f"reevaluate_s {reevaluate_s:.3f} s")
        print(f"reevaluate_vs_evaluate {reevaluate_s / evaluate_s:.3f} ratio")
        print(f"evaluation_rows {totals['written']} rows")
        print(f"reevaluation_rows {re_totals['written']} rows")
        print(f"new_day_observations {added} rows")
        print(f"signals {Signal.objects.count()} count")
        print(f"actions {Action.objects.count()} count")
        print(f"stop_holds {StopHold.objects.count()} count")
        connection.close()
    finally:
        if not os.environ.get("BENCH_KEEP_DB"):
            recreate_database(maintenance_url, drop_only=True)


if __name__ == "__main__":
    main()
