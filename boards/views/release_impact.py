"""The release impact board (playbook 18.1): version changes, affected population, regressions
and each release's impact review; reviews due or overdue first; the trends of the contracts the
releases moved, with their release markers, below."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards import release_impact
from boards.monthly import board_trend_cards
from boards.registry import board_named
from boards.runtime import board_scope
from contracts.models import MetricContract

WINDOWS = (30, 90, 180, 365)


@require_GET
def release_impact_board(request):
    capabilities, chosen, visible = board_scope(request)
    try:
        days = int(request.GET.get("days") or release_impact.DEFAULT_DAYS)
    except ValueError:
        days = release_impact.DEFAULT_DAYS
    days = days if days in WINDOWS else release_impact.DEFAULT_DAYS
    board = release_impact.release_board(capabilities, days=days)
    wanted = board.moved_contracts
    contracts = {
        contract.metric_id: contract
        for contract in MetricContract.objects.filter(
            metric_id__in=wanted, capability_id__in=[capability.pk for capability in capabilities]
        )
    }
    cards = board_trend_cards([contracts[metric_id] for metric_id in wanted if metric_id in contracts])
    return render(
        request,
        "boards/release_impact.html",
        {
            "board": board_named("release_impact"),
            "releases": board,
            "capability": chosen,
            "visible": visible,
            "windows": WINDOWS,
            "cards": cards,
        },
    )
