"""The weekly ops board (playbook 18.2): the wireframe's header, then the adoption, quality,
risk and complaints, reliability and cost, and action-closure rows. ``?capability=<slug>`` cuts
it to one capability."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards import runtime, weekly
from boards.registry import BOARDS


@require_GET
def weekly_board(request):
    capabilities, chosen, visible = runtime.board_scope(request)
    board = weekly.weekly_board(capabilities=capabilities, user=request.user)
    # The trends to look at are drawn with the page (the most alarming first); the quiet ones
    # are folded and load when unfolded.
    looked_at = [figure for figure in board.charted if weekly.needs_a_look(figure)]
    cards = runtime.board_cards(looked_at)
    for figure in board.charted:
        figure.card = cards.get(figure.contract.pk) or runtime.PendingCard(figure.contract)
    return render(
        request,
        "boards/weekly.html",
        {
            "board": next(b for b in BOARDS if b.key == "weekly"),
            "weekly": board,
            "capability": chosen,
            "visible": visible,
            "scope_slug": chosen.slug if chosen else "",
            "failure_window_days": weekly.FAILURE_WINDOW_DAYS,
            "closed_window_days": weekly.CLOSED_WINDOW_DAYS,
        },
    )
