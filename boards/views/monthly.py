"""The monthly value board (playbook 18.3): decisions and exceptions first, then each
capability's outcome movement, net value, risk and adoption and roadmap implication, and the
outcome trends lower on the page (cut by cohort and version in place)."""

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from boards import monthly
from boards.registry import board_named
from boards.runtime import board_scope


@require_GET
def monthly_board(request):
    capabilities, chosen, visible = board_scope(request)
    month = monthly.month_asked(request, timezone.localdate())
    board = monthly.monthly_board(capabilities, month=month, user=request.user)
    wanted = board.outcome_contract_ids
    contracts = {contract.metric_id: contract for contract in monthly.contracts_named(tuple(wanted))}
    cards = monthly.board_trend_cards(
        [contracts[metric_id] for metric_id in wanted if metric_id in contracts]
    )
    cards_of = {}
    for card in cards:
        cards_of.setdefault(card.contract.capability_id, []).append(card)
    return render(
        request,
        "boards/monthly.html",
        {
            "board": board_named("monthly"),
            "monthly": board,
            "capability": chosen,
            "visible": visible,
            "trend_groups": [(row, cards_of.get(row.capability.pk, [])) for row in board.rows],
            "as_of": timezone.localdate() if board.partial else None,
        },
    )
