"""One trend card drawn again with another cut: the board's cohort and version controls (htmx)."""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from boards.cards import trend_card
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
    template = "boards/trend_card.html" if request.htmx else "boards/trend_card_page.html"
    response = render(request, template, {"card": card})
    patch_vary_headers(response, ["HX-Request"])
    return response
