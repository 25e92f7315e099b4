"""The portfolio board (playbook 18.1, 9.2-9.4): capabilities side by side on value, risk, cost,
reuse, funding and retirement, retirement candidates first; the evidence one click away."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards import portfolio
from boards.registry import board_named
from boards.runtime import board_scope


@require_GET
def portfolio_board(request):
    capabilities, chosen, visible = board_scope(request)
    board = portfolio.portfolio_board(capabilities, user=request.user)
    return render(
        request,
        "boards/portfolio.html",
        {
            "board": board_named("portfolio"),
            "portfolio": board,
            "capability": chosen,
            "visible": visible,
            "columns": [(key, label) for key, label, _dimensions in portfolio.COLUMNS],
        },
    )
