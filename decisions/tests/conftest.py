import pytest

from decisions.services import decision_record


@pytest.fixture
def record(capability, pm):
    """record(**overrides) -> a decision recorded through the service by the capability's PM."""

    def make(**overrides):
        arguments = {
            "capability": capability,
            "by": pm,
            "type": "scale_selectively",
            "decision": "Scale selectively: cycle time down in low-risk retail, EDD defects unchanged.",
            "options_considered": "Scale to all entities; scale selectively; hold",
            "owner": pm,
            "review_trigger": "A severe false pass in a high-risk entity.",
        }
        arguments.update(overrides)
        return decision_record(**arguments)

    return make
