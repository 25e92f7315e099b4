"""Loading contracts and signals for a request: 404 when the person holds no role on the
capability (another capability's metrics are not even confirmed to exist), 403 when they may
read but not change."""

from django.shortcuts import get_object_or_404

from contracts.models import MetricContract, Signal
from productops.permissions import require_change
from productops.roles import Activity


def get_contract_for_user(user, metric_id: str) -> MetricContract:
    return get_object_or_404(
        MetricContract.objects.visible_to(user).select_related(
            "capability", "business_owner", "analytics_owner", "risk_reviewer"
        ),
        metric_id=metric_id,
    )


def get_contract_to_change(user, metric_id: str) -> MetricContract:
    contract = get_contract_for_user(user, metric_id)
    require_change(user, Activity.METRIC_CONTRACT, contract.capability)
    return contract


def get_signal_for_user(user, pk: int) -> Signal:
    return get_object_or_404(
        Signal.objects.visible_to(user).select_related("contract__capability", "action"),
        pk=pk,
    )
