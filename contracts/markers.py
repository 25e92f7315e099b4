"""Markers on a contract's trend chart (playbook 18.4: release markers stand on the trends).

Contracts import no higher app, so the apps that know about dated events (the release calendar)
register a provider here when they start. A provider works on many contracts at once — a board
draws a dozen trends and must not ask once per contract: it takes a list of contracts and returns
``{contract pk: [(date, label), ...]}`` in a fixed number of statements. The contract page asks
``markers_for(contract)``; boards and other batch readers ask ``markers_for_many(contracts)``.
"""

import datetime
from collections.abc import Callable, Mapping, Sequence

from contracts.choices import Category

Marker = tuple[datetime.date, str]
Provider = Callable[[Sequence[object]], Mapping[int, Sequence[Marker]]]

# Which trends carry markers. Playbook 18.4 asks for release markers on outcome and defect
# (quality) trends; we put them on every category a release can move: adoption (what users see
# changes), risk (harm and policy breaches are what a bad release causes), reliability and cost
# (a new model or prompt changes latency, fallback and cost per case). The post-release impact
# review (21.3) judges exactly these contracts for regressions, and the marker is what ties a
# regression on the chart to the change that caused it. Learning contracts (the team's own loop:
# experiments run, time to decision) do not move with a release, so they stay unmarked.
MARKED_CATEGORIES = frozenset(
    {
        Category.OUTCOME,
        Category.QUALITY,
        Category.ADOPTION,
        Category.RISK,
        Category.RELIABILITY,
        Category.COST,
    }
)

_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a marker provider (once; registering the same function again changes nothing)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def carries_markers(contract) -> bool:
    return contract.category in MARKED_CATEGORIES


def markers_for_many(contracts: Sequence) -> dict[int, list[Marker]]:
    """Every provider's markers for each contract (keyed by pk, in date order); one call per
    provider whatever the number of contracts. Contracts whose category carries no markers get
    an empty list without being handed to a provider."""
    contracts = list(contracts)
    found: dict[int, list[Marker]] = {contract.pk: [] for contract in contracts}
    marked = [contract for contract in contracts if carries_markers(contract)]
    if marked:
        for provider in _PROVIDERS:
            for pk, markers in (provider(marked) or {}).items():
                if pk in found:
                    found[pk].extend(markers or ())
    return {pk: sorted(markers, key=lambda m: (m[0], str(m[1]))) for pk, markers in found.items()}


def markers_for(contract) -> list[Marker]:
    """Every provider's markers for the contract, in date order."""
    return markers_for_many([contract])[contract.pk]
