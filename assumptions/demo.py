"""Demo assumption ledgers: per capability, the playbook's seven assumption types (14.2)
adapted to its workflow, reviewed into every status the monthly value review uses.

Idempotent: an assumption is keyed on (capability, statement) and left alone once it exists.
Dates are relative to today.
"""

from datetime import timedelta

from django.utils import timezone

from assumptions.choices import AssumptionStatus, AssumptionType
from assumptions.models import Assumption, AssumptionReview
from assumptions.services import assumption_create, assumptions_expire_due

T = AssumptionType

# Who owns each type of belief (the owner map's roles).
OWNER_ROLE = {
    T.VALUE: "ai_pm",
    T.ADOPTION: "ops",
    T.RISK: "risk_compliance",
    T.COST: "finance",
    T.CAPACITY: "ops",
    T.POLICY: "risk_compliance",
    T.TECHNICAL: "ai_architect",
}

# What happens to each assumption in the demo, by its place in the capability's list.
SCENARIOS = [
    "confirmed",
    "weakened",
    "needs_evidence",
    "confirmed",
    "invalidated",
    "expired",
    "overdue",
    "soon",
]

# The metric id prefix of each capability's contracts (contracts/demo_data).
METRIC_PREFIX = {
    "cc-agent-assist": "cc_agent_assist",
    "complaint-intelligence": "complaint_intel",
    "kyc-onboarding": "kyc_ai",
    "collections-hardship": "collections_hardship",
    "aml-triage": "aml_triage",
    "pricing-governance": "pricing_gov",
}

# slug -> [(type, statement, decision impact, metric keys, object types it depends on)]
LEDGERS = {
    "cc-agent-assist": [
        (
            T.VALUE,
            "Reducing average handle time creates net benefit after 7-day repeat contact is counted.",
            "Scaling to the collections and mortgage queues rests on net AHT benefit.",
            ["aht_seconds", "repeat_contact_7d"],
            ["model", "prompt", "workflow"],
        ),
        (
            T.ADOPTION,
            "Agents will use suggestions on billing intents if knowledge citations are visible.",
            "The citation panel release and the 60% qualified-use target depend on it.",
            ["qualified_use_rate"],
            ["prompt", "workflow"],
        ),
        (
            T.RISK,
            "QA sampling catches misleading fee explanations before they reach complaints.",
            "Risk sign-off for fee guidance rests on it; if it fails, fee intents are restricted.",
            ["script_defect_rate", "misleading_fee_explanation_rate"],
            ["knowledge", "policy"],
        ),
        (
            T.COST,
            "Token cost per assisted call stays under £0.09 at 1,400 agents.",
            "The Q3 funding case assumes this unit cost.",
            ["cost_per_assisted_call"],
            ["model"],
        ),
        (
            T.CAPACITY,
            "QA can sample 2% of assisted calls without queue impact.",
            "The monitoring plan for scale relies on a 2% QA sample.",
            ["qa_pass_rate"],
            ["workflow"],
        ),
        (
            T.POLICY,
            "Current fee-explanation guidance remains valid for next quarter.",
            "Knowledge articles for fee intents are written against it.",
            [],
            ["policy", "knowledge"],
        ),
        (
            T.TECHNICAL,
            "Suggestion latency (p95 under 1.5 s) supports the live-call workflow.",
            "A model upgrade is approved only if latency holds.",
            ["suggestion_latency_p95_ms"],
            ["model", "tool"],
        ),
        (
            T.ADOPTION,
            "Team leaders reinforce assist use in weekly coaching.",
            "Adoption durability in the north sites depends on it.",
            ["qualified_use_rate"],
            ["workflow"],
        ),
    ],
    "complaint-intelligence": [
        (
            T.VALUE,
            "Faster routing cuts regulatory redress cost net of reclassification rework.",
            "Extension to the business banking complaint book rests on it.",
            ["routing_delay_p90_minutes", "classification_accuracy_sample"],
            ["model", "workflow"],
        ),
        (
            T.ADOPTION,
            "Handlers accept suggested taxonomy when the reason for it is shown.",
            "The reason panel is the next adoption release.",
            ["root_cause_label_agreement"],
            ["prompt", "workflow"],
        ),
        (
            T.RISK,
            "The regulatory-flag threshold misses fewer than 1% of regulatory complaints.",
            "Regulatory reporting relies on the flag; a miss means restrict and manual review.",
            ["regulatory_false_negative_sample_rate"],
            ["model", "policy"],
        ),
        (
            T.COST,
            "Classification cost per complaint stays under £0.40 as volumes double in Q1.",
            "The Q1 budget assumes this unit cost.",
            ["cost_per_complaint"],
            ["model"],
        ),
        (
            T.CAPACITY,
            "Root-cause analysts can review every reclassified case each week.",
            "The root-cause tracker's completeness depends on it.",
            ["classification_accuracy_sample"],
            ["workflow"],
        ),
        (
            T.POLICY,
            "The complaint taxonomy stays aligned with the regulator's reporting categories this year.",
            "Taxonomy changes need risk review; reporting is built on it.",
            [],
            ["policy", "data"],
        ),
        (
            T.TECHNICAL,
            "Classification completes within 5 minutes of receipt at peak volume.",
            "Routing SLAs to handlers assume it.",
            ["routing_delay_p90_minutes"],
            ["model", "tool"],
        ),
    ],
    "kyc-onboarding": [
        (
            T.VALUE,
            "Faster completeness checks reduce onboarding abandonment, not only cycle time.",
            "The business case counts abandonment; cycle time alone does not fund it.",
            ["onboarding_cycle_time_hours", "application_abandonment_rate"],
            ["model", "workflow"],
        ),
        (
            T.ADOPTION,
            "Reviewers trust the completeness view enough to stop re-checking every document.",
            "Reviewer capacity savings depend on it.",
            ["ai_document_check_coverage"],
            ["workflow"],
        ),
        (
            T.RISK,
            "Reviewer sign-off catches severe false passes in high-risk entities.",
            "Expansion to complex entities rests on it.",
            ["document_false_pass_sample_rate"],
            ["model", "policy"],
        ),
        (
            T.COST,
            "Document parsing cost per application stays under £4.50 at month-end peaks.",
            "The unit-cost target of the charter assumes it.",
            ["cost_per_application"],
            ["model", "tool"],
        ),
        (
            T.CAPACITY,
            "EDD analysts absorb the escalations the assistant raises without a backlog.",
            "EDD staffing for next quarter assumes it.",
            ["edd_escalation_miss_rate"],
            ["workflow"],
        ),
        (
            T.POLICY,
            "Current KYC document rules remain valid after the regulator's guidance update.",
            "All document rules and thresholds are built on them.",
            [],
            ["policy"],
        ),
        (
            T.TECHNICAL,
            "The document parser reads all 11 document types at the accuracy of the pilot.",
            "Parser upgrades are approved against it.",
            ["parser_error_rate"],
            ["model", "data"],
        ),
        (
            T.ADOPTION,
            "Small-business applicants upload legible documents from mobile.",
            "The mobile upload journey depends on it.",
            ["rework_rate"],
            ["workflow"],
        ),
    ],
    "collections-hardship": [
        (
            T.VALUE,
            "Better arrangement guidance raises kept-promise rate without more broken arrangements.",
            "Roll-out beyond the two pilot teams rests on it.",
            ["kept_promise_rate", "broken_arrangement_rate_90d"],
            ["prompt", "workflow"],
        ),
        (
            T.ADOPTION,
            "Agents open guidance on hardship calls when it appears inside the CRM screen.",
            "The CRM integration release depends on it.",
            ["guidance_use_rate"],
            ["tool", "workflow"],
        ),
        (
            T.RISK,
            "Vulnerability prompts reduce, not increase, complaints about pressure.",
            "Risk appetite for the pilot rests on it; a rise means restrict.",
            ["pressure_complaint_rate"],
            ["prompt", "policy"],
        ),
        (
            T.COST,
            "Cost per hardship case stays under £1.20 at full roll-out.",
            "The roll-out budget assumes it.",
            ["cost_per_arrangement"],
            ["model"],
        ),
        (
            T.CAPACITY,
            "Vulnerable-customer specialists can take every referral the assistant suggests within 2 days.",
            "Referral thresholds are set on this capacity.",
            ["escalation_sla_met_rate"],
            ["workflow"],
        ),
        (
            T.POLICY,
            "Current hardship guidance remains valid for next quarter.",
            "Every script and arrangement rule is written against it.",
            [],
            ["policy", "knowledge"],
        ),
        (
            T.TECHNICAL,
            "Guidance appears within 2 s during the live conversation.",
            "Agents abandon guidance that arrives late; the latency budget rests on it.",
            ["escalation_sla_met_rate"],
            ["model", "tool"],
        ),
        (
            T.POLICY,
            "Breathing-space rules stay unchanged until the annual policy review.",
            "The breathing-space prompt is not re-validated until then.",
            [],
            ["policy"],
        ),
    ],
    "aml-triage": [
        (
            T.VALUE,
            "Narrative drafts raise analyst throughput without lowering escalation quality.",
            "Headcount plans for next year assume the throughput gain.",
            ["throughput_alerts_per_hour", "escalation_audit_pass_rate"],
            ["model", "prompt"],
        ),
        (
            T.ADOPTION,
            "Investigators use drafts when every statement cites its evidence.",
            "The citation requirement in the narrative template rests on it.",
            ["narrative_draft_use_rate"],
            ["prompt"],
        ),
        (
            T.RISK,
            "Human review catches high-impact hallucinations in case narratives.",
            "Control reliance for SAR preparation rests on it.",
            ["narrative_defect_sample_rate"],
            ["model", "workflow"],
        ),
        (
            T.COST,
            "Cost per alert triaged stays under £0.60 with the larger retrieval index.",
            "The retrieval index upgrade is funded on it.",
            ["cost_per_alert"],
            ["model", "data"],
        ),
        (
            T.CAPACITY,
            "QA can audit 5% of drafted narratives monthly without delaying SARs.",
            "The audit sample plan depends on it.",
            ["escalation_audit_pass_rate"],
            ["workflow"],
        ),
        (
            T.POLICY,
            "The typology knowledge base reflects the current financial crime policy.",
            "Typology retrieval is only trusted while the policy holds.",
            [],
            ["policy", "knowledge"],
        ),
        (
            T.TECHNICAL,
            "Retrieval over the typology corpus returns a draft within 30 s for 99% of alerts.",
            "Analyst workflow design assumes a draft is waiting.",
            ["retrieval_timeout_rate"],
            ["data", "tool"],
        ),
        (
            T.VALUE,
            "Alert aging falls because of the assistant, not only because analysts were added.",
            "The value memo attributes the aging gain to it.",
            ["alert_aging_over_30d_rate"],
            ["workflow"],
        ),
    ],
    "pricing-governance": [
        (
            T.VALUE,
            "Reason-coded recommendations improve margin net of conduct and fairness guardrails.",
            "Lifting the restriction in the north region rests on it.",
            ["margin_bps_vs_control", "segment_price_disparity_ratio"],
            ["model", "policy"],
        ),
        (
            T.ADOPTION,
            "Branch lenders record override reasons when the recommendation explains itself.",
            "The override-reason UI release depends on it.",
            ["branch_override_rate"],
            ["prompt", "workflow"],
        ),
        (
            T.RISK,
            "The fairness signal detects unfair outcomes across protected-class proxies within a month.",
            "Restriction stays until this is shown.",
            ["segment_price_disparity_ratio"],
            ["model", "data"],
        ),
        (
            T.COST,
            "Cost per priced decision stays under £0.15 once the restriction lifts.",
            "The scale case assumes it.",
            ["model_run_cost_per_1000_quotes"],
            ["model"],
        ),
        (
            T.CAPACITY,
            "The pricing committee can review every fairness breach within 48 hours.",
            "The restrict-and-review rule depends on it.",
            ["policy_drift_alert_closure_rate"],
            ["workflow"],
        ),
        (
            T.POLICY,
            "Current lending eligibility policy remains valid for the next two quarters.",
            "The pricing model is trained against it.",
            [],
            ["policy"],
        ),
        (
            T.TECHNICAL,
            "The pricing engine returns a recommendation within 1 s at the branch desk.",
            "Branch lenders skip slow recommendations.",
            ["quote_latency_p95_ms"],
            ["tool"],
        ),
    ],
}


def _reviews(scenario: str, contracts: list[str]) -> list[tuple[str, str, str]]:
    """(new status, new evidence, roadmap impact) in order, for a scenario."""
    metric = f"`{contracts[0]}`" if contracts else "the QA sample"
    confirm = (
        AssumptionStatus.CONFIRMED,
        f"Monthly value review: {metric} within target for 8 weeks across all cohorts (E3 instrumented).",
        "No change: keep the current plan.",
    )
    weaken = (
        AssumptionStatus.WEAKENED,
        f"Weekly ops review: {metric} drifting toward its warning threshold in two cohorts (E2 sampled).",
        "Backlog: evidence-gap item to cut the metric by cohort before the next value review.",
    )
    if scenario in {"confirmed", "overdue"}:
        return [confirm]
    if scenario == "weakened":
        return [confirm, weaken]
    if scenario == "invalidated":
        return [
            weaken,
            (
                AssumptionStatus.INVALIDATED,
                f"Four-week sample: {metric} breached its stop rule; queue time rose 18% (E2 sampled).",
                "Decision needed: redesign the plan that relied on it; backlog item raised.",
            ),
        ]
    return []


def seed(context) -> None:
    today = timezone.localdate()
    now = timezone.now()
    context.assumptions = {}
    for slug, entries in LEDGERS.items():
        capability = context.capabilities[slug]
        pm = context.owners[(slug, "ai_pm")]
        reviewers = [pm, context.owners[(slug, "business_analyst")], context.owners[(slug, "analytics")]]
        key = METRIC_PREFIX[slug]
        made = []
        for index, (kind, statement, impact, metrics, depends) in enumerate(entries):
            scenario = SCENARIOS[index]
            existing = Assumption.objects.filter(capability=capability, statement=statement).first()
            if existing is not None:
                made.append(existing)
                continue
            contracts = [f"{key}.{metric}" for metric in metrics]
            owner_role = "business_analyst" if index >= 7 else OWNER_ROLE[kind]
            assumption = assumption_create(
                capability=capability,
                by=pm,
                statement=statement,
                type=kind,
                owner=context.owners[(slug, owner_role)],
                evidence="Stated in the business case; pilot data only (E1 anecdotal).",
                confidence=context.random.choice(["low", "medium", "medium", "high"]),
                expires_on=today
                + timedelta(days=10 if scenario == "soon" else context.random.randint(45, 150)),
                decision_impact=impact,
                tested_by_contracts=contracts,
                depends_on_object_types=depends,
            )
            steps = _reviews(scenario, contracts)
            for step, (status, evidence, roadmap) in enumerate(steps):
                row = assumption.review(
                    by=context.random.choice(reviewers),
                    new_status=status,
                    new_evidence=evidence,
                    roadmap_impact=roadmap,
                    next_review=today + timedelta(days=30),
                )
                # Reviews took place at the forums of the past weeks, not all at seed time.
                days_ago = 7 * (len(steps) - step) + context.random.randint(0, 3)
                AssumptionReview.objects.filter(pk=row.pk).update(reviewed_at=now - timedelta(days=days_ago))
            if scenario == "overdue":
                # Its next review date has passed: it shows in the ledger's "needs review" list.
                overdue = today - timedelta(days=5)
                Assumption.objects.filter(pk=assumption.pk).update(next_review_on=overdue)
                AssumptionReview.objects.filter(assumption=assumption).update(next_review=overdue)
            if scenario == "expired":
                # Created with a future expiry (the rule), then moved into the past - around the
                # rule, in the demo only, and on the record - so that the daily job below expires
                # it the way it would in production.
                assumption.expires_on = today - timedelta(days=3)
                assumption._history_user = pm
                assumption._change_reason = "Demo data: expiry moved into the past"
                assumption.save(update_fields=["expires_on", "updated_at"])
            made.append(assumption)
        context.assumptions[slug] = made
    assumptions_expire_due(today=today)
