"""Fixtures of the assumption ledger's tests (the shared ones live in the top conftest.py)."""

import pytest

from assumptions.tests.factories import AssumptionFactory


@pytest.fixture
def owner(make_person, capability):
    """An ops lead on the capability: may own an assumption, may not change the ledger (C)."""
    return make_person("ops", capability, username="ops-lead")


@pytest.fixture
def assumption(capability, owner):
    return AssumptionFactory(
        capability=capability,
        owner=owner,
        statement="QA can sample 2% of assisted cases without queue impact.",
    )


@pytest.fixture
def other_assumption(other_capability, make_person):
    return AssumptionFactory(
        capability=other_capability,
        owner=make_person("ops", other_capability),
        statement="Reviewers trust the completeness view.",
    )
