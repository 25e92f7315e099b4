from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init

from contracts.choices import ContractStatus
from productops.permissions import visible_capability_ids
from productops.reads import fetch, placeholders

# When a contract row was created and last changed: kept for its history, never shown on a board.
AUDIT_TIMES = ("created_at", "updated_at")


def _visible(queryset, user, capability_path: str):
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    visible = visible_capability_ids(user)
    return queryset if visible is None else queryset.filter(**{f"{capability_path}__in": visible})


def read_active_contracts(capability_ids, *, categories=(), watches=(), other_than_watches=()) -> list:
    """The active contracts of these capabilities (of ``categories``, watching one of
    ``watches``, watching none of ``other_than_watches``, when given), by capability name and
    metric id, with every field loaded but ``AUDIT_TIMES`` (read on first use, one query each,
    as any deferred field: no board shows them, and the timestamptz columns were a quarter of
    the read). Read by hand (productops.reads): the runtime and weekly boards open with it, and
    the ORM compiled the read of some seventy columns in ~1.5 ms."""
    from contracts.models import MetricContract

    model = MetricContract
    fields = [field for field in model._meta.concrete_fields if field.attname not in AUDIT_TIMES]
    ids = sorted(capability_ids)
    where = [f"c.capability_id IN ({placeholders(ids)})", "c.status = %s"]
    params = [*ids, ContractStatus.ACTIVE.value]
    for column, values, negated in (
        ("category", categories, False),
        ("watch", watches, False),
        ("watch", other_than_watches, True),
    ):
        if values:
            values = sorted(str(value) for value in values)
            where.append(f"c.{column} {'NOT IN' if negated else 'IN'} ({placeholders(values)})")
            params += values
    columns = ", ".join(f"c.{connection.ops.quote_name(field.column)}" for field in fields)
    rows = fetch(
        f"SELECT {columns} FROM contracts_metriccontract c "
        "INNER JOIN portfolio_capability cap ON cap.id = c.capability_id "
        f"WHERE {' AND '.join(where)} ORDER BY cap.name, c.metric_id",
        params,
        fields,
    )
    return _contracts_from_rows(model, [field.attname for field in fields], rows, connection.alias)


def _contracts_from_rows(model, names: list[str], rows, db: str) -> list:
    """Contract instances straight from their rows (loaded from ``db``, not adding): what
    ``Model.from_db`` makes, without matching every field's name against the loaded ones; a
    model with init signals (none today) through ``from_db``, so that they still fire."""
    if pre_init.has_listeners(model) or post_init.has_listeners(model):
        return [model.from_db(db, names, row) for row in rows]
    contracts = []
    for row in rows:
        contract = model.__new__(model)
        contract.__dict__.update(zip(names, row, strict=True))
        state = contract._state = ModelState()
        state.adding, state.db = False, db
        contracts.append(contract)
    return contracts


class ContractQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "capability_id")

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def active(self):
        return self.filter(status="active")

    def in_category(self, category):
        return self.filter(category=category)

    def review_due(self, today):
        return self.active().filter(next_review__lte=today)


class ObservationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "contract__capability_id")

    def for_contract(self, contract):
        return self.filter(contract=contract)


def contracts_by_grain(contracts) -> dict[str, list[int]]:
    """{grain: [contract pk, ...]}: which evaluations speak for each contract (those at its own
    grain), as ``EvaluationQuerySet.at_own_grain`` and the boards' hand-written reads
    (``own_grain_sql``) both select them."""
    by_grain: dict[str, list[int]] = {}
    for contract in contracts:
        by_grain.setdefault(contract.grain, []).append(contract.pk)
    return by_grain


def own_grain_sql(contracts, alias: str) -> tuple[str, list]:
    """``at_own_grain`` as a condition on the evaluation rows ``alias`` of a hand-written read
    (``productops.reads``), and its parameters: one clause per grain; matching nothing for no
    contracts."""
    clauses, params = [], []
    for grain, ids in contracts_by_grain(contracts).items():
        clauses.append(f"({alias}.grain = %s AND {alias}.contract_id IN ({placeholders(ids)}))")
        params += [grain, *ids]
    return "(" + (" OR ".join(clauses) or "1 = 0") + ")", params


class EvaluationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "contract__capability_id")

    def whole_population(self):
        return self.filter(cut="")

    def at_own_grain(self, contracts):
        """The evaluations of these contracts at each one's own grain: a contract whose grain
        changed keeps its old rows, which no longer speak for it. One condition per grain."""
        by_grain = contracts_by_grain(contracts)
        if not by_grain:
            return self.none()
        condition = models.Q()
        for grain, ids in by_grain.items():
            condition |= models.Q(grain=grain, contract_id__in=ids)
        return self.filter(condition)


class SignalQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "contract__capability_id")

    def open(self):
        return self.filter(resolved_period__isnull=True)

    def for_capability(self, capability):
        return self.filter(contract__capability=capability)

    def opened_since(self, moment):
        return self.filter(created_at__gte=moment)
