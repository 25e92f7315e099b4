"""Demo metric contracts, one module per capability: ``CAPABILITIES`` maps each capability's
slug to its ``CONTRACTS`` (see ``_build.contract`` for the shape of one)."""

from contracts.demo_data import (
    aml_triage,
    cc_agent_assist,
    collections_hardship,
    complaint_intelligence,
    kyc_onboarding,
    pricing_governance,
)

MODULES = [
    cc_agent_assist,
    complaint_intelligence,
    kyc_onboarding,
    collections_hardship,
    aml_triage,
    pricing_governance,
]

CAPABILITIES = {module.SLUG: module.CONTRACTS for module in MODULES}
