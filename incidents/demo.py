"""Demo incidents: per capability two to four incidents across severities and states, complaint-
sourced ones with their 15.3 classification, one recurrence, corrective actions and learning
items. Idempotent: an incident is keyed on capability + title."""

import datetime

from django.utils import timezone

from contracts.models import MetricContract
from incidents.models import Incident
from incidents.services import incident_add_corrective_action, incident_add_learning_item, incident_report

# (title, severity, source, complaint signal, days ago, root causes, target state)
INCIDENTS = {
    "cc-agent-assist": [
        (
            "Misleading fee explanation in agent suggestions",
            "sev2",
            "complaint",
            "misleading_answer",
            40,
            [("knowledge", "Fee article not updated after tariff change")],
            "closed",
        ),
        (
            "Fee explanation wrong again after article rewrite",
            "sev3",
            "qa_sample",
            "",
            10,
            [("knowledge", "Second fee article left stale")],
            "corrective_actions_agreed",
        ),
        ("Suggestion quoted an internal-only waiver policy", "sev1", "monitoring", "", 2, [], "contained"),
    ],
    "collections-hardship": [
        (
            "Inappropriate pressure complaint on hardship call",
            "sev2",
            "complaint",
            "unfair_outcome",
            20,
            [("policy", "Risk appetite for repayment nudges unclear"), ("model", "")],
            "root_cause_found",
        ),
        ("Nuisance duplicate reminder text", "sev4", "monitoring", "", 5, [], "reported"),
    ],
}
INCIDENTS.update(
    {
        "complaint-intelligence": [
            (
                "Missed regulatory flag on a written complaint",
                "sev2",
                "qa_sample",
                "",
                18,
                [
                    ("model", "Classifier under-weights regulator wording"),
                    ("monitoring", "No daily miss sample"),
                ],
                "learning_recorded",
            ),
            (
                "Taxonomy confusion between fee and service labels",
                "sev4",
                "monitoring",
                "",
                6,
                [],
                "reported",
            ),
        ],
        "kyc-onboarding": [
            ("Severe false pass on a complex-entity file", "sev1", "qa_sample", "", 12, [], "contained"),
            (
                "Customer chased twice for the same document",
                "sev3",
                "complaint",
                "customer_confusion",
                25,
                [
                    ("workflow", "Reviewer queue re-requests after auto-check"),
                    ("prompt", "Reason code unclear"),
                ],
                "learning_recorded",
            ),
        ],
        "aml-triage": [
            (
                "Narrative missed a structuring typology",
                "sev2",
                "qa_sample",
                "",
                16,
                [("knowledge", "Typology corpus lacks the 2026 structuring pattern"), ("data", "")],
                "root_cause_found",
            ),
            ("Draft narrative timeout at month-end peak", "sev4", "capacity", "", 4, [], "reported"),
        ],
        "pricing-governance": [
            (
                "Unfair treatment signal in overdraft repricing",
                "sev2",
                "complaint",
                "unfair_outcome",
                30,
                [("policy", "Eligibility policy allowed a proxy for age"), ("model", "Feature drift")],
                "corrective_actions_agreed",
            ),
            (
                "Branch override reasons missing on repriced loans",
                "sev3",
                "qa_sample",
                "",
                9,
                [("workflow", "Override form lets lenders skip the reason")],
                "reported",
            ),
        ],
    }
)
# Who each capability's incidents reach, for the record's "affected population".
AFFECTED_POPULATION = {
    "cc-agent-assist": "Billing and fee intents, all sites",
    "collections-hardship": "Hardship conversations in the two pilot teams",
    "complaint-intelligence": "Written complaints received through the secure inbox",
    "kyc-onboarding": "Complex-entity and sole-trader applications",
    "aml-triage": "Transaction-monitoring alerts escalated to investigators",
    "pricing-governance": "Overdraft repricing decisions in the north region",
}
ORDER = [
    "reported",
    "contained",
    "root_cause_found",
    "corrective_actions_agreed",
    "learning_recorded",
    "closed",
]


def _walk(incident, spec_causes, target, ops, pm, today):
    reached = ORDER.index(target)
    if reached >= 1 and incident.state == "reported":
        incident.contain(
            by=ops,
            immediate_action="Paused the affected suggestions",
            restriction="Affected intents routed to human agents only",
            communication="Team leads briefed the same day",
        )
    if reached >= 2 and spec_causes and incident.state in ("reported", "contained"):
        incident.record_root_causes(by=ops, causes=spec_causes)
    if reached >= 3 and incident.state == "root_cause_found":
        incident_add_corrective_action(
            incident=incident,
            by=ops,
            action=f"Correct: {incident.title}",
            owner=ops,
            reviewer=pm,
            due_date=today + datetime.timedelta(days=14),
            closure_criterion="QA sample of 50 shows no repeat of the defect class",
            reopen_trigger={"kind": "recheck_date", "recheck_on": today + datetime.timedelta(days=60)},
        )
        incident.agree_corrective_actions(by=ops)
    if reached >= 4 and incident.state == "corrective_actions_agreed":
        contract = MetricContract.objects.filter(capability=incident.capability).first()
        if contract is not None:
            incident_add_learning_item(
                incident=incident,
                by=ops,
                kind="metric_contract",
                record=contract,
                text="Guardrail threshold tightened after the incident",
            )
        incident_add_learning_item(
            incident=incident,
            by=ops,
            kind="eval",
            text="Eval set extended with the failing cases",
            link="https://evals.example/incident-cases",
        )
        incident.record_learning(by=ops, next_review_on=today + datetime.timedelta(days=30))
    if reached >= 5 and incident.state == "learning_recorded":
        for action in incident.corrective_actions().exclude(status="closed"):
            action.submit_evidence(by=action.owner, text="QA sample of 50: defect class absent.")
            action.verify(by=pm, comment="Meets the closure criterion.")
        if incident.needs_forum_review and not incident.forum_reviewed_on:
            incident.record_forum_review(by=ops, reviewed_on=today, note="Weekly incident review")
        if incident.severity == "sev4":
            incident.set_watchlist(by=ops, sample_size=200)
        incident.close(by=ops)


def seed(context) -> dict:
    today = timezone.localdate()
    made = 0
    for slug, capability in context.capabilities.items():
        ops = context.owners.get((slug, "ops"))
        pm = context.owners.get((slug, "ai_pm"))
        if ops is None or pm is None:
            continue
        for title, severity, source, signal, days, causes, target in INCIDENTS.get(slug, []):
            incident = Incident.objects.filter(capability=capability, title=title).first()
            if incident is None:
                incident = incident_report(
                    capability=capability,
                    by=ops,
                    title=title,
                    severity=severity,
                    source=source,
                    complaint_signal=signal,
                    occurred_on=today - datetime.timedelta(days=days),
                    affected_population=AFFECTED_POPULATION.get(slug, ""),
                    impact_customer="Customers given a wrong or unclear answer",
                )
                made += 1
            _walk(incident, causes, target, ops, pm, today)
    summary = {"incidents": made}
    context.incidents_demo = summary
    print(f"Incidents demo: {made} incidents.")
    return summary
