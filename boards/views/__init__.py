"""Pages of the boards app (playbook 18), one module per board; ``chart`` serves one trend card
again with another cohort or version cut (htmx), ``evidence`` the evidence binder."""

from boards.views.chart import trend_chart  # noqa: F401
from boards.views.evidence import evidence_binder  # noqa: F401
from boards.views.index import index  # noqa: F401
from boards.views.monthly import monthly_board  # noqa: F401
from boards.views.portfolio import portfolio_board  # noqa: F401
from boards.views.release_impact import release_impact_board  # noqa: F401
from boards.views.runtime import runtime_board, runtime_unremediated  # noqa: F401
from boards.views.weekly import weekly_board, weekly_fold  # noqa: F401
