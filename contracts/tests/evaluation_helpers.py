"""Building blocks of the evaluation and signal tests: an active contract with round thresholds,
and observations written the way ingest writes them (set-based, canonical cohort keys)."""

import datetime

from contracts.models import MetricContract, Observation, cohort_key
from contracts.tests.factories import MetricContractFactory

# Mondays: the evaluation weeks of the tests.
W1 = datetime.date(2026, 6, 1)
W2 = datetime.date(2026, 6, 8)
W3 = datetime.date(2026, 6, 15)
W4 = datetime.date(2026, 6, 22)
W5 = datetime.date(2026, 6, 29)
W6 = datetime.date(2026, 7, 6)
WEEKS = [W1, W2, W3, W4, W5, W6]
# "Today" for the tests that look at due dates: after the weeks above.
TODAY = datetime.datetime(2026, 7, 20, 9, 0, tzinfo=datetime.UTC)


def make_contract(capability, **overrides) -> MetricContract:
    """Repeat contact within 7 days (lower is better) as a fraction: target 0.10, warning 0.12,
    breach 0.16; weekly; 30 cases a period at least; one period past the level raises a signal;
    two periods back under warning close it."""
    fields = {
        "capability": capability,
        "metric_id": "cc_agent_assist.repeat_contact_7d",
        "status": "active",
        "direction": "lower",
        "is_ratio": True,
        "unit": "%",
        "target": 0.10,
        "warning": 0.12,
        "breach": 0.16,
        "stop_level": None,
        "grain": "week",
        "min_sample_size": 30,
        "consecutive_periods": 1,
        "closure_periods": 2,
        "cohort_dimensions": ["intent", "team"],
        "required_cuts": ["intent"],
        "warning_action": "Sample 50 billing calls for QA",
        "warning_action_owner_role": "ai_pm",
        "warning_action_due_days": 14,
        "warning_closure_criterion": "QA sample shows repeat contact back under warning",
        "breach_action": "Hold prompt releases for billing and review the knowledge article",
        "breach_action_owner_role": "ai_pm",
        "breach_action_due_days": 7,
        "breach_closure_criterion": "",
    }
    fields.update(overrides)
    return MetricContractFactory(**fields)


def observe(
    contract,
    day,
    *,
    rate=None,
    value=None,
    n=100,
    cohort=None,
    version=None,
    numerator=None,
    denominator=None,
):
    """One daily observation. ``rate`` gives a ratio row (numerator = rate * n, denominator = n)."""
    cohort = cohort if cohort is not None else {"intent": "billing", "team": "north"}
    version = version if version is not None else {"prompt": "v12"}
    if rate is not None:
        numerator, denominator, value = rate * n, float(n), rate
    row = Observation(
        contract=contract,
        period_start=day,
        grain="day",
        cohort=cohort,
        cohort_key=cohort_key(cohort),
        version_set=version,
        version_key=cohort_key(version),
        value=value,
        numerator=numerator,
        denominator=denominator,
        sample_size=n,
        source="test",
    )
    Observation.objects.bulk_create([row])
    return row


def weekly(contract, rates, *, start=W1, n=100, cohort=None):
    """One observation on the Monday of each week, at the given rates (None skips the week)."""
    for index, rate in enumerate(rates):
        if rate is not None:
            observe(contract, start + datetime.timedelta(weeks=index), rate=rate, n=n, cohort=cohort)
