"""Demo backlog: per capability 8-10 items in the words of playbook section 19's "Backlog" rows,
each linked to the demo record its class requires where one exists when the demo runs (contracts by
metric id, open signals, assumptions, decisions, and releases, experiments and incidents once
those registers have demo data).

Stories the ranking shows: a shared problem ("evidence-citation" on contact-centre, complaint
intelligence and AML; "reason-codes" on KYC and pricing; "knowledge-freshness" on contact-centre
and AML) grouped for platform reuse; a risk/customer-harm override on KYC's severe false passes;
a Sev2 incident correction on the contact-centre; an evidence gap holding scale items down on
every capability; retirement candidates on the quarterly list; and pricing's fairness dashboard,
first by score but kept out of the top band because it has no evidence link.

Runs last (it reads what the other builders made; other registers are looked up by model label,
so a register without a demo is simply not linked). Idempotent: an item is keyed on its
capability and title; an existing item is left as it is.
"""

from typing import NamedTuple

from django.apps import apps
from django.db import connection

from portfolio.choices import BacklogStatus
from portfolio.models import BacklogItem
from portfolio.services import backlog_item_create, check_link_for_class, evidence_resolve
from productops.errors import DomainError


class Row(NamedTuple):
    """One demo item. ``parts`` are the eight score parts in the formula's order (outcome impact,
    risk reduction, adoption unblock, cost/capacity relief, evidence need, platform reuse,
    delivery effort, change saturation); ``links`` are tried in order (see ``_find``)."""

    title: str
    item_class: str
    metric: str
    direction: str
    movement: str
    parts: tuple
    links: tuple = ()
    status: str = BacklogStatus.PROPOSED
    problem_key: str = ""
    override: str = ""
    severity: str = ""
    description: str = ""


PATHS = {
    BacklogStatus.PROPOSED: [],
    BacklogStatus.READY: [BacklogStatus.READY],
    BacklogStatus.IN_PROGRESS: [BacklogStatus.READY, BacklogStatus.IN_PROGRESS],
    BacklogStatus.DONE: [BacklogStatus.READY, BacklogStatus.IN_PROGRESS, BacklogStatus.DONE],
    BacklogStatus.DROPPED: [BacklogStatus.DROPPED],
}
RETIRE_DECISIONS = ("retire", "platformize", "consolidate", "pause", "restrict", "redesign")

ROWS = {
    "cc-agent-assist": [
        Row(
            "Regression eval cases for tiered overdraft fees",
            "quality_fix",
            "cc_agent_assist.script_defect_rate",
            "down",
            "Script defects on fee explanations back under 3% in the QA sample",
            (2, 4, 1, 0, 1, 0, 2, 1),
            links=(("incident",), ("contract", "cc_agent_assist.script_defect_rate")),
            status=BacklogStatus.IN_PROGRESS,
            severity="sev2",
            description="Corrective item of the misleading fee-explanation incident: 120 tiered-fee cases in the regression eval before prompt v13.",
        ),
        Row(
            "Fix the knowledge articles of the top-10 high-edit intents",
            "quality_fix",
            "cc_agent_assist.qa_pass_rate",
            "up",
            "QA pass rate at or above 92% on the ten intents within 6 weeks",
            (3, 1, 3, 1, 1, 0, 2, 1),
            links=(
                ("signal", "cc_agent_assist.qa_pass_rate", ""),
                ("contract", "cc_agent_assist.qa_pass_rate"),
            ),
            status=BacklogStatus.READY,
        ),
        Row(
            "Citation UI: show the knowledge source beside each billing suggestion",
            "adoption_fix",
            "cc_agent_assist.suggestion_acceptance_rate",
            "up",
            "+8 points acceptance on billing intents",
            (2, 1, 4, 0, 1, 3, 3, 1),
            links=(("contract", "cc_agent_assist.suggestion_acceptance_rate"),),
            problem_key="evidence-citation",
        ),
        Row(
            "Supervisor coaching on accept/edit/reject for the north team",
            "adoption_fix",
            "cc_agent_assist.qualified_use_rate",
            "up",
            "Qualified use at 55% in the north team for two weeks",
            (2, 0, 4, 0, 0, 0, 1, 2),
            links=(("contract", "cc_agent_assist.qualified_use_rate"),),
        ),
        Row(
            "Knowledge freshness SLO: re-verify fee and billing articles every 30 days",
            "quality_fix",
            "cc_agent_assist.knowledge_gap_closure_rate",
            "up",
            "90% of knowledge gaps closed within 14 days",
            (2, 2, 1, 0, 1, 2, 2, 1),
            links=(("contract", "cc_agent_assist.qa_pass_rate"),),
            problem_key="knowledge-freshness",
        ),
        Row(
            "Join QA scorecards to prompt version for the repeat-contact cut",
            "evidence_gap",
            "cc_agent_assist.repeat_contact_7d",
            "down",
            "Repeat contact readable by prompt version before the next scale decision",
            (1, 2, 0, 0, 5, 0, 2, 0),
            links=(
                ("assumption", "risk", "needs_evidence"),
                ("contract", "cc_agent_assist.repeat_contact_7d"),
            ),
            status=BacklogStatus.READY,
        ),
        Row(
            "Net AHT of 7-day repeat contact on billing intents",
            "outcome_improvement",
            "cc_agent_assist.aht_seconds",
            "down",
            "AHT −8% net of repeat contact by the next monthly value review",
            (5, 0, 1, 2, 2, 0, 2, 1),
            links=(
                ("signal", "cc_agent_assist.repeat_contact_7d", "intent=billing"),
                ("contract", "cc_agent_assist.repeat_contact_7d"),
            ),
        ),
        Row(
            "Card-servicing prompt in the side panel versus inline: A/B at two sites",
            "experiment",
            "cc_agent_assist.suggestion_acceptance_rate",
            "up",
            "Acceptance difference with a 95% interval after 4 weeks",
            (2, 0, 2, 0, 3, 0, 2, 1),
            links=(("experiment",),),
        ),
        Row(
            "Cache repeated knowledge lookups on billing calls",
            "cost_capacity",
            "cc_agent_assist.cost_per_assisted_call",
            "down",
            "Cost per assisted call −£0.01",
            (0, 0, 0, 4, 0, 1, 2, 0),
            links=(
                ("signal", "cc_agent_assist.cost_per_assisted_call", ""),
                ("contract", "cc_agent_assist.cost_per_assisted_call"),
            ),
            status=BacklogStatus.IN_PROGRESS,
        ),
        Row(
            "Suggestion latency fix at the Leeds site",
            "reliability",
            "cc_agent_assist.suggestion_latency_p95_ms",
            "down",
            "p95 under 1.5 s at every site",
            (1, 0, 2, 0, 0, 0, 1, 0),
            links=(
                ("signal", "cc_agent_assist.suggestion_latency_p95_ms", ""),
                ("contract", "cc_agent_assist.suggestion_latency_p95_ms"),
            ),
            status=BacklogStatus.DONE,
        ),
    ],
    "complaint-intelligence": [
        Row(
            "Explanation of classification: show the policy passage behind each taxonomy label",
            "adoption_fix",
            "complaint_intel.handler_triage_use_rate",
            "up",
            "Handlers accept the suggested taxonomy on 75% of cases",
            (2, 1, 4, 0, 1, 3, 3, 1),
            links=(("contract", "complaint_intel.handler_triage_use_rate"),),
            problem_key="evidence-citation",
        ),
        Row(
            "Root-cause action tracker with closure evidence",
            "outcome_improvement",
            "complaint_intel.remediation_closure_rate_8w",
            "up",
            "Remediation closed within 8 weeks up 10 points",
            (4, 2, 1, 1, 1, 1, 3, 1),
            links=(("contract", "complaint_intel.remediation_closure_rate_8w"),),
            status=BacklogStatus.READY,
        ),
        Row(
            "Dashboard for legal: regulatory complaint capture by channel",
            "risk_control",
            "complaint_intel.regulatory_false_negative_sample_rate",
            "down",
            "Missed regulatory complaints under 1% in the QA sample",
            (1, 4, 1, 0, 2, 0, 2, 1),
            links=(("incident",), ("signal", "complaint_intel.regulatory_false_negative_sample_rate", "")),
        ),
        Row(
            "Double the weekly false-negative sample of regulatory complaints",
            "evidence_gap",
            "complaint_intel.regulatory_false_negative_sample_rate",
            "down",
            "A sample large enough to read a 1% false-negative rate each week",
            (0, 3, 0, 0, 5, 0, 1, 1),
            links=(("assumption", "risk", "needs_evidence"),),
            status=BacklogStatus.IN_PROGRESS,
        ),
        Row(
            "Split the 'fees and charges' taxonomy label into three sub-labels",
            "quality_fix",
            "complaint_intel.classification_accuracy_sample",
            "up",
            "Classification accuracy +4 points on fee complaints",
            (2, 1, 2, 0, 0, 0, 2, 2),
            links=(("contract", "complaint_intel.classification_accuracy_sample"),),
        ),
        Row(
            "Classify at intake instead of after the overnight batch",
            "reliability",
            "complaint_intel.routing_delay_p90_minutes",
            "down",
            "p90 routing delay under 5 minutes",
            (2, 1, 0, 1, 0, 0, 3, 1),
            links=(
                ("signal", "complaint_intel.routing_delay_p90_minutes", ""),
                ("contract", "complaint_intel.routing_delay_p90_minutes"),
            ),
        ),
        Row(
            "Flag vulnerable customers at complaint intake",
            "risk_control",
            "complaint_intel.vulnerable_flag_miss_rate",
            "down",
            "Missed vulnerability flags halved",
            (1, 4, 0, 0, 1, 0, 2, 1),
            links=(("incident",), ("signal", "complaint_intel.vulnerable_flag_miss_rate", "")),
        ),
        Row(
            "Retire the legacy keyword-rule classifier",
            "retirement",
            "complaint_intel.cost_per_complaint",
            "down",
            "One classifier to run and monitor",
            (0, 1, 0, 3, 0, 0, 1, 0),
            links=(("decision", RETIRE_DECISIONS),),
        ),
        Row(
            "Batch overnight reclassification to cut cost per complaint",
            "cost_capacity",
            "complaint_intel.cost_per_complaint",
            "down",
            "−£0.05 per complaint",
            (0, 0, 0, 2, 0, 0, 2, 1),
            links=(("contract", "complaint_intel.cost_per_complaint"),),
            status=BacklogStatus.DROPPED,
        ),
    ],
    "kyc-onboarding": [
        Row(
            "Reviewer double-check before approving complex entities",
            "risk_control",
            "kyc_ai.document_false_pass_sample_rate",
            "down",
            "No severe false pass in complex entities in the next two QA samples",
            (1, 5, 0, 0, 1, 0, 3, 2),
            links=(
                ("incident",),
                ("signal", "kyc_ai.document_false_pass_sample_rate", "entity_type=complex_entity"),
                ("signal", "kyc_ai.document_false_pass_sample_rate", None),
            ),
            status=BacklogStatus.IN_PROGRESS,
            override="Customer and regulatory harm: a false pass lets an incomplete complex-entity file through KYC; the stop rule fired.",
        ),
        Row(
            "Missing document reason codes shown to reviewers",
            "quality_fix",
            "kyc_ai.rework_rate",
            "down",
            "Reviewer rework −5 points",
            (2, 1, 2, 1, 1, 3, 2, 1),
            links=(("contract", "kyc_ai.rework_rate"),),
            problem_key="reason-codes",
            status=BacklogStatus.READY,
        ),
        Row(
            "Customer notification wording for document chases",
            "outcome_improvement",
            "kyc_ai.customer_chase_rate",
            "down",
            "Applications needing a second chase −20%",
            (4, 0, 1, 1, 0, 0, 1, 1),
            links=(("contract", "kyc_ai.customer_chase_rate"),),
        ),
        Row(
            "Reviewer queue: route complex entities straight to EDD analysts",
            "cost_capacity",
            "kyc_ai.cost_per_application",
            "down",
            "Cost per application under £4.50",
            (1, 1, 0, 4, 0, 0, 3, 2),
            links=(
                ("signal", "kyc_ai.cost_per_application", ""),
                ("contract", "kyc_ai.cost_per_application"),
            ),
        ),
        Row(
            "Sample mobile upload legibility for small-business applicants",
            "evidence_gap",
            "kyc_ai.ai_document_check_coverage",
            "up",
            "Legibility rate by device known before extending to sole traders",
            (0, 1, 1, 0, 5, 0, 1, 0),
            links=(("assumption", "adoption", "needs_evidence"),),
        ),
        Row(
            "Extend the completeness view to sole traders",
            "adoption_fix",
            "kyc_ai.ai_document_check_coverage",
            "up",
            "Coverage at 80% of applications",
            (3, 0, 5, 1, 0, 0, 2, 1),
            links=(("contract", "kyc_ai.ai_document_check_coverage"),),
        ),
        Row(
            "Document parser upgrade for driving licences",
            "release_dependency",
            "kyc_ai.parser_error_rate",
            "down",
            "Parser errors on driving licences halved",
            (1, 2, 1, 1, 0, 0, 2, 2),
            links=(("release",),),
        ),
        Row(
            "Add every severe false pass to the eval set within 10 days",
            "quality_fix",
            "kyc_ai.eval_set_refresh_rate",
            "up",
            "100% of severe false passes in the eval set within 10 days",
            (1, 3, 0, 0, 2, 0, 1, 0),
            links=(("contract", "kyc_ai.document_completeness_first_pass"),),
            status=BacklogStatus.DONE,
        ),
    ],
    "collections-hardship": [
        Row(
            "Vulnerability-aware guidance: hold arrangement suggestions for flagged customers",
            "risk_control",
            "collections_hardship.pressure_complaint_rate",
            "down",
            "No pressure complaint from a flagged customer",
            (1, 5, 0, 0, 1, 0, 2, 2),
            links=(
                ("incident",),
                ("signal", "collections_hardship.vulnerability_flag_miss_rate", None),
                ("signal", "collections_hardship.pressure_complaint_rate", None),
            ),
            status=BacklogStatus.READY,
            override="Customer harm: guidance must not put pressure on customers flagged as vulnerable.",
        ),
        Row(
            "Escalation UX: one-click referral to a vulnerable-customer specialist",
            "adoption_fix",
            "collections_hardship.guidance_use_rate",
            "up",
            "Guidance opened on 70% of hardship conversations",
            (2, 2, 4, 0, 0, 0, 2, 1),
            links=(("contract", "collections_hardship.guidance_use_rate"),),
        ),
        Row(
            "Manager coaching report on agent overrides",
            "quality_fix",
            "collections_hardship.agent_override_rate",
            "down",
            "Overrides of suitable arrangements −5 points",
            (2, 2, 2, 0, 1, 0, 1, 1),
            links=(("contract", "collections_hardship.agent_override_rate"),),
            status=BacklogStatus.READY,
        ),
        Row(
            "Pressure-complaint sample cut by vulnerability flag",
            "evidence_gap",
            "collections_hardship.pressure_complaint_rate",
            "down",
            "Whether vulnerability prompts reduce pressure complaints, read monthly",
            (0, 3, 0, 0, 5, 0, 1, 0),
            links=(("assumption", "risk", "needs_evidence"),),
        ),
        Row(
            "Affordability check in the arrangement script",
            "outcome_improvement",
            "collections_hardship.kept_promise_rate",
            "up",
            "Kept-promise rate +5 points",
            (5, 1, 0, 0, 1, 0, 2, 2),
            links=(("contract", "collections_hardship.kept_promise_rate"),),
        ),
        Row(
            "Alert when a specialist escalation misses its pick-up time",
            "reliability",
            "collections_hardship.escalation_sla_met_rate",
            "up",
            "95% of escalations picked up in time",
            (1, 3, 0, 1, 0, 0, 1, 1),
            links=(
                ("signal", "collections_hardship.escalation_sla_met_rate", ""),
                ("contract", "collections_hardship.escalation_sla_met_rate"),
            ),
        ),
        Row(
            "Guidance inside the CRM screen versus the side panel",
            "experiment",
            "collections_hardship.guidance_use_rate",
            "up",
            "Use difference with a 95% interval after 6 weeks",
            (2, 0, 3, 0, 3, 0, 2, 1),
            links=(("experiment",),),
        ),
        Row(
            "Summarise the hardship conversation into the arrangement note",
            "cost_capacity",
            "collections_hardship.cost_per_arrangement",
            "down",
            "Cost per arrangement under £1.20",
            (1, 0, 1, 3, 0, 1, 2, 1),
            links=(("contract", "collections_hardship.cost_per_arrangement"),),
        ),
    ],
    "aml-triage": [
        Row(
            "Evidence citation in drafted case narratives",
            "quality_fix",
            "aml_triage.reviewer_edit_distance",
            "down",
            "Reviewer edit distance −30%",
            (3, 2, 3, 0, 1, 3, 3, 1),
            links=(
                ("signal", "aml_triage.reviewer_edit_distance", ""),
                ("contract", "aml_triage.reviewer_edit_distance"),
            ),
            problem_key="evidence-citation",
            status=BacklogStatus.READY,
        ),
        Row(
            "Scenario-specific retrieval for trade-based laundering alerts",
            "outcome_improvement",
            "aml_triage.throughput_alerts_per_hour",
            "up",
            "Throughput +15% on trade-based alerts",
            (4, 2, 1, 1, 0, 1, 3, 1),
            links=(("contract", "aml_triage.throughput_alerts_per_hour"),),
        ),
        Row(
            "Investigator feedback capture on every escalated alert",
            "adoption_fix",
            "aml_triage.narrative_draft_use_rate",
            "up",
            "Drafts used on 65% of escalated alerts",
            (2, 1, 4, 0, 2, 0, 2, 1),
            links=(("contract", "aml_triage.narrative_draft_use_rate"),),
        ),
        Row(
            "Trim the retrieval context for low-risk typologies",
            "cost_capacity",
            "aml_triage.cost_per_alert",
            "down",
            "Cost per alert back under £0.60",
            (1, 0, 0, 4, 0, 1, 2, 1),
            links=(("signal", "aml_triage.cost_per_alert", ""), ("contract", "aml_triage.cost_per_alert")),
            status=BacklogStatus.IN_PROGRESS,
        ),
        Row(
            "Prove alert aging falls because of the assistant, not only overtime",
            "evidence_gap",
            "aml_triage.alert_aging_over_30d_rate",
            "down",
            "Aging effect separated from overtime before the sanctions extension",
            (0, 1, 0, 1, 5, 0, 2, 0),
            links=(("assumption", "value", "needs_evidence"),),
        ),
        Row(
            "Typology knowledge freshness: monthly corpus review with risk",
            "quality_fix",
            "aml_triage.missed_typology_sample_rate",
            "down",
            "No missed typology from a stale article in the audit sample",
            (2, 3, 0, 0, 1, 2, 2, 1),
            links=(("contract", "aml_triage.narrative_defect_sample_rate"),),
            problem_key="knowledge-freshness",
        ),
        Row(
            "Retire the team's own typology retrieval index",
            "retirement",
            "aml_triage.cost_per_alert",
            "down",
            "One shared index to run, after the move to the RAG platform",
            (0, 0, 0, 3, 0, 2, 2, 0),
            links=(("decision", ("platformize", "consolidate", "retire")),),
        ),
        Row(
            "Retrieval timeout fix for month-end peaks",
            "reliability",
            "aml_triage.retrieval_timeout_rate",
            "down",
            "Timeouts under 1% at month end",
            (1, 1, 1, 0, 0, 0, 1, 0),
            links=(("contract", "aml_triage.retrieval_timeout_rate"),),
            status=BacklogStatus.DONE,
        ),
    ],
    "pricing-governance": [
        Row(
            "Fairness dashboard for the pricing committee",
            "risk_control",
            "pricing_gov.segment_price_disparity_ratio",
            "down",
            "Disparity by proxy segment visible weekly, inside appetite",
            (2, 5, 1, 1, 4, 2, 1, 0),
            links=(),
            description="Asked for by the pricing committee; no incident or risk signal recorded yet, so it has no evidence link.",
        ),
        Row(
            "Branch override reasons: a reason code on every manual price",
            "quality_fix",
            "pricing_gov.branch_override_rate",
            "down",
            "Overrides down to 15%, all with a reason",
            (2, 2, 2, 0, 1, 3, 2, 1),
            links=(("contract", "pricing_gov.branch_override_rate"),),
            problem_key="reason-codes",
            status=BacklogStatus.READY,
        ),
        Row(
            "Policy drift alerts ship with the eligibility policy release",
            "release_dependency",
            "pricing_gov.policy_drift_alert_closure_rate",
            "up",
            "Drift alerts closed within 48 hours",
            (1, 3, 0, 0, 1, 1, 2, 1),
            links=(("release",),),
        ),
        Row(
            "Retire the overdraft repricing model",
            "retirement",
            "pricing_gov.pricing_complaint_rate",
            "down",
            "No overdraft repricing complaints after switch-off",
            (0, 3, 0, 1, 0, 0, 1, 0),
            links=(("decision", ("retire",)),),
        ),
        Row(
            "Fairness signal coverage across protected-class proxies",
            "evidence_gap",
            "pricing_gov.segment_price_disparity_ratio",
            "down",
            "Every proxy segment above the minimum sample before the restriction is lifted",
            (0, 3, 0, 0, 5, 0, 2, 0),
            links=(("assumption", "risk", "needs_evidence"),),
        ),
        Row(
            "Lift the north-region restriction on personal loans",
            "outcome_improvement",
            "pricing_gov.margin_bps_vs_control",
            "up",
            "+15 bps margin against control, within the fairness guardrail",
            (5, 0, 1, 0, 0, 0, 1, 2),
            links=(("contract", "pricing_gov.margin_bps_vs_control"),),
        ),
        Row(
            "Readable price explanations for branch lenders",
            "adoption_fix",
            "pricing_gov.reason_code_coverage",
            "up",
            "Reason codes on 95% of prices",
            (2, 1, 3, 0, 0, 0, 2, 1),
            links=(("contract", "pricing_gov.reason_code_coverage"),),
        ),
        Row(
            "Quote latency under 1 s at the branch desk",
            "reliability",
            "pricing_gov.quote_latency_p95_ms",
            "down",
            "p95 under 1 s",
            (1, 0, 2, 0, 0, 0, 2, 1),
            links=(("contract", "pricing_gov.quote_latency_p95_ms"),),
        ),
    ],
}

PART_NAMES = [
    "outcome_impact",
    "risk_reduction",
    "adoption_unblock",
    "cost_capacity_relief",
    "evidence_need",
    "platform_reuse",
    "delivery_effort",
    "change_saturation",
]


def _model(label: str):
    """A register's model, or None while that register has no model or no table yet (an app
    being built alongside: its model may exist before its migration is applied)."""
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
    return model if model._meta.db_table in _tables() else None


def _tables() -> set[str]:
    if not hasattr(_tables, "cache"):
        _tables.cache = set(connection.introspection.table_names())
    return _tables.cache


def _first_of(label: str, capability, **filters):
    model = _model(label)
    if model is None or "capability" not in {field.name for field in model._meta.get_fields()}:
        return None
    return model._default_manager.filter(capability=capability, **filters).order_by("pk").first()


def _find(spec: tuple, capability):
    """The record a link spec names on this capability, or None.

    ("contract", metric id) · ("signal", metric id, cut or None for any) — an open signal ·
    ("assumption", type, status) · ("decision", types) · ("incident",) · ("release",) ·
    ("experiment",) — the capability's first record of that register, if it has one.
    """
    kind, *args = spec
    if kind == "contract":
        return evidence_resolve(args[0])
    if kind == "signal":
        model = _model("contracts.Signal")
        if model is None:
            return None
        signals = model._default_manager.filter(contract__metric_id=args[0], resolved_period__isnull=True)
        if args[1] is not None:
            signals = signals.filter(cut=args[1])
        return signals.order_by("pk").first()
    if kind == "assumption":
        return _first_of("assumptions.Assumption", capability, type=args[0], status=args[1]) or _first_of(
            "assumptions.Assumption", capability, type=args[0]
        )
    if kind == "decision":
        for decision_type in args[0]:
            decision = _first_of("decisions.Decision", capability, type=decision_type)
            if decision is not None:
                return decision
        return None
    return _first_of(f"{kind}s.{kind.capitalize()}", capability)


def _evidence(row: Row, capability):
    for spec in row.links:
        record = _find(spec, capability)
        if record is None:
            continue
        try:
            check_link_for_class(row.item_class, record)
        except DomainError:
            continue
        return record
    return None


def seed(context) -> None:
    if hasattr(_tables, "cache"):
        del _tables.cache  # tables may have been created since the last run in this process
    contracts = _model("contracts.MetricContract")
    for slug, rows in ROWS.items():
        capability = getattr(context, "capabilities", {}).get(slug)
        if capability is None or contracts is None:
            continue
        pm = context.owners[(slug, "ai_pm")]
        existing = set(BacklogItem.objects.filter(capability=capability).values_list("title", flat=True))
        for row in rows:
            if row.title in existing:
                continue
            metric = contracts._default_manager.filter(metric_id=row.metric, capability=capability).first()
            if metric is None:  # the contracts demo did not run: no promise to state, no item
                continue
            item = backlog_item_create(
                capability=capability,
                by=pm,
                title=row.title,
                description=row.description,
                item_class=row.item_class,
                evidence=_evidence(row, capability),
                expected_metric=metric,
                expected_direction=row.direction,
                expected_movement=row.movement,
                risk_override=bool(row.override),
                override_reason=row.override,
                incident_severity=row.severity,
                problem_key=row.problem_key,
                **dict(zip(PART_NAMES, row.parts, strict=True)),
            )
            for status in PATHS[row.status]:
                reason = (
                    "Superseded by the overnight batch being retired with the legacy classifier."
                    if status == BacklogStatus.DROPPED
                    else ""
                )
                item.move(to=status, by=pm, reason=reason)
