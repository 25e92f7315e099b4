"""What the permission matrix (tests/test_permission_matrix.py) expects, worked out from the
playbook's data, and the tools it measures with: the mutating routes found by walking the URL
resolver, the people who call them, and a fingerprint of the database.

The expectations never ask ``productops.permissions``: they read the playbook's RACI table (section
17, transcribed below as printed) and ProductOps' two added columns, so a check that drifted from
the table shows as a failing cell instead of agreeing with itself.
"""

import re
from dataclasses import dataclass, field

from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver

# --- the table ---------------------------------------------------------------------------------

# Playbook section 17 "Role / RACI", as printed (one line in the source text).
PLAYBOOK_RACI = (
    "Activity AI PM AI Architect CBAP BA Ops Risk / Compliance Analytics Platform Finance "
    "Product Ops charter A/R C C C C C C I Metric contract A/R C R C C R C C "
    "Weekly ops review A/R R R R C R R I Monthly value review A/R C R R C R C R "
    "Quarterly portfolio review R C C C C R C A/R Release calendar C A/R C C C C R I "
    "Experiment registry A/R C C C C R C I Decision log A/R R R C C C C I "
    "Assumption ledger A/R C R C C R C C Incident learning R R R A/R A/R by severity C R I "
    "Action closure A/R R R R R R R I Dashboard design A/R R R C C R C C"
)
PLAYBOOK_COLUMNS = [
    "ai_pm",
    "ai_architect",
    "business_analyst",
    "ops",
    "risk_compliance",
    "analytics",
    "platform",
    "finance",
]
# SPEC.md's table of users: the executive / sponsor "takes scale / restrict / redesign / retire /
# fund decisions" (the quarterly portfolio review, the monthly value review and the decision log
# those decisions are written to); everything else it reads. A viewer changes nothing.
PRODUCTOPS_COLUMNS = {
    "executive": {
        "quarterly_portfolio_review": "A/R",
        "monthly_value_review": "R",
        "decision_log": "R",
    },
    "viewer": {},
}
ROLES = [*PLAYBOOK_COLUMNS, *PRODUCTOPS_COLUMNS]
CHANGE_MARKS = {"A", "R", "A/R"}


def activity_key(name: str) -> str:
    """'Product Ops charter' -> 'charter', 'Metric contract' -> 'metric_contract'."""
    key = name.strip().lower().replace(" ", "_")
    return "charter" if key == "product_ops_charter" else key


def parse_playbook_raci(text: str = PLAYBOOK_RACI) -> dict[str, dict[str, str]]:
    """{activity: {role: letter}} from the printed table, ProductOps' two columns added."""
    body = text.split("Finance ", 1)[1]
    letter = r"(?:A/R(?: by severity)?|A|R|C|I)"
    row = re.compile(rf"([A-Z][a-z]+(?: [A-Za-z][a-z]+)*) ((?:{letter} ?){{{len(PLAYBOOK_COLUMNS)}}})")
    table = {}
    for name, letters in row.findall(body):
        marks = re.findall(letter, letters)
        marks = ["A/R" if mark.startswith("A/R") else mark for mark in marks]
        entry = dict(zip(PLAYBOOK_COLUMNS, marks, strict=True))
        for role, rows in PRODUCTOPS_COLUMNS.items():
            entry[role] = rows.get(activity_key(name), "I")
        table[activity_key(name)] = entry
    return table


RACI = parse_playbook_raci()


def changers(activity: str) -> frozenset[str]:
    """Roles the table makes accountable or responsible for an activity."""
    return frozenset(role for role, mark in RACI[activity].items() if mark in CHANGE_MARKS)


def accountable(activity: str) -> frozenset[str]:
    return frozenset(role for role, mark in RACI[activity].items() if "A" in mark)


# --- rights: who may call a route ---------------------------------------------------------------


@dataclass(frozen=True)
class Right:
    """Who may call a route. ``roles`` held on the record's capability (or across the
    organisation) allow it; ``org_only`` counts organisation-wide roles only; ``persons`` names
    actors allowed whatever their roles (an owner) and ``not_persons`` those refused whatever
    their roles (the owner may not verify their own evidence). ``finer`` marks a rule finer than
    the RACI letter: a page may refuse it with a message instead of a 403."""

    label: str
    roles: frozenset = frozenset()
    org_only: bool = False
    anyone: bool = False
    persons: frozenset = frozenset()
    not_persons: frozenset = frozenset()
    finer: bool = False

    def allows(self, actor: "Actor") -> bool:
        if actor.anonymous:
            return False
        if actor.name in self.not_persons:
            return False
        if self.anyone or actor.name in self.persons:
            return True
        if self.org_only and not actor.org_wide:
            return False
        if actor.outsider:
            return False
        return actor.role in self.roles


def letter(activity: str, *, extra=(), org_only: bool = False, label: str = "") -> Right:
    """A or R on the activity's row (plus the ``extra`` roles a rule of the playbook adds)."""
    roles = changers(activity) | frozenset(extra)
    text = label or f"A/R {activity}" + (f" + {'/'.join(sorted(extra))}" if extra else "")
    return Right(label=text, roles=roles, org_only=org_only, finer=bool(extra))


ANY_PERSON = Right(label="any signed-in person (their own record)", anyone=True)
NOBODY = Right(label="nobody", finer=False)


# --- actors -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """One column of the matrix: a role on the records' capability, an organisation-wide role,
    a person of another capability, or nobody signed in."""

    name: str
    role: str | None = None
    org_wide: bool = False
    outsider: bool = False
    anonymous: bool = False


ACTORS = [
    *[Actor(name=role, role=role) for role in ROLES],
    Actor(name="org_viewer", role="viewer", org_wide=True),
    Actor(name="org_executive", role="executive", org_wide=True),
    Actor(name="org_ai_pm", role="ai_pm", org_wide=True),
    Actor(name="other_capability_pm", role="ai_pm", outsider=True),
    Actor(name="anonymous", anonymous=True),
]
ACTOR_BY_NAME = {actor.name: actor for actor in ACTORS}


# --- the mutating surface -----------------------------------------------------------------------

MUTATING = {"POST", "PUT", "PATCH", "DELETE"}
EVERY_METHOD = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def view_methods(callback) -> set[str]:
    """The HTTP methods a routed view answers (every method when nothing restricts it)."""
    actions = getattr(callback, "actions", None)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if actions is not None:
        allowed = set(getattr(view_class, "http_method_names", EVERY_METHOD))
        return {method.upper() for method in actions if method in allowed}
    if view_class is not None:
        return {
            method.upper()
            for method in view_class.http_method_names
            if method.upper() in EVERY_METHOD and hasattr(view_class, method)
        }
    function = callback
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cell = function.__closure__[code.co_freevars.index("request_method_list")]
            return {method.upper() for method in cell.cell_contents}
        function = getattr(function, "__wrapped__", None)
    return set(EVERY_METHOD)


def _walk(patterns, prefix: str, namespace: str):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = namespace
            if pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
            yield from _walk(pattern.url_patterns, route, inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace else (pattern.name or route)
            yield route, name, pattern


def mutating_routes() -> dict[tuple[str, str], str]:
    """{(url name, method): route} for every POST/PUT/PATCH/DELETE the project serves (the
    admin's own pages aside), found in the resolver and the DRF routers."""
    found = {}
    for route, name, pattern in _walk(get_resolver().url_patterns, "", ""):
        if name.startswith("admin:"):
            continue
        for method in view_methods(pattern.callback) & MUTATING:
            found[(name, method)] = route
    return found


@dataclass
class Case:
    """One mutating route of the registry: the record it is called on (a key of the world), the
    right it needs, and the body a person allowed to call it would send."""

    right: Right
    target: str | None = None
    kwargs: object = None  # callable(world) -> URL kwargs
    data: object = None  # dict, or callable(world) -> dict
    fmt: str = "json"
    extra: dict = field(default_factory=dict)


# --- the database, before and after -------------------------------------------------------------

# Rows a request may write whoever asks: the session (messages, the current capability).
UNWATCHED_TABLES = {"django_session"}


def watched_tables() -> list[str]:
    with connection.cursor() as cursor:
        names = connection.introspection.table_names(cursor)
    return sorted(name for name in names if name not in UNWATCHED_TABLES)


def fingerprint_sql(tables: list[str]) -> str:
    quote = connection.ops.quote_name
    parts = [
        f"SELECT '{name}', count(*), coalesce(sum(hashtextextended(t::text, 0)), 0)::text "
        f"FROM {quote(name)} t"
        for name in tables
    ]
    return " UNION ALL ".join(parts)


def fingerprint(sql: str) -> dict[str, tuple[int, str]]:
    """{table: (rows, sum of every row's hash)}: any insert, update or delete changes it."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return {name: (count, digest) for name, count, digest in cursor.fetchall()}


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in before if before[name] != after.get(name))
