"""The runtime signal board (playbook 18.1, daily): what needs someone today, open incidents by
severity, SLO / latency / fallback, cost anomalies, the last 24 hours' signals and the podcast's
five dashboard signals. ``?capability=<slug>`` cuts it to one capability. A long list of problems
not yet remediated is folded and loads when opened: ``runtime_unremediated``."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards import runtime as readings
from boards.registry import board_named
from boards.views.fragments import render_fragment


@require_GET
def runtime_board(request):
    try:
        capabilities, chosen, visible = readings.board_scope(request)
    except readings.UnknownCapability as unknown:
        # Bad input gets an answer naming the field and what it may be, not a bare 404 page.
        return render(
            request,
            "boards/runtime_unknown.html",
            {
                "board": board_named("runtime"),
                "unknown": unknown,
                "visible": unknown.visible,
                "capability": None,
            },
            status=404,
        )
    board = readings.runtime_board(capabilities=capabilities, user=request.user)
    cards = readings.board_cards(board.charted)
    for figure in board.charted:
        figure.card = cards.get(figure.contract.pk)
    return render(
        request,
        "boards/runtime.html",
        {
            "board": board_named("runtime"),
            "runtime": board,
            "capability": chosen,
            "visible": visible,
            "scope_slug": chosen.slug if chosen else "",
            "sharp_rise_percent": round(readings.SHARP_RISE * 100),
            "cost_outcome_periods": readings.COST_OUTCOME_PERIODS,
            "cost_outcome_notice_percent": round(readings.COST_OUTCOME_NOTICE * 100),
            "remediation_window_days": readings.REMEDIATION_WINDOW_DAYS,
        },
    )


@require_GET
def runtime_unremediated(request):
    """The problems not yet remediated, oldest first, for the board's capabilities: the fragment
    for htmx (the board's fold), a page of its own without JavaScript."""
    capabilities, chosen, visible = readings.board_scope(request)
    return render_fragment(
        request,
        "boards/runtime_unremediated.html",
        "boards/runtime_unremediated_page.html",
        {
            "board": board_named("runtime"),
            "items": readings.unremediated_items(capabilities),
            "multi": len(capabilities) > 1,
            "capability": chosen,
            "visible": visible,
            "scope_slug": chosen.slug if chosen else "",
        },
    )
