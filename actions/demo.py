"""Demo actions: per capability 12-18 actions in every state, some overdue, some reopened with
their earlier closure evidence kept. State changes go through the model's moves, so the history
on each page is real. Idempotent: an action is keyed on its capability and its text."""

import random
from contextlib import contextmanager
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone
from simple_history.signals import pre_create_historical_record

from actions.choices import SourceKind, TriggerKind
from actions.models import Action
from actions.services import action_create, action_reopen_from_trigger
from productops.models import Notification

S = SourceKind

# (action, source, source signal, closure criterion, owner role)
SPECIFIC = {
    "cc-agent-assist": [
        (
            "Sample 50 edited suggestions and update billing knowledge article",
            S.SIGNAL,
            "Contact-centre repeat contact up 8% in billing calls",
            "QA sample shows defect class reduced below warning threshold",
            "ops",
        ),
        (
            "Rewrite fee-explanation prompt for overdraft charges and re-run the regression eval",
            S.COMPLAINT,
            "Four complaints in two weeks citing a misleading overdraft fee explanation",
            "Regression eval passes on the 120 fee-explanation cases with no misleading answer",
            "business_analyst",
        ),
        (
            "Add a citation link to the knowledge article in every billing suggestion",
            S.FORUM_SESSION,
            "Agents edit 41% of billing suggestions; edit reasons cite missing source",
            "Edit rate on billing intents below 30% for two consecutive weeks",
            "ai_architect",
        ),
        (
            "Investigate p95 suggestion latency breach at the Leeds site",
            S.SIGNAL,
            "p95 latency 2.3 s at Leeds against a 1.5 s SLO",
            "p95 latency under 1.5 s at every site for 7 days, dashboard export attached",
            "platform",
        ),
        (
            "Run supervisor coaching on accept/edit/reject for the north team",
            S.FORUM_SESSION,
            "Qualified use at 38% in the north team against 60% target",
            "Qualified use at or above 55% in the north team for two weeks",
            "ops",
        ),
        (
            "Freeze the card-servicing prompt until the policy article is refreshed",
            S.INCIDENT,
            "Suggestion quoted a withdrawn card replacement fee",
            "Policy article v7 live and regression eval green on card-servicing cases",
            "risk_compliance",
        ),
        (
            "Reconcile AHT figures with repeat contact for the monthly value pack",
            S.RELEASE_REVIEW,
            "AHT down 9% but 7-day repeat contact not yet netted off",
            "Analytics note shows AHT net of repeat contact with both numerators traced",
            "analytics",
        ),
    ],
    "complaint-intelligence": [
        (
            "Review the false-negative sample for regulatory complaints",
            S.SIGNAL,
            "Regulatory capture 98.1% this week against 99% target",
            "Sample of 200 routed complaints shows regulatory false negatives below 1%",
            "risk_compliance",
        ),
        (
            "Split the 'fees and charges' taxonomy label into three sub-labels",
            S.FORUM_SESSION,
            "Handlers reclassify 22% of 'fees and charges' cases",
            "Reclassification on fee complaints below 10% for two weeks after the taxonomy release",
            "business_analyst",
        ),
        (
            "Add the branch complaint channel to the routing feed",
            S.RELEASE_REVIEW,
            "Branch complaints arrive 2 days late through the manual upload",
            "Branch complaints classified within 5 minutes of receipt for 7 days",
            "platform",
        ),
        (
            "Publish the root-cause action tracker for legal",
            S.COMPLAINT,
            "Legal cannot see which root-cause actions closed",
            "Legal signs off the tracker view listing every root-cause action with its closure evidence",
            "analytics",
        ),
        (
            "Retrain handlers on the vulnerable-customer flag",
            S.INCIDENT,
            "Two vulnerable-customer complaints routed to the standard queue",
            "Handler QA sample shows vulnerable-customer flag applied on all sampled cases",
            "ops",
        ),
    ],
    "kyc-onboarding": [
        (
            "Add the 'expired proof of address' reason code to the completeness check",
            S.SIGNAL,
            "Customer chases up 15% for proof-of-address documents",
            "Chase rate for proof of address back to baseline for two weeks",
            "business_analyst",
        ),
        (
            "Hold the sole-trader expansion until the false-pass sample is clean",
            S.INCIDENT,
            "Severe false pass: incomplete sole-trader file passed KYC",
            "False-pass sample on 300 sole-trader files below 0.5% with no severe false pass",
            "risk_compliance",
        ),
        (
            "Update the eval set with the 12 false passes from the June audit",
            S.INCIDENT,
            "June audit found 12 false passes not covered by the eval set",
            "Eval set v14 includes all 12 cases and the parser passes them",
            "analytics",
        ),
        (
            "Rewrite the customer notification for missing documents",
            S.COMPLAINT,
            "Abandonment up 2 points after the new notification wording",
            "Abandonment back at or below 11% for two weeks",
            "ops",
        ),
        (
            "Benchmark the document parser upgrade on the 11 document types",
            S.RELEASE_REVIEW,
            "Parser v3 proposed for the release calendar",
            "Benchmark report per document type with no regression above 0.2 points",
            "ai_architect",
        ),
    ],
    "collections-hardship": [
        (
            "Review every pressure complaint from the pilot teams",
            S.COMPLAINT,
            "Three complaints about inappropriate pressure in the pilot teams",
            "Each complaint reviewed with a prompt or training fix recorded",
            "risk_compliance",
        ),
        (
            "Tune the vulnerability-detection threshold with the specialists",
            S.SIGNAL,
            "Specialist referrals down 30% since the pilot started",
            "QA sample of 100 hardship calls shows no missed vulnerability referral",
            "business_analyst",
        ),
        (
            "Add the breathing-space script to the guidance",
            S.FORUM_SESSION,
            "Agents improvise the breathing-space explanation",
            "Script live and QA sample shows suitable breathing-space explanations at or above 95%",
            "ops",
        ),
        (
            "Build the manager coaching report on arrangement suitability",
            S.EXPERIMENT,
            "Coaching experiment needs per-agent suitability data",
            "Report delivered to both pilot team managers with last month's data",
            "analytics",
        ),
    ],
    "aml-triage": [
        (
            "Add the missed trade-based typology to the retrieval corpus",
            S.INCIDENT,
            "Audit sample found a missed trade-based money laundering typology",
            "Eval, corpus and sampling updated; the audit case is retrieved and escalated",
            "risk_compliance",
        ),
        (
            "Cut alert aging in the high-risk queue",
            S.SIGNAL,
            "Alert aging 8.1 days in the high-risk queue against 6.2 baseline",
            "Alert aging at or below 6 days for two weeks in the high-risk queue",
            "ops",
        ),
        (
            "Capture investigator feedback on narrative drafts",
            S.FORUM_SESSION,
            "Edit distance flat at 0.42 for three weeks",
            "Feedback capture live and used on 50% of escalated alerts",
            "ai_architect",
        ),
        (
            "Reconcile narrative defect classes with the QA team",
            S.SIGNAL,
            "Narrative defect rate 7% against 5% target",
            "Shared defect taxonomy agreed and applied to the last two weeks of QA",
            "analytics",
        ),
    ],
    "pricing-governance": [
        (
            "Review the fairness signal on the north-region personal loans",
            S.SIGNAL,
            "Fairness proxy gap at warning level in the north region",
            "Risk review memo with segment analysis and a restrict-or-continue recommendation",
            "risk_compliance",
        ),
        (
            "Require an override reason on every branch price change",
            S.FORUM_SESSION,
            "Override reasons missing on 30% of branch overrides",
            "Override reason recorded on at least 98% of overrides for two weeks",
            "business_analyst",
        ),
        (
            "Reword the pricing explanation shown to customers",
            S.COMPLAINT,
            "Customers call to ask why their rate differs from the advertised one",
            "Explanation v3 approved by risk and live; complaint volume on rate queries down",
            "ops",
        ),
        (
            "Add policy-drift alerts to the pricing dashboard",
            S.RELEASE_REVIEW,
            "Eligibility policy changed without a dashboard marker",
            "Dashboard shows a marker for every eligibility policy change since January",
            "platform",
        ),
    ],
}

# Actions every capability's weekly ops review raises sooner or later.
GENERIC = [
    (
        "Assign an owner and action rule to the {metric} contract",
        S.FORUM_SESSION,
        "Metric shown on the weekly board without an owner",
        "Contract record lists business, analytics and risk owners and the warning/breach actions",
        "analytics",
    ),
    (
        "Document the rollback plan for the next prompt release",
        S.RELEASE_REVIEW,
        "Release review found no tested rollback plan",
        "Rollback rehearsed in staging and the plan linked from the release calendar",
        "ai_architect",
    ),
    (
        "Refresh the cost-per-case figures for the monthly value review",
        S.FORUM_SESSION,
        "Cost per case last computed two months ago",
        "Finance-reviewed cost per case for the last month, with the query attached",
        "analytics",
    ),
    (
        "Add a cohort cut by site to the adoption funnel",
        S.SIGNAL,
        "Adoption drop is not visible by site",
        "Adoption funnel shows every site with at least 4 weeks of history",
        "business_analyst",
    ),
    (
        "Close the gap between QA sampling rate and the risk tier",
        S.FORUM_SESSION,
        "QA samples 1% of cases on a {tier}-risk capability",
        "Sampling plan approved by risk and the first sample delivered",
        "ops",
    ),
    (
        "Trace every number in the weekly pack to its metric contract",
        S.FORUM_SESSION,
        "Two numbers in last week's pack had no contract behind them",
        "Evidence binder links each pack number to a contract, a source and an owner",
        "analytics",
    ),
    (
        "Run the incident review on last month's Sev3 and record the learning item",
        S.INCIDENT,
        "Sev3 closed without a backlog or eval update",
        "Learning item recorded: a backlog item or eval update linked from the incident",
        "risk_compliance",
    ),
    (
        "Agree the decision requested for next week's ops review",
        S.FORUM_SESSION,
        "Last two sessions ran without a decision requested",
        "Session agenda lists the decision requested and its evidence three days ahead",
        "business_analyst",
    ),
    (
        "Check the fallback path when the model provider times out",
        S.INCIDENT,
        "Fallback not triggered during the 14-minute provider outage",
        "Chaos test shows the fallback within 5 s; runbook updated",
        "platform",
    ),
]

METRICS = {
    "cc-agent-assist": ("cc_agent_assist.repeat_contact_7d", "0.15"),
    "complaint-intelligence": ("complaint_intelligence.regulatory_false_negative_rate", "0.01"),
    "kyc-onboarding": ("kyc_onboarding.document_false_pass_rate", "0.005"),
    "collections-hardship": ("collections_hardship.broken_arrangement_rate", "0.24"),
    "aml-triage": ("aml_triage.alert_aging_days", "6.5"),
    "pricing-governance": ("pricing_governance.override_rate", "0.2"),
}

EVIDENCE = [
    "QA sample of {n} cases reviewed on {day}: {criterion_lower}. Sample sheet in the QA share.",
    "Dashboard export for the last two weeks attached to the weekly pack: {criterion_lower}.",
    "Change shipped on {day}; follow-up check by analytics confirms it: {criterion_lower}.",
]

BLOCKERS = [
    "Waiting for the CRM vendor to expose the edit-reason field.",
    "Needs a data-sharing approval from the privacy office.",
    "Knowledge team at capacity until the quarter-end release.",
    "No QA analyst free to run the sample this sprint.",
]

# The states each capability shows at least once, then a random mix.
# Every state comes within the first ten, since the smallest capability has ten actions.
STATE_PLAN = [
    "in_progress_overdue",
    "open",
    "blocked",
    "awaiting",
    "closed",
    "reopened",
    "reopened_by_trigger",
    "open_overdue",
    "sent_back",
    "blocked_overdue",
    "in_progress",
    "closed",
]
EXTRA_STATES = ["open", "in_progress", "in_progress_overdue", "awaiting", "closed", "closed", "blocked"]


def _evidence(rng, criterion: str, today) -> str:
    template = rng.choice(EVIDENCE)
    return template.format(
        n=rng.choice([30, 50, 100, 200]),
        day=(today - timedelta(days=rng.randint(1, 6))).isoformat(),
        criterion_lower=criterion[0].lower() + criterion[1:],
    )


def _drive(action, plan: str, *, rng, owner, reviewer, pm, today) -> None:
    """Take a fresh action through the moves its planned state needs."""
    state = plan.removesuffix("_overdue")
    if state == "open":
        return
    verifier = reviewer or pm
    action.start(by=owner)
    if state == "in_progress":
        return
    if state == "blocked":
        action.block(by=owner, reason=rng.choice(BLOCKERS))
        return
    if state == "sent_back":
        action.submit_evidence(by=owner, text=_evidence(rng, action.closure_criterion, today))
        action.send_back(
            by=verifier,
            comment="The sample covers one site only; re-run it across all sites before closing.",
        )
        return
    action.submit_evidence(by=owner, text=_evidence(rng, action.closure_criterion, today))
    if state == "awaiting":
        return
    action.verify(by=verifier, comment="Evidence meets the closure criterion.")
    if state == "reopened":
        action.reopen(by=pm, reason="The signal came back in this week's review: the fix did not hold.")
    elif state == "reopened_by_trigger":
        action_reopen_from_trigger(action, "Scheduled re-check")


def _pool(slug: str, capability) -> list[tuple]:
    metric = METRICS.get(slug, ("", ""))[0] or "primary outcome"
    generic = [
        (text.format(metric=metric), kind, signal.format(tier=capability.risk_tier), criterion, role)
        for text, kind, signal, criterion, role in GENERIC
    ]
    return SPECIFIC.get(slug, []) + generic


@contextmanager
def _created_in_history_on(when):
    """The action created inside enters its history dated ``when`` (the demo's past). The row is
    written with that date: history rows are never updated afterwards (productops.audit)."""

    def date_it(sender, history_instance, **kwargs):
        if history_instance.history_type == "+":
            history_instance.history_date = when

    pre_create_historical_record.connect(date_it, sender=Action.history.model)
    try:
        yield
    finally:
        pre_create_historical_record.disconnect(date_it, sender=Action.history.model)


def seed(context) -> None:
    started = timezone.now()
    today = timezone.localdate()
    for slug, capability in context.capabilities.items():
        # One random stream per capability: the demo is the same whatever other builders draw.
        rng = random.Random(f"actions-demo-{slug}")
        ages = random.Random(f"actions-demo-ages-{slug}")
        pool = _pool(slug, capability)
        count = min(len(pool), rng.randint(12, 18))
        plans = (STATE_PLAN + [rng.choice(EXTRA_STATES) for _ in range(count)])[:count]
        existing = set(Action.objects.filter(capability=capability).values_list("action", flat=True))
        pm = context.owners[(slug, "ai_pm")]
        risk_partner = context.owners[(slug, "risk_compliance")]
        demo_pm = context.logins.get("pm")
        demo_pm_here = demo_pm is not None and demo_pm.role_assignments.filter(capability=capability).exists()
        metric_id, level = METRICS.get(slug, ("", ""))
        for index, ((text, kind, signal, criterion, role), plan) in enumerate(
            zip(pool[:count], plans, strict=True)
        ):
            if text in existing:
                continue
            owner = context.owners[(slug, role)]
            reviewer = risk_partner if owner != risk_partner else pm
            if index == 0 and demo_pm_here:
                # The demo PM owns an overdue action, so her header shows something to do.
                owner, reviewer, plan = demo_pm, risk_partner, "in_progress_overdue"
            elif index == 3 and "risk" in context.logins:
                reviewer = context.logins["risk"]  # the demo risk login has evidence to verify
            elif index == 1 and "ops" in context.logins:
                owner = context.logins["ops"]
            if plan.endswith("_overdue"):
                due = today - timedelta(days=rng.randint(1, 25))
            elif plan.startswith(("closed", "reopened")):
                due = today - timedelta(days=rng.randint(0, 20))
            else:
                due = today + timedelta(days=rng.randint(0, 28))
            trigger = None
            if plan == "reopened_by_trigger":
                trigger = {"kind": TriggerKind.RECHECK_DATE, "recheck_on": today}
            elif metric_id and (plan.startswith(("closed", "reopened")) or rng.random() < 0.3):
                trigger = {
                    "kind": TriggerKind.CONTRACT_LEVEL,
                    "contract_metric_id": metric_id,
                    "comparison": "at_or_above",
                    "level": Decimal(level),
                    "periods": 2,
                }
            # Raised some days ago, so the open-by-age buckets have something in each.
            raised = started - timedelta(days=ages.choice([2, 5, 10, 12, 20, 28, 40, 55]))
            with _created_in_history_on(raised):
                action = action_create(
                    capability=capability,
                    by=pm,
                    action=text,
                    owner=owner,
                    reviewer=reviewer,
                    due_date=due,
                    closure_criterion=criterion,
                    source_kind=kind,
                    source_signal=signal,
                    reopen_trigger=trigger,
                )
            _drive(action, plan, rng=rng, owner=owner, reviewer=reviewer, pm=pm, today=today)
            Action.objects.filter(pk=action.pk).update(created_at=raised)
    # The demo's notifications are recorded as delivered: loading it sends no e-mail.
    Notification.objects.filter(created_at__gte=started, sent_at__isnull=True).update(sent_at=timezone.now())
