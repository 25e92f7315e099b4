"""The dashboard stack of playbook 18.1: each board, its audience, cadence and what it must show."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Board:
    key: str
    url_name: str
    title: str
    audience: str
    cadence: str
    shows: str


BOARDS = [
    Board(
        "runtime",
        "boards:runtime",
        _("Runtime signal board"),
        _("PM, Architect, Ops, Platform"),
        _("daily"),
        _("incidents, SLO, latency, fallback, cost anomalies, signals of the last 24 hours"),
    ),
    Board(
        "weekly",
        "boards:weekly",
        _("Weekly ops board"),
        _("PM, BA, Ops, Risk"),
        _("weekly"),
        _("adoption, quality, risk, cost, actions"),
    ),
    Board(
        "monthly",
        "boards:monthly",
        _("Monthly value board"),
        _("Sponsor, PM, Finance, Risk"),
        _("monthly"),
        _("outcome, net value, value leakage, decision requested"),
    ),
    Board(
        "release_impact",
        "boards:release-impact",
        _("Release impact board"),
        _("PM, Architect, Risk"),
        _("weekly / monthly"),
        _("version changes, affected population, regressions"),
    ),
    Board(
        "portfolio",
        "boards:portfolio",
        _("Portfolio board"),
        _("Executives, Value Office"),
        _("quarterly"),
        _("value, risk, cost, reuse, funding, retirement"),
    ),
]


def board_named(key: str) -> Board:
    """The board of the stack with this key (``"weekly"``, ``"portfolio"``...)."""
    return next(item for item in BOARDS if item.key == key)
