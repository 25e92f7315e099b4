"""Loading contracts and signals for a request: 404 when the person holds no role on the
capability (another capability's metrics are not even confirmed to exist), 403 when they may
read but not change."""

import functools

from django.http import Http404
from django.shortcuts import get_object_or_404

from contracts.models import MetricContract, Signal
from portfolio.models import Capability
from productops.models import User
from productops.permissions import require_change, visible_capability_ids
from productops.reads import column_list, fetch, instances_of, placeholders
from productops.roles import Activity

# The contract, its capability and its three owners, in this order, in one joined row.
_CONTRACT_READ_MODELS = (MetricContract, Capability, User, User, User)


@functools.cache
def _contract_read() -> tuple[str, tuple]:
    """The contract read's SQL (up to its condition) and its columns' fields, worked out once."""
    sql = (
        f"SELECT {column_list(MetricContract, 'c')}, {column_list(Capability, 'cap')}, "
        f"{column_list(User, 'bo')}, {column_list(User, 'ao')}, {column_list(User, 'rr')} "
        "FROM contracts_metriccontract c "
        "INNER JOIN portfolio_capability cap ON cap.id = c.capability_id "
        "LEFT OUTER JOIN productops_user bo ON bo.id = c.business_owner_id "
        "LEFT OUTER JOIN productops_user ao ON ao.id = c.analytics_owner_id "
        "LEFT OUTER JOIN productops_user rr ON rr.id = c.risk_reviewer_id "
        "WHERE c.metric_id = %s"
    )
    return sql, tuple(field for model in _CONTRACT_READ_MODELS for field in model._meta.concrete_fields)


def get_contract_for_user(user, metric_id: str) -> MetricContract:
    """The contract with its capability and its three owners loaded; 404 when the person may
    not read it. Every contract page and the evidence binder open with it, so it is read by
    hand (productops.reads): the ORM compiled this five-table read in about 1.4 ms a request."""
    if not getattr(user, "is_authenticated", False):
        raise Http404
    sql, fields = _contract_read()
    params = [metric_id]
    visible = visible_capability_ids(user)
    if visible is not None:
        visible = sorted(visible)
        sql += f" AND c.capability_id IN ({placeholders(visible)})"
        params += visible
    rows = fetch(sql, params, fields)
    if not rows:
        raise Http404(f"No contract {metric_id} of yours.")
    contract, capability, business_owner, analytics_owner, risk_reviewer = instances_of(
        rows[0], *_CONTRACT_READ_MODELS
    )
    contract.capability = capability
    contract.business_owner = business_owner
    contract.analytics_owner = analytics_owner
    contract.risk_reviewer = risk_reviewer
    return contract


def get_contract_to_change(user, metric_id: str) -> MetricContract:
    contract = get_contract_for_user(user, metric_id)
    require_change(user, Activity.METRIC_CONTRACT, contract.capability)
    return contract


def get_signal_for_user(user, pk: int) -> Signal:
    return get_object_or_404(
        Signal.objects.visible_to(user).select_related("contract__capability", "action"),
        pk=pk,
    )
