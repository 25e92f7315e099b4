"""The demo organisation's capabilities and people: the six financial-retail capabilities of
playbook section 19, each with a charter, a pre-AI baseline and an owner map."""

from portfolio.models import Capability
from productops.demo_people import person, upsert
from productops.models import RoleAssignment
from productops.roles import Role

CAPABILITIES = [
    {
        "slug": "cc-agent-assist",
        "name": "Contact-centre agent assist",
        "workflow": "Live billing, card and fee calls in the retail contact centre",
        "target_users": "Contact-centre agents and team leaders (1,400 agents, 6 sites)",
        "case_types": "Billing disputes, fee explanations, card servicing, payment arrangements",
        "customer_impact": "Faster, consistent answers on calls; a wrong fee explanation can mislead a customer.",
        "operations_impact": "Average handle time, repeat contact and QA script defects.",
        "risk_tier": "medium",
        "lifecycle_status": "production",
        "decisions_product": "Prompt wording, knowledge article rollout by intent, suggestion UI.",
        "decisions_risk_review": "Any change to fee or complaint-handling guidance; CRM write actions.",
        "decisions_platform_review": "Model provider upgrades, latency budget changes.",
        "decisions_executive_review": "Scale to the collections and mortgage queues; funding beyond Q3.",
        "success_outcome": "AHT down 8% net of repeat contact (7-day repeat contact not above baseline).",
        "success_adoption": "60% qualified use on eligible intents across all sites for 8 weeks.",
        "success_quality": "Script defect rate in QA sample below 3%.",
        "success_risk": "No rise in complaints citing misleading fee information.",
        "success_cost": "Cost per assisted call under £0.09.",
        "success_reliability": "p95 suggestion latency under 1.5 s during live calls.",
        "success_learning": "Top-10 high-edit intents reviewed monthly with knowledge fixes shipped.",
        "baseline_outcome": "AHT 412 s; 7-day repeat contact 14.1% (Q4 2025, billing intents).",
        "baseline_quality": "Script defect rate 4.6% in the monthly QA sample.",
        "baseline_cost": "£3.10 per call handled.",
        "baseline_risk": "38 fee-explanation complaints a month.",
        "baseline_capacity": "QA samples 1% of calls; 9 QA analysts.",
    },
    {
        "slug": "complaint-intelligence",
        "name": "Complaint intelligence",
        "workflow": "Classification and routing of customer complaints across channels",
        "target_users": "Complaint handlers, root-cause analysts, legal and regulatory reporting",
        "case_types": "Written, phone and branch complaints; regulatory complaint flags",
        "customer_impact": "Regulatory complaints routed on time; a missed flag delays redress.",
        "operations_impact": "Routing cycle time, reclassification rework, root-cause tracking.",
        "risk_tier": "high",
        "lifecycle_status": "production",
        "decisions_product": "Taxonomy labels shown to handlers, routing hints, dashboard for legal.",
        "decisions_risk_review": "Taxonomy changes, regulatory flag thresholds, policy corpus changes.",
        "decisions_platform_review": "Classifier model changes; new data sources.",
        "decisions_executive_review": "Extension to the business banking complaint book.",
        "success_outcome": "Routing cycle time down 30% with regulatory capture at or above 99%.",
        "success_adoption": "Handlers accept suggested taxonomy on 75% of cases.",
        "success_quality": "False-negative regulatory sample below 1%.",
        "success_risk": "No missed regulatory complaint past the reporting deadline.",
        "success_cost": "Cost per complaint classified under £0.40.",
        "success_reliability": "Classification available within 5 minutes of receipt, 99.5% of the time.",
        "success_learning": "Root-cause labels feed a monthly action tracker with closure evidence.",
        "baseline_outcome": "Routing takes 2.3 days on average; regulatory capture 97.2%.",
        "baseline_quality": "Reclassification after routing on 18% of cases.",
        "baseline_cost": "£6.80 per complaint triaged.",
        "baseline_risk": "4 late regulatory complaints per quarter.",
        "baseline_capacity": "22 triage handlers.",
    },
    {
        "slug": "kyc-onboarding",
        "name": "KYC onboarding assistant",
        "workflow": "Document completeness checks for retail and small-business onboarding",
        "target_users": "Onboarding reviewers, EDD analysts",
        "case_types": "Retail individuals, sole traders, limited companies; 11 document types",
        "customer_impact": "Fewer document chases; a false pass lets an incomplete file through KYC.",
        "operations_impact": "Onboarding cycle time, rework, reviewer queue.",
        "risk_tier": "critical",
        "lifecycle_status": "production",
        "decisions_product": "Reason-code wording, customer notification wording, reviewer queue UI.",
        "decisions_risk_review": "Document rules, thresholds, any expansion to new entity types or countries.",
        "decisions_platform_review": "Document parser and model upgrades.",
        "decisions_executive_review": "Expansion to complex entities; EDD automation.",
        "success_outcome": "Onboarding cycle time down 25% with abandonment not above baseline.",
        "success_adoption": "Reviewers use the completeness view on 80% of applications.",
        "success_quality": "Document false-pass sample rate below 0.5%; no severe false pass in high-risk entities.",
        "success_risk": "EDD escalations unchanged or better in QA sample.",
        "success_cost": "Cost per application under £4.50.",
        "success_reliability": "Document check completes within 60 s for 99% of uploads.",
        "success_learning": "Every severe false pass updates the eval set within 10 days.",
        "baseline_outcome": "Cycle time 5.6 days; abandonment 11%.",
        "baseline_quality": "Manual completeness error 1.2% in audit sample.",
        "baseline_cost": "£7.90 per application.",
        "baseline_risk": "EDD miss rate 0.8% in annual audit.",
        "baseline_capacity": "35 onboarding reviewers.",
    },
    {
        "slug": "collections-hardship",
        "name": "Collections hardship guidance",
        "workflow": "Hardship conversations and arrangement setting in collections",
        "target_users": "Collections agents and vulnerable-customer specialists",
        "case_types": "Payment arrangements, breathing space, vulnerability referrals",
        "customer_impact": "Suitable arrangements for customers in financial difficulty; harm if pressure is applied.",
        "operations_impact": "Kept-promise rate, broken arrangements, specialist referrals.",
        "risk_tier": "high",
        "lifecycle_status": "pilot",
        "decisions_product": "Guidance wording, escalation UX, coaching reports.",
        "decisions_risk_review": "Hardship policy changes, vulnerability detection thresholds, scripts.",
        "decisions_platform_review": "Model changes, CRM integration.",
        "decisions_executive_review": "Roll-out beyond the two pilot teams.",
        "success_outcome": "Kept-promise rate up 5 points with broken arrangements not above baseline.",
        "success_adoption": "Agents open guidance on 70% of hardship conversations.",
        "success_quality": "Arrangement suitability in QA sample at or above 95%.",
        "success_risk": "No rise in complaints about inappropriate pressure; vulnerable-customer review clean.",
        "success_cost": "Cost per hardship case under £1.20.",
        "success_reliability": "Guidance latency under 2 s.",
        "success_learning": "Every pressure complaint reviewed within 5 days with a prompt or training fix.",
        "baseline_outcome": "Kept-promise rate 61%; broken arrangements 24%.",
        "baseline_quality": "Suitability 91% in QA sample.",
        "baseline_cost": "£14 per hardship case.",
        "baseline_risk": "9 pressure complaints a month.",
        "baseline_capacity": "12 vulnerable-customer specialists.",
    },
    {
        "slug": "aml-triage",
        "name": "AML triage assistant",
        "workflow": "Alert triage and case narrative drafting in financial crime operations",
        "target_users": "AML analysts and investigators",
        "case_types": "Transaction monitoring alerts, case narratives, SAR preparation support",
        "customer_impact": "Indirect; a missed typology weakens a control the regulator relies on.",
        "operations_impact": "Alert aging, analyst throughput, narrative rework.",
        "risk_tier": "critical",
        "lifecycle_status": "production",
        "decisions_product": "Narrative template, evidence citation UI, feedback capture.",
        "decisions_risk_review": "Typology knowledge, retrieval corpus, escalation thresholds.",
        "decisions_platform_review": "Retrieval index and model changes.",
        "decisions_executive_review": "Extension to sanctions screening; headcount plans.",
        "success_outcome": "Analyst throughput up 20% with escalation quality unchanged in audit sample.",
        "success_adoption": "Narrative drafts used on 65% of escalated alerts.",
        "success_quality": "Reviewer edit distance down 30%; narrative defect rate under 5%.",
        "success_risk": "No escalation miss in the monthly audit sample.",
        "success_cost": "Cost per alert triaged under £0.60.",
        "success_reliability": "Draft available within 30 s for 99% of alerts.",
        "success_learning": "Missed typologies update eval, corpus and sampling within one cycle.",
        "baseline_outcome": "11.5 alerts per analyst-day; alert aging 6.2 days.",
        "baseline_quality": "Narrative rework on 22% of cases.",
        "baseline_cost": "£9.40 per alert.",
        "baseline_risk": "2 escalation misses in last annual audit.",
        "baseline_capacity": "64 analysts; backlog 3,100 alerts.",
    },
    {
        "slug": "pricing-governance",
        "name": "Personalised pricing governance",
        "workflow": "Reason-coded pricing recommendations for branch lending decisions",
        "target_users": "Branch lenders, pricing committee",
        "case_types": "Personal loans, overdraft repricing, savings retention offers",
        "customer_impact": "Fair, explainable pricing; an unfair outcome is a conduct risk.",
        "operations_impact": "Branch overrides, margin, conversion.",
        "risk_tier": "high",
        "lifecycle_status": "restricted",
        "decisions_product": "Explanation wording, override reasons UI.",
        "decisions_risk_review": "Eligibility policy, pricing model, fairness thresholds.",
        "decisions_platform_review": "Pricing engine integration.",
        "decisions_executive_review": "Lift the restriction to personal loans in the north region.",
        "success_outcome": "Margin and conversion up net of fairness and conduct guardrails.",
        "success_adoption": "Branch overrides down to 15% with reasons recorded.",
        "success_quality": "Reason-code quality at or above 95% in sample.",
        "success_risk": "Fairness signal within appetite across protected-class proxies.",
        "success_cost": "Cost per priced decision under £0.15.",
        "success_reliability": "Recommendation within 1 s at the branch desk.",
        "success_learning": "Every unfair-treatment signal triggers restrict-and-review within 48 h.",
        "baseline_outcome": "Margin 3.1%; conversion 28%.",
        "baseline_quality": "Reason codes missing on 30% of manual prices.",
        "baseline_cost": "£0.05 per decision (rules engine).",
        "baseline_risk": "Fairness review annually only.",
        "baseline_capacity": "Pricing committee meets monthly; 3 analysts.",
    },
]

# People who hold a role on one capability only: the owner map of each capability.
CAPABILITY_ROLES = [
    Role.AI_PM,
    Role.AI_ARCHITECT,
    Role.BUSINESS_ANALYST,
    Role.OPS,
    Role.RISK_COMPLIANCE,
    Role.ANALYTICS,
    Role.PLATFORM,
    Role.FINANCE,
]

# The demo logins printed by `make demo`. ``pm`` runs three capabilities only; the others hold
# their role across the organisation.
DEMO_LOGINS = [
    ("pm", "Priya", "Shah", Role.AI_PM, ["cc-agent-assist", "complaint-intelligence", "kyc-onboarding"]),
    ("risk", "Rafael", "Okafor", Role.RISK_COMPLIANCE, None),
    ("exec", "Elena", "Marsh", Role.EXECUTIVE, None),
    ("architect", "Arjun", "Mehta", Role.AI_ARCHITECT, None),
    ("analyst", "Beatrice", "Lam", Role.BUSINESS_ANALYST, None),
    ("ops", "Owen", "Price", Role.OPS, None),
    ("viewer", "Victor", "Hale", Role.VIEWER, None),
]


def seed(context) -> None:
    """Create or update the six capabilities, the demo logins and each capability's owner map."""
    capabilities = {}
    for data in CAPABILITIES:
        fields = {key: value for key, value in data.items() if key != "slug"}
        capability = upsert(Capability, {"slug": data["slug"]}, fields)
        capabilities[capability.slug] = capability
    context.capabilities = capabilities

    context.logins = {}
    for username, first, last, role, scope in DEMO_LOGINS:
        user = person(context, username, first, last)
        context.logins[username] = user
        for slug in scope or [None]:
            RoleAssignment.objects.get_or_create(
                user=user, role=role, capability=capabilities[slug] if slug else None
            )

    context.owners = {}
    for capability in capabilities.values():
        for role in CAPABILITY_ROLES:
            first, last = context.names.pop(0)
            username = f"{capability.slug.split('-')[0]}.{role.value.split('_')[-1]}"
            user = person(context, username, first, last)
            RoleAssignment.objects.get_or_create(user=user, role=role, capability=capability)
            context.owners[(capability.slug, role.value)] = user
