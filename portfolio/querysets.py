from django.db import models

from productops.permissions import visible_capability_ids
from productops.reads import column_list, fetch, instance, placeholders


def visible_capabilities(user) -> list:
    """``Capability.objects.visible_to(user).order_by("name")`` as a list, read by hand
    (productops.reads): every board opens with it, and the ORM's compiling cost more than the
    read itself."""
    from portfolio.models import Capability

    if not getattr(user, "is_authenticated", False):
        return []
    sql, params = f"SELECT {column_list(Capability, 'c')} FROM portfolio_capability c", []
    visible = visible_capability_ids(user)
    if visible is not None:
        params = sorted(visible)
        sql += f" WHERE c.id IN ({placeholders(params)})"
    rows = fetch(sql + " ORDER BY c.name", params, Capability._meta.concrete_fields)
    return [instance(Capability, list(row)) for row in rows]


class CapabilityQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Capabilities the person holds a role on (all of them for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(pk__in=visible)

    def active(self):
        return self.exclude(lifecycle_status="retired")


def formula_score_expression():
    """Playbook 16.2 as a database expression, built from the same part lists as the Python
    formula (``portfolio.choices.priority_score``) and the table's check constraint."""
    from django.db.models import F, Value

    from portfolio.choices import SCORE_BENEFITS, SCORE_COSTS

    expression = Value(0)
    for name in SCORE_BENEFITS:
        expression = expression + F(name)
    for name in SCORE_COSTS:
        expression = expression - F(name)
    return expression


class BacklogItemQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Backlog items of the capabilities the person holds a role on (all for organisation-wide roles)."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        visible = visible_capability_ids(user)
        return self if visible is None else self.filter(capability_id__in=visible)

    def for_capability(self, capability):
        return self.filter(capability=capability)

    def open(self):
        """Items still competing for delivery capacity: proposed, ready or in progress."""
        from portfolio.choices import BACKLOG_OPEN_STATUSES

        return self.filter(status__in=BACKLOG_OPEN_STATUSES)

    def retirement_candidates(self):
        from portfolio.choices import BacklogClass

        return self.open().filter(item_class=BacklogClass.RETIREMENT)

    def with_formula_score(self):
        """Annotate ``formula_score``: the priority score computed by the database."""
        return self.annotate(formula_score=formula_score_expression())

    def score_mismatches(self):
        """Rows whose stored priority score differs from the formula (the check constraint keeps
        this empty; the query is the proof a reviewer can run)."""
        return self.with_formula_score().exclude(priority_score=models.F("formula_score"))

    def with_list_related(self):
        """What a ranked row shows: capability, expected metric and the evidence record (one
        query per kind of evidence record, however many items)."""
        return self.select_related("capability", "expected_metric", "evidence_content_type").prefetch_related(
            "evidence"
        )

    def problem_spread(self) -> dict[str, int]:
        """{problem key: number of capabilities with an open item naming it}, in one query.

        Counted over every capability, not only those the reader sees: an item's rank must not
        depend on who looks at it. Only the count is shared, never the other capabilities' items.
        """
        rows = (
            self.open()
            .exclude(problem_key="")
            .order_by()
            .values("problem_key")
            .annotate(capabilities=models.Count("capability", distinct=True))
        )
        return {row["problem_key"]: row["capabilities"] for row in rows}

    def ranked(self, **sizes) -> list:
        """Rank these items by the 16.3 rules (``portfolio.backlog_ranking.backlog_rank``): one
        query for the items and their rows' relations, one for the portfolio's problem spread."""
        from portfolio.backlog_ranking import backlog_rank

        items = list(self.with_list_related())
        return backlog_rank(items, problem_spread=self.model.objects.problem_spread(), **sizes)
