"""One trend card drawn again with another cut: the board's cohort and version controls (htmx)."""

from django.views.decorators.http import require_GET

from boards.cards import trend_card
from boards.views.fragments import render_fragment
from contracts.access import get_contract_for_user


@require_GET
def trend_chart(request, metric_id):
    contract = get_contract_for_user(request.user, metric_id)
    card = trend_card(
        contract,
        by=request.GET.get("by", ""),
        dimension=request.GET.get("dimension", ""),
        cut=request.GET.get("cut", ""),
    )
    return render_fragment(request, "boards/trend_card.html", "boards/trend_card_page.html", {"card": card})
