"""Demo readiness: a spread across the demo organisation (issue 10). The other demo builders leave
every capability only running, each for its own reasons (no weekly ops review, no incident that
changed the roadmap, a release deployed without its impact review, no release deployed at all, a
standing decision without evidence, expired assumptions). This builder closes the last two gaps
of complaint intelligence the way its PM would, through the registers' own services, so one
capability of the demo is operating:

- the root-cause label redesign decided without evidence is restated, citing its contracts and
  the taxonomy experiment (a new decision that supersedes it: the log is append-only);
- the expired assumptions are reviewed again with new evidence and a new expiry date.

It runs after the forums demo and is idempotent: a second run finds nothing left to do.
"""

import datetime

from django.utils import timezone

from assumptions.choices import AssumptionStatus
from assumptions.models import Assumption
from contracts.choices import ContractStatus
from contracts.models import MetricContract
from decisions.models import Decision
from decisions.services import decision_record
from experiments.models import Experiment

OPERATING_SLUG = "complaint-intelligence"
BARE_DECISION_START = "Redesign the root-cause label set with legal"
RESTATED = (
    "Redesign the root-cause label set with legal (restated with its evidence): 14 labels collapse "
    "into 9 that map to the action tracker. Label agreement and the classification QA sample are "
    "the contracts that judge it; the regulatory-first taxonomy experiment showed handlers route "
    "faster on fewer labels."
)
EVIDENCE_CONTRACTS = [
    "complaint_intel.root_cause_label_agreement",
    "complaint_intel.classification_accuracy_sample",
]
REVIEW_EVIDENCE = (
    "Re-reviewed at the readiness check: the November QA sample of 200 complaints and the "
    "classification cost contract still support it after the tax-v3 data release."
)
REVIEW_DAYS = 120


def restate_bare_decision(capability, *, by) -> Decision | None:
    """Supersede the standing redesign decision that cites no evidence with one that does."""
    bare = (
        Decision.objects.filter(
            capability=capability,
            decision__startswith=BARE_DECISION_START,
            evidence_links__isnull=True,
            superseded_by__isnull=True,
        )
        .exclude(decision=RESTATED)
        .first()
    )
    if bare is None:
        return None
    evidence = list(
        MetricContract.objects.filter(
            metric_id__in=EVIDENCE_CONTRACTS, capability=capability, status=ContractStatus.ACTIVE
        )
    )
    evidence += list(Experiment.objects.filter(capability=capability).order_by("readable_id")[:1])
    return decision_record(
        capability=capability,
        by=by,
        type=bare.type,
        decision=RESTATED,
        options_considered=bare.options_considered,
        owner=bare.owner,
        evidence=evidence,
        review_trigger=bare.review_trigger,
        supersedes=bare,
    )


def review_expired_assumptions(capability, *, by) -> int:
    """Review each expired assumption again: confirmed, with new evidence and a new expiry."""
    today = timezone.localdate()
    reviewed = 0
    for assumption in Assumption.objects.filter(capability=capability, status=AssumptionStatus.EXPIRED):
        assumption.review(
            by=by,
            new_status=AssumptionStatus.CONFIRMED,
            new_evidence=REVIEW_EVIDENCE,
            roadmap_impact="None: the roadmap keeps relying on it.",
            expires_on=today + datetime.timedelta(days=REVIEW_DAYS),
            next_review=today + datetime.timedelta(days=30),
        )
        reviewed += 1
    return reviewed


def seed(context) -> None:
    capability = context.capabilities.get(OPERATING_SLUG)
    if capability is None:
        return
    pm = context.owners[(OPERATING_SLUG, "ai_pm")]
    decision = restate_bare_decision(capability, by=pm)
    reviewed = review_expired_assumptions(capability, by=pm)
    print(
        f"Readiness demo: {capability.name}: {1 if decision else 0} decision restated with evidence, "
        f"{reviewed} expired assumptions reviewed."
    )
