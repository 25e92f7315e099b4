"""Demo release calendar: per capability 3-4 releases across object types and states, driven
through the model's moves so approvals, decisions, version sets and history are real.

Planted stories, relative to today:

* cc-agent-assist: the prompt release behind the billing repeat-contact story (v11 -> v12, on
  the day the contracts demo switches the telemetry's prompt version), released, its impact
  review due; a CRM fee-waiver tool change waiting for its second approver;
* kyc-onboarding: a parser upgrade held by the stop rule (the contracts demo leaves an unlifted
  stop hold on the capability: nothing there can be approved or deployed);
* aml-triage: a model change deployed to a canary, then rolled back;
* complaint-intelligence and pricing-governance: releases whose impact review is recorded.

Idempotent: a release is keyed on its capability and its change text.
"""

import datetime

from django.utils import timezone

from contracts.demo import PROMPTS, RELEASE_DAYS_AGO
from contracts.services import capability_held
from productops.models import Notification
from releases.choices import EVIDENCE_LABELS
from releases.models import Release
from releases.services import release_create

# Who attests which evidence item (the role that owns that kind of proof).
ATTESTERS = {
    "quality_comparison": "analytics",
    "latency_comparison": "platform",
    "cost_comparison": "analytics",
    "rollback_test": "platform",
    "regression_eval": "analytics",
    "policy_review": "risk_compliance",
    "lineage": "analytics",
    "privacy": "risk_compliance",
    "bias": "risk_compliance",
    "validation": "analytics",
    "freshness": "business_analyst",
    "authority": "business_analyst",
    "retrieval_quality": "analytics",
    "authorization": "risk_compliance",
    "side_effects": "ai_architect",
    "audit": "platform",
    "dual_control": "risk_compliance",
    "legal_compliance_review": "risk_compliance",
    "frontline_communication": "ops",
    "eval_update": "analytics",
    "adoption": "ops",
    "capacity": "ops",
    "control_impact": "risk_compliance",
    "metric_owner_approval": "ai_pm",
}

CC_FROM, CC_TO = PROMPTS["cc-agent-assist"]

# (object type, change, version from, version to, plan, days: deployed/planned offset from today,
#  review: review date offset from the deployed or planned date, affected population)
RELEASES = {
    "cc-agent-assist": [
        (
            "prompt",
            "Shorter, policy-cited billing suggestions",
            CC_FROM,
            CC_TO,
            "review_due",
            -RELEASE_DAYS_AGO,
            28,
            "All billing, card and fee intents; every site",
        ),
        (
            "tool",
            "CRM fee-waiver write action from the suggestion panel",
            "",
            "crm-write-v1",
            "waiting_second",
            12,
            28,
            "Fee-dispute calls at the Leeds and Cardiff sites (about 8% of billing calls)",
        ),
        (
            "knowledge",
            "Overdraft fee article v7 with the 2026 charges table",
            "kb-2026-06",
            "kb-2026-07",
            "draft",
            10,
            21,
            "Overdraft and fee intents",
        ),
        (
            "model",
            "Provider upgrade for suggestions (lower latency tier)",
            "m-2026-05",
            "m-2026-08",
            "submitted",
            21,
            28,
            "All intents, canary on the north team first",
        ),
    ],
    "complaint-intelligence": [
        (
            "data",
            "Taxonomy labels v3: 'fees and charges' split into three sub-labels",
            "tax-v2",
            "tax-v3",
            "impact_reviewed_keep",
            -70,
            28,
            "Every complaint channel",
        ),
        (
            "policy",
            "Regulatory flag threshold guidance for vulnerable-customer complaints",
            "reg-guide-4",
            "reg-guide-5",
            "submitted",
            9,
            30,
            "Complaints flagged vulnerable or regulatory",
        ),
        (
            "dashboard",
            "Legal root-cause tracker view with closure evidence",
            "legal-view-1",
            "legal-view-2",
            "approved",
            5,
            28,
            "Legal and regulatory reporting users",
        ),
    ],
    "kyc-onboarding": [
        (
            "model",
            "Document parser upgrade for complex entities",
            "parser-4.2",
            "parser-5.0",
            "held_by_stop_rule",
            7,
            28,
            "Limited companies and sole traders",
        ),
        (
            "workflow",
            "Reviewer queue: complex entities first",
            "queue-v3",
            "queue-v4",
            "changes_requested",
            14,
            28,
            "Onboarding reviewers and EDD analysts",
        ),
        (
            "knowledge",
            "Proof-of-address rules for expired documents",
            "kyc-rules-11",
            "kyc-rules-12",
            "draft",
            18,
            21,
            "Retail individuals",
        ),
    ],
    "collections-hardship": [
        (
            "policy",
            "Hardship policy v3: vulnerability flags and breathing space",
            "hardship-v2",
            "hardship-v3",
            "released",
            -20,
            28,
            "All collections agents; customers in arrears over 30 days",
        ),
        (
            "prompt",
            "Vulnerability-aware arrangement guidance",
            "p-7",
            "p-8",
            "canary",
            -10,
            21,
            "Canary: the south team (about 15% of calls)",
        ),
        (
            "data",
            "Arrangement outcome labels refresh",
            "labels-2025q4",
            "labels-2026q2",
            "rejected",
            6,
            28,
            "Training sample for arrangement suggestions",
        ),
    ],
    "aml-triage": [
        (
            "model",
            "Alert triage model m-2026-07 (new typology features)",
            "m-2026-05",
            "m-2026-07",
            "rolled_back",
            -35,
            21,
            "Canary: 10% of retail alerts",
        ),
        (
            "knowledge",
            "Typology corpus: trade-based laundering",
            "typ-2026-03",
            "typ-2026-06",
            "approved_for_canary",
            4,
            28,
            "Trade finance alerts",
        ),
        (
            "tool",
            "Case narrative export to the case management system",
            "",
            "export-v1",
            "submitted",
            15,
            28,
            "Level-2 investigators",
        ),
    ],
    "pricing-governance": [
        (
            "workflow",
            "Override reason step in branch pricing",
            "override-v1",
            "override-v2",
            "impact_reviewed_hotfix",
            -50,
            30,
            "All branch pricing overrides",
        ),
        (
            "dashboard",
            "Fairness signal view by postcode band",
            "fair-view-1",
            "fair-view-2",
            "draft",
            12,
            21,
            "Pricing governance committee",
        ),
        (
            "prompt",
            "Reason-code explanation for branch staff",
            "rc-3",
            "rc-4",
            "submitted",
            8,
            28,
            "Branch staff quoting personal loan rates",
        ),
    ],
}

CANARY_PLANS = {
    "model": "10% of traffic for 7 days; watch quality, latency and cost per case daily.",
    "prompt": "One team for 5 working days; compare edit rate and repeat contact with the other teams.",
    "tool": "Two sites, team leaders only, for 10 days; every write reviewed the next morning.",
}
ROLLBACK_PLANS = {
    "model": "Switch the routing flag back to the previous model; no data migration. Platform on call.",
    "prompt": "Re-pin the previous prompt version in the prompt registry (one click, under 5 minutes).",
    "tool": "Revoke the tool's write scope in the gateway; queued writes are discarded and logged.",
    "data": "Restore the previous snapshot from the feature store; retrain not needed.",
    "knowledge": "Republish the previous corpus version; the retrieval index keeps both for 30 days.",
    "policy": "Re-issue the previous guidance and tell frontline leads through the daily huddle.",
    "workflow": "Turn off the feature flag for the new step; cases in flight finish the old way.",
    "dashboard": "Point the view back to the previous metric definition.",
}


def _attest_all(release, context, slug, day) -> None:
    for item in release.evidence_items.all():
        role = ATTESTERS.get(item.key, "ai_architect")
        person = context.owners[(slug, role)]
        label = EVIDENCE_LABELS[item.key][0]
        release.attest(
            by=person,
            item=item.key,
            link=f"https://evidence.demo.productops.local/{release.readable_id.lower()}/{item.key.replace('_', '-')}",
            note=f"{label}: reviewed on {min(day, timezone.localdate()).isoformat()}, no open finding.",
        )


def _drive(release, plan: str, *, context, slug, day: datetime.date, today: datetime.date) -> None:
    """Take a fresh draft through the moves its planned state needs."""
    owner = release.owner
    risk = context.owners[(slug, "risk_compliance")]
    pm = context.owners[(slug, "ai_pm")]
    if plan == "draft":
        first = release.evidence_items.first()
        if first is not None:
            release.attest(
                by=context.owners[(slug, ATTESTERS.get(first.key, "ai_architect"))],
                item=first.key,
                link=f"https://evidence.demo.productops.local/{release.readable_id.lower()}/{first.key}",
            )
        return
    _attest_all(release, context, slug, day)
    release.submit(by=owner)
    if plan == "submitted":
        return
    # Approvals given two days before a deployment that already happened, else today.
    on = min(day - datetime.timedelta(days=2), today) if day <= today else None
    if plan == "held_by_stop_rule":
        release.hold(
            by=risk,
            comment="Held: the stop rule on document false passes for complex entities fired. "
            "Nothing ships on this capability until the false-pass sample is clean and the hold is lifted.",
        )
        return
    if plan == "changes_requested":
        release.request_changes(
            by=risk, comment="Show the effect on the EDD escalation rate before this goes to reviewers."
        )
        return
    if plan == "rejected":
        release.reject(
            by=risk,
            comment="The refreshed labels drop the vulnerable-customer outcomes: the sample is not representative.",
        )
        return
    if plan == "waiting_second":
        release.approve(by=pm, comment="Side-effect review and audit trail look right; fine from product.")
        return
    if plan in ("approved_for_canary", "canary", "rolled_back"):
        release.approve_for_canary(
            by=risk, comment="Canary only, on the population in the canary plan.", on=on
        )
    else:
        release.approve(by=risk, comment="Evidence complete; rollback rehearsed. Approved.", on=on)
        if release.object_type == "tool":
            release.approve(by=pm, comment="Second approval (dual control).", on=on)
    if plan in ("approved", "approved_for_canary"):
        return
    if plan in ("canary", "rolled_back"):
        release.deploy(by=owner, to="canary", on=day)
    else:
        release.deploy(by=owner, to="released", on=day)
    if plan == "rolled_back":
        release.rollback(
            by=owner,
            reason="Cost per alert rose 18% on the canary with no gain in escalation precision; "
            "back to m-2026-05 while the feature pipeline is profiled.",
            on=day + datetime.timedelta(days=5),
        )
        return
    if plan.startswith("impact_reviewed"):
        reviewed = release.post_release_review_date
        hotfix = plan.endswith("hotfix")
        release.record_impact_review(
            by=pm,
            expected_effect="Fewer reclassifications and overrides, with no guardrail moving past warning.",
            decision="hotfix" if hotfix else "keep",
            comment=(
                "Override rate fell as expected, but the reason text is left empty on 1 in 8 overrides: "
                "hotfix the mandatory field."
                if hotfix
                else "Moved as expected; guardrails held. Keep."
            ),
            on=reviewed if reviewed <= today else None,
        )


def seed(context) -> None:
    started = timezone.now()
    today = timezone.localdate()
    made = 0
    for slug, plans in RELEASES.items():
        capability = context.capabilities[slug]
        existing = set(Release.objects.filter(capability=capability).values_list("change", flat=True))
        held = capability_held(capability)
        owner = context.owners[(slug, "ai_architect")]
        for object_type, change, version_from, version_to, plan, offset, review, population in plans:
            if change in existing:
                continue
            if held and plan not in (
                "draft",
                "submitted",
                "held_by_stop_rule",
                "changes_requested",
                "rejected",
            ):
                # A stop rule holds the capability: nothing is approved or deployed there.
                plan = "submitted"
            day = today + datetime.timedelta(days=offset)
            release = release_create(
                by=owner,
                capability=capability,
                planned_date=day,
                object_type=object_type,
                change=change,
                version_from=version_from,
                version_to=version_to,
                affected_population=population,
                owner=owner,
                canary_plan=CANARY_PLANS.get(object_type, ""),
                rollback_plan=ROLLBACK_PLANS[object_type],
                post_release_review_date=day + datetime.timedelta(days=review),
            )
            _drive(release, plan, context=context, slug=slug, day=day, today=today)
            made += 1
    # The demo's notifications are recorded as delivered: loading it sends no e-mail.
    Notification.objects.filter(created_at__gte=started, sent_at__isnull=True).update(sent_at=timezone.now())
    print(f"Releases demo: {made} releases added.")
