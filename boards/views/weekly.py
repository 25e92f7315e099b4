"""The weekly ops board (playbook 18.2): the wireframe's header, then the adoption, quality,
risk and complaints, reliability and cost, and action-closure rows. ``?capability=<slug>`` cuts
it to one capability. Its folds (a slot's contracts with nothing past warning, organisation-wide;
a row's other contracts) load when the reader opens them: ``weekly_fold``."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards import runtime, weekly
from boards.registry import board_named
from boards.views.fragments import render_fragment


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
            "board": board_named("weekly"),
            "weekly": board,
            "capability": chosen,
            "visible": visible,
            "scope_slug": chosen.slug if chosen else "",
            "failure_window_days": weekly.FAILURE_WINDOW_DAYS,
            "closed_window_days": weekly.CLOSED_WINDOW_DAYS,
        },
    )


@require_GET
def weekly_fold(request, key):
    """One fold of the weekly board, for the same capabilities: its figures table (and, for a
    slot's quiet contracts, their trend cards, each loading when scrolled to). The fragment for
    htmx; a page of its own for a browser without JavaScript (the fold's plain link)."""
    capabilities, chosen, visible = runtime.board_scope(request)
    fold = weekly.weekly_fold(key, capabilities=capabilities)
    if fold is None:
        raise Http404(key)
    if fold.quiet:
        for figure in fold.figures:
            figure.card = runtime.PendingCard(figure.contract)
    return render_fragment(
        request,
        "boards/weekly_fold.html",
        "boards/weekly_fold_page.html",
        {
            "board": board_named("weekly"),
            "fold": fold,
            "multi": len(capabilities) > 1,
            "capability": chosen,
            "visible": visible,
            "scope_slug": chosen.slug if chosen else "",
        },
    )
