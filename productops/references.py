"""Readable ids as references: people type ``ACT-0042`` or ``DEC-0007`` into a form (evidence
links, sources) and the product finds the record, whatever app it lives in.

Every ``ReadableIdModel`` subclass registers its prefix here when its class is created, so this
module imports no asset app.
"""

import re

_PREFIXES: dict[str, type] = {}
_READABLE_ID = re.compile(r"^(?P<prefix>[A-Z]+(?:-\d{4})?)-(?P<number>\d+)$")


def register(prefix: str, model: type) -> None:
    if prefix:
        _PREFIXES[prefix] = model


def model_for_prefix(prefix: str):
    return _PREFIXES.get(prefix)


def resolve(reference: str):
    """The record a readable id names, or None when there is none (no exception for typos)."""
    match = _READABLE_ID.match((reference or "").strip().upper())
    if not match:
        return None
    prefix = match["prefix"]
    model = _PREFIXES.get(prefix) or _PREFIXES.get(prefix.split("-")[0])
    if model is None:
        return None
    return model._default_manager.filter(readable_id=match.group(0)).first()
