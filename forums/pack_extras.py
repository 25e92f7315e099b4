"""What the apps above forums add to a review pack (ARCHITECTURE: when a lower app must show
something a higher one knows). Forums import no higher app, so an app that reads everything
(operating readiness, ops hygiene) registers a provider here when it starts; ``pack_snapshot``
asks every provider while it builds the pack and freezes the answers under ``extras``, so the
pack that was e-mailed shows the same figures when it is rendered again later.

A provider is ``provider(*, capabilities, cadence, today) -> JSON-safe data or None`` (None:
nothing for this cadence); it works on all the pack's capabilities at once.
"""

import datetime
from collections.abc import Callable, Sequence

Provider = Callable[..., object]

_PROVIDERS: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> Provider:
    """Add (or replace) the provider of ``extras[key]``."""
    _PROVIDERS[key] = provider
    return provider


def pack_extras(*, capabilities: Sequence, cadence: str, today: datetime.date) -> dict:
    """{key: data} of every provider that has something for this cadence."""
    extras = {}
    for key, provider in _PROVIDERS.items():
        data = provider(capabilities=capabilities, cadence=cadence, today=today)
        if data is not None:
            extras[key] = data
    return extras
