"""The release calendar's markers on contract trend charts: each deployed release of the
contract's capability is a vertical line labelled with its release id (and a rollback is one
too), so a trend shows which change it follows."""

from django.utils import timezone
from django.utils.translation import gettext

from contracts.periods import period_start_of, shift_period
from productops.reads import fetch, fields_of, placeholders

# The contract page draws the last 26 periods (contracts.charts.contract_trend's default);
# older releases would only stretch its axis.
CHART_PERIODS = 26


def _since(contract, today):
    return shift_period(period_start_of(today, contract.grain), contract.grain, -CHART_PERIODS)


def release_markers(contracts) -> dict[int, list]:
    """``{contract pk: [(date, label), ...]}`` for many contracts in one statement: the deployed
    releases (and rollbacks) of each contract's capability within its chart's reach."""
    from releases.models import Release

    contracts = list(contracts)
    if not contracts:
        return {}
    today = timezone.localdate()
    since = {contract.pk: _since(contract, today) for contract in contracts}
    capability_ids = sorted({contract.capability_id for contract in contracts})
    # Hand-written (productops.reads): every board and contract page draws markers.
    rows = fetch(
        "SELECT capability_id, readable_id, deployed_date, rolled_back_date FROM releases_release "
        f"WHERE capability_id IN ({placeholders(capability_ids)}) AND deployed_date IS NOT NULL "
        "AND deployed_date >= %s ORDER BY deployed_date, id",
        [*capability_ids, min(since.values())],
        fields_of(Release, "capability_id", "readable_id", "deployed_date", "rolled_back_date"),
    )
    by_capability: dict[int, list] = {}
    for capability_id, readable_id, deployed, rolled_back in rows:
        by_capability.setdefault(capability_id, []).append((readable_id, deployed, rolled_back))
    markers: dict[int, list] = {}
    for contract in contracts:
        found = markers[contract.pk] = []
        for readable_id, deployed, rolled_back in by_capability.get(contract.capability_id, ()):
            if deployed < since[contract.pk]:
                continue
            found.append((deployed, readable_id))
            if rolled_back is not None:
                found.append((rolled_back, gettext("%(id)s rolled back") % {"id": readable_id}))
    return markers
