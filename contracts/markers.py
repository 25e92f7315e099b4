"""Markers on a contract's trend chart (playbook 18.4: release markers stand on the trends).

Contracts import no higher app, so the apps that know about dated events (the release calendar)
register a provider here when they start: a function that takes a contract and returns
``[(date, label), ...]``. The contract page asks ``markers_for(contract)``.
"""

import datetime
from collections.abc import Callable

Provider = Callable[[object], list[tuple[datetime.date, str]]]

_PROVIDERS: list[Provider] = []


def register(provider: Provider) -> Provider:
    """Add a marker provider (once; registering the same function again changes nothing)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)
    return provider


def markers_for(contract) -> list[tuple[datetime.date, str]]:
    """Every provider's markers for the contract, in date order."""
    markers: list[tuple[datetime.date, str]] = []
    for provider in _PROVIDERS:
        markers.extend(provider(contract) or ())
    return sorted(markers, key=lambda marker: (marker[0], str(marker[1])))
