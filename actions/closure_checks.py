"""Closure checks from data, shown on an action's page.

An app above this one (contracts) knows whether the data now proves an action done — e.g. the
contract back under warning for two periods. It registers a provider here at start-up, so the
action page can show "Data check passed / failing" without this app importing that one.
A provider takes an action and returns an object with ``passed`` (bool) and ``summary`` (text),
or None when it has nothing to say about that action.
"""

_PROVIDERS = []


def register(provider) -> None:
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def checks_for(action) -> list:
    results = []
    for provider in _PROVIDERS:
        check = provider(action)
        if check is not None:
            results.append(check)
    return results
