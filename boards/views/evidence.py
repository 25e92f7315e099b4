"""The evidence binder (playbook 18.1): from a figure on a board to its contract, observations
and their source, evaluations, signals, actions and their closure evidence, and the decisions,
releases, experiments and incidents around it. ``?cut=intent=billing`` and ``?period=2026-06-08``
name the figure (``&span=month``: the calendar month containing it, as the monthly value board
shows a weekly contract); without them it is the whole population's latest evaluated period."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards import binder as binders
from boards.cards import trend_card
from contracts.access import get_contract_for_user


@require_GET
def evidence_binder(request, metric_id):
    contract = get_contract_for_user(request.user, metric_id)
    binder = binders.evidence_binder(
        contract,
        user=request.user,
        cut=request.GET.get("cut", ""),
        period=request.GET.get("period", ""),
        span=request.GET.get("span", ""),
    )
    card = trend_card(contract, cut=binder.cut, height="300px")
    return render(request, "boards/evidence.html", {"binder": binder, "contract": contract, "card": card})
