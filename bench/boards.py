"""Benchmark: each board of playbook 18.1 and the evidence binder on the demo at scale (at least
1,000,000 observations), next to the SQL it needs run alone (the floor).

PostgreSQL only (the figures mean nothing on SQLite). It works in its own throw-away database
(``productops_bench_boards`` on the server of DATABASE_URL): created, migrated, seeded with
``seed_demo --scale 1000000``, dropped at the end (``BENCH_KEEP_DB=1`` keeps it). With
``--use-current-db`` it reads DATABASE_URL as it is (seed it first with ``seed_demo --scale``).

For each board in ``boards.registry.BOARDS``, plus the evidence binder of one busy contract
(``BUSY_CONTRACT``), logged in as the demo ``exec`` (organisation-wide: the whole scaled
portfolio) through Django's test client — server time, no network, DEBUG off, templates cached,
the garbage collector tuned as in each web worker (productops.serving);
then again for one capability (``<name>_one``, ``?capability=cc-agent-assist``: the weekly ops
review's own view), every board but the portfolio's:

    board_<name>_ms       median of RENDERS renders (after one warm-up render)
    board_<name>_sql_ms   the statements one render issued (captured with CaptureQueriesContext),
                          re-run alone on a cursor, fetching every row: median of RENDERS runs,
                          each taken right after a render (so a drifting machine slows both alike)
    board_<name>_vs_sql   board_<name>_ms / board_<name>_sql_ms   (goal: <= 3)
    board_<name>_queries  statements per render
    board_<name>_orm_ms   of one render, the time Django's ORM spent compiling those statements
                          to SQL (SQLCompiler.as_sql): work the SQL floor does not include

Goals (issue 8): every board_<name>_vs_sql <= 3; board_weekly_ms (and _one) < 300. A board that answers
404 is not built yet: a line on stderr, no figures, not a failure. Any other status than 200
fails the run (exit 1) after the other boards are measured.

``--profile NAME`` (repeatable) also prints, for one render of that board, where its time goes:
SQL outside the templates, SQL inside them, the view's own Python, the templates' own rendering,
and the top functions by cumulative time.

Run: DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/boards.py
     [--use-current-db] [--scale N] [--renders N] [--capability SLUG] [--profile weekly]
"""

import argparse
import contextlib
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

from server import NotPostgres, database_urls

BENCH_DB = "productops_bench_boards"
SCALE = 1_000_000
RENDERS = 20
READER = "exec"
BUSY_CONTRACT = "cc_agent_assist.repeat_contact_7d"
ONE_CAPABILITY = "cc-agent-assist"
WEEKLY_GOAL_MS = 300
VS_SQL_GOAL = 3.0


def refuse(message: str) -> None:
    print(f"bench/boards.py: {message}", file=sys.stderr)
    sys.exit(2)


def bench_database_urls(use_current: bool) -> tuple[str, str]:
    try:
        return database_urls(BENCH_DB, use_current)
    except NotPostgres as error:
        refuse(str(error))


def recreate_database(maintenance_url: str, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(maintenance_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {BENCH_DB}")


def setup_django(url: str, media_root: str) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "productops.settings"
    # As in production: DEBUG off (cached templates, no query log), but plain HTTP on the test
    # client's host. Notifications are queued on an in-memory broker nobody reads.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-key-not-for-production")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    os.environ["SECURE_SSL_REDIRECT"] = "false"
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ["EMAIL_URL"] = "dummymail://localhost"
    os.environ["MEDIA_ROOT"] = media_root
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.test.utils import override_settings

    from productops.serving import tune_garbage_collector

    # As productops.wsgi does in each gunicorn worker: start-up frozen, fewer young collections.
    tune_garbage_collector()

    # No collectstatic here: {% static %} names files as they are, without the manifest's hashes.
    override_settings(
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        }
    ).enable()


def seed(scale: int) -> float:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    # The demo builders print a line each: to stderr, with the command's own lines.
    with contextlib.redirect_stdout(sys.stderr):
        call_command("seed_demo", "--force", "--scale", str(scale), stdout=sys.stderr)
    return time.perf_counter() - started


def settle() -> None:
    """Statistics for the planner and the load's WAL flushed, so no checkpoint runs mid-measure."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def targets(capability: str) -> list[tuple[str, str]]:
    """(name, URL) of each board as ``exec`` opens it (the whole portfolio), then the evidence
    binder of the busy contract, then each board a capability's team reads for their own
    capability (``<name>_one``: ``?capability=ONE_CAPABILITY``; the portfolio board is the
    organisation's by nature). ``capability`` cuts every board to that one instead."""
    from django.urls import reverse

    from boards.registry import BOARDS

    if capability:
        query = f"?capability={capability}"
        found = [(board.key, reverse(board.url_name) + query) for board in BOARDS]
        found.append(("evidence", reverse("boards:evidence", kwargs={"metric_id": BUSY_CONTRACT})))
        return found
    found = [(board.key, reverse(board.url_name)) for board in BOARDS]
    found.append(("evidence", reverse("boards:evidence", kwargs={"metric_id": BUSY_CONTRACT})))
    found += [
        (f"{board.key}_one", f"{reverse(board.url_name)}?capability={ONE_CAPABILITY}")
        for board in BOARDS
        if board.key != "portfolio"
    ]
    return found


def capture(client, url: str):
    """One render's response and the statements it issued (SQL text with its parameters bound)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    return response, [query["sql"] for query in captured.captured_queries]


def render_ms(client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def interleaved_ms(client, url: str, statements: list[str], count: int) -> tuple[list[float], list[float]]:
    """``count`` renders of the board and ``count`` runs of its SQL alone, taken in turn (a
    render, then the SQL, and again): a machine whose speed drifts during the run (a shared
    machine does) slows both alike, so their ratio holds where two separate series would not."""
    boards, floors = [], []
    for _ in range(count):
        boards.append(render_ms(client, url))
        floors.append(sql_ms(statements, 1)[0])
    return boards, floors


def orm_compile_ms(client, url: str) -> float:
    """Milliseconds one render spends in ``SQLCompiler.as_sql`` (outermost calls only): what
    turning the board's querysets into SQL costs, next to running that SQL."""
    from django.db.models.sql.compiler import SQLCompiler

    original = SQLCompiler.as_sql
    spent = {"s": 0.0, "depth": 0}

    def timed(self, *args, **kwargs):
        spent["depth"] += 1
        started = time.perf_counter()
        try:
            return original(self, *args, **kwargs)
        finally:
            spent["depth"] -= 1
            if not spent["depth"]:
                spent["s"] += time.perf_counter() - started

    SQLCompiler.as_sql = timed
    try:
        client.get(url)
    finally:
        SQLCompiler.as_sql = original
    return spent["s"] * 1000


def reads(statements: list[str]) -> list[str]:
    """The statements that read (a board's GET writes nothing; savepoints and a session save,
    if any, are not what the board needs)."""
    # A union begins "(SELECT": it reads too.
    return [sql for sql in statements if sql.lstrip(" \n(").upper().startswith(("SELECT", "WITH"))]


def sql_ms(statements: list[str], count: int) -> list[float]:
    from django.db import connection

    times = []
    with connection.cursor() as cursor:
        for _ in range(count):
            started = time.perf_counter()
            for sql in statements:
                cursor.execute(sql)
                cursor.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return times


def profile(client, name: str, url: str) -> None:
    """Where one render's time goes: SQL outside and inside the templates, the view's Python,
    the templates' own work; then the top functions by cumulative time (on stderr)."""
    from django.db import connection
    from django.template.backends.django import Template
    from django.test.utils import CaptureQueriesContext

    spans = {"template": 0.0, "sql_in_template": 0.0, "depth": 0}
    original = Template.render

    def timed_render(self, context=None, request=None):
        if spans["depth"]:
            return original(self, context, request)
        spans["depth"] += 1
        before = len(connection.queries_log)
        started = time.perf_counter()
        try:
            return original(self, context, request)
        finally:
            spans["template"] += time.perf_counter() - started
            spans["sql_in_template"] += sum(
                float(query["time"]) for query in list(connection.queries_log)[before:]
            )
            spans["depth"] -= 1

    Template.render = timed_render
    profiler = cProfile.Profile()
    try:
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            profiler.enable()
            client.get(url)
            profiler.disable()
            total = time.perf_counter() - started
    finally:
        Template.render = original
    sql_total = sum(float(query["time"]) for query in captured.captured_queries)
    sql_outside = sql_total - spans["sql_in_template"]
    template_own = spans["template"] - spans["sql_in_template"]
    view_python = total - spans["template"] - sql_outside
    print(
        f"profile {name}: total {total * 1000:.0f} ms = SQL outside templates {sql_outside * 1000:.0f} ms "
        f"+ view Python {view_python * 1000:.0f} ms + templates {spans['template'] * 1000:.0f} ms "
        f"(their own work {template_own * 1000:.0f} ms, SQL they issue {spans['sql_in_template'] * 1000:.0f} ms); "
        f"{len(captured.captured_queries)} statements (times under the profiler: read the shares)",
        file=sys.stderr,
    )
    slowest = sorted(captured.captured_queries, key=lambda query: -float(query["time"]))[:5]
    for query in slowest:
        print(f"  sql {float(query['time']) * 1000:.1f} ms: {query['sql'][:300]}", file=sys.stderr)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    # The project's own functions by cumulative time, then everything by own time.
    stats.sort_stats("cumulative").print_stats(r"^(?!.*site-packages).*work", 25)
    stats.sort_stats("tottime").print_stats(15)
    print(out.getvalue(), file=sys.stderr)


def measure(args) -> int:
    from django.test import Client

    from contracts.models import MetricContract, Observation
    from portfolio.models import Capability
    from productops.models import User

    print(f"observations {Observation.objects.count()} rows")
    print(f"capabilities {Capability.objects.count()} count")
    print(f"contracts {MetricContract.objects.count()} count")
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username=READER))
    failed, built = [], []
    for name, url in targets(args.capability):
        response, statements = capture(client, url)  # warm-up, and the statements one render issues
        if response.status_code == 404:
            print(f"board {name}: {url} answers 404: not built yet", file=sys.stderr)
            continue
        if response.status_code != 200:
            print(f"board {name}: {url} answers {response.status_code}", file=sys.stderr)
            failed.append(name)
            continue
        built.append(name)
        boards, floors = interleaved_ms(client, url, reads(statements), args.renders)
        board, floor = statistics.median(boards), statistics.median(floors)
        print(f"board_{name}_ms {board:.1f} ms")
        print(f"board_{name}_sql_ms {floor:.1f} ms")
        print(f"board_{name}_vs_sql {board / floor if floor else float('inf'):.2f} ratio")
        print(f"board_{name}_queries {len(statements)} count")
        print(f"board_{name}_orm_ms {orm_compile_ms(client, url):.1f} ms")
        if board / max(floor, 1e-9) > VS_SQL_GOAL:
            print(
                f"board {name}: vs_sql {board / floor:.2f} misses the goal (<= {VS_SQL_GOAL})",
                file=sys.stderr,
            )
        if name.startswith("weekly") and board >= WEEKLY_GOAL_MS:
            print(f"board weekly: {board:.0f} ms misses the goal (< {WEEKLY_GOAL_MS} ms)", file=sys.stderr)
        if name in args.profile:
            profile(client, name, url)
    print(f"boards_built {len(built)} count")
    if failed:
        print(f"bench/boards.py: failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--use-current-db", action="store_true", help="read DATABASE_URL as it is")
    parser.add_argument("--scale", type=int, default=SCALE, help="observations to seed (own database)")
    parser.add_argument("--renders", type=int, default=RENDERS)
    parser.add_argument("--capability", default="", help="pass ?capability=SLUG to every board")
    parser.add_argument("--profile", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    maintenance_url, url = bench_database_urls(args.use_current_db)
    media = tempfile.TemporaryDirectory(prefix="bench_boards_")
    if not args.use_current_db:
        recreate_database(maintenance_url)
    try:
        setup_django(url, media.name)
        if not args.use_current_db:
            print(f"seed_s {seed(args.scale):.1f} s")
        settle()
        status = measure(args)
        from django.db import connection

        connection.close()
        return status
    finally:
        if not args.use_current_db and not os.environ.get("BENCH_KEEP_DB"):
            recreate_database(maintenance_url, drop_only=True)
        media.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
