"""The release calendar's markers on contract trend charts: each deployed release of the
contract's capability is a vertical line labelled with its release id (and a rollback is one
too), so a trend shows which change it follows."""

from django.utils import timezone
from django.utils.translation import gettext

from contracts.periods import period_start_of, shift_period

# The contract page draws the last 26 periods (contracts.charts.contract_trend's default);
# older releases would only stretch its axis.
CHART_PERIODS = 26


def release_markers(contract) -> list:
    from releases.models import Release

    since = shift_period(
        period_start_of(timezone.localdate(), contract.grain), contract.grain, -CHART_PERIODS
    )
    rows = (
        Release.objects.filter(capability_id=contract.capability_id, deployed_date__isnull=False)
        .filter(deployed_date__gte=since)
        .order_by("deployed_date", "id")
        .values_list("readable_id", "deployed_date", "rolled_back_date")
    )
    markers = []
    for readable_id, deployed, rolled_back in rows:
        markers.append((deployed, readable_id))
        if rolled_back is not None:
            markers.append((rolled_back, gettext("%(id)s rolled back") % {"id": readable_id}))
    return markers
