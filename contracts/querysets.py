from django.db import models

from productops.permissions import visible_capability_ids


def _visible(queryset, user, capability_path: str):
    if not getattr(user, "is_authenticated", False):
        return queryset.none()
    visible = visible_capability_ids(user)
    return queryset if visible is None else queryset.filter(**{f"{capability_path}__in": visible})


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


class EvaluationQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _visible(self, user, "contract__capability_id")

    def whole_population(self):
        return self.filter(cut="")

    def at_own_grain(self, contracts):
        """The evaluations of these contracts at each one's own grain: a contract whose grain
        changed keeps its old rows, which no longer speak for it. One condition per grain."""
        by_grain: dict[str, list[int]] = {}
        for contract in contracts:
            by_grain.setdefault(contract.grain, []).append(contract.pk)
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
