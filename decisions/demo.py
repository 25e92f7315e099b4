"""Demo decisions: per capability, the decisions its forums took over the last months — scale,
restrict, metric definition changes, risk acceptances, rollbacks — with one superseded chain
and a few recorded without evidence (playbook 8.3, 9.3 and 14.1)."""

from datetime import timedelta
from typing import NamedTuple

from django.utils import timezone

from decisions.models import Decision
from decisions.services import decision_record


class Entry(NamedTuple):
    """One demo decision. ``owner`` is a role of the capability's owner map, or "exec" (the demo
    executive); ``evidence`` holds indices of earlier entries or links; ``supersedes`` an index."""

    days_ago: int
    type: str
    owner: str
    decision: str
    options: str = ""
    trigger: str = ""
    review_in: int | None = None
    evidence: tuple | list = ()
    supersedes: int | None = None


DECISIONS = {
    "cc-agent-assist": [
        Entry(
            180,
            "scale_selectively",
            "ai_pm",
            "Scale agent assist to billing and fee intents on all six sites; card servicing stays at the two pilot sites.",
            options="Scale to every intent; scale billing and fee intents only; hold at the pilot sites.",
            trigger="7-day repeat contact on billing intents above the 14.1% baseline for two consecutive weeks.",
            review_in=90,
        ),
        Entry(
            150,
            "metric_definition_change",
            "analytics",
            "AHT is judged net of 7-day repeat contact; raw AHT is still reported but no longer decides scale.",
            options="Keep raw AHT; AHT net of repeat contact; cost per resolved contact.",
            trigger="Finance cannot reconcile the net figure with the workforce model.",
            review_in=180,
            evidence=[0],
        ),
        Entry(
            120,
            "release_approval",
            "ai_architect",
            "Approve prompt v12 (fee-explanation citations) for canary on 10% of billing calls, with rollback to v11.",
            options="Approve for canary; approve for all traffic; hold for another eval round.",
            trigger="QA script defect rate above 3% in the canary sample.",
            review_in=30,
            evidence=[1, "https://confluence.bank.example/ai/agent-assist/prompt-v12-eval"],
        ),
        Entry(
            90,
            "rollback",
            "platform",
            "Roll back prompt v12 to v11: QA script defects on fee explanations rose from 2.8% to 4.1% in the canary.",
            options="Hotfix the fee article; roll back; extend the canary with closer sampling.",
            trigger="Prompt v13 passes the tiered-fee eval cases.",
            review_in=30,
            evidence=[2],
        ),
        Entry(
            60,
            "incident_corrective_action_acceptance",
            "ops",
            "Accept the fee-explanation incident's corrective actions: knowledge article fix, eval cases for tiered fees, QA sample raised to 2% for four weeks.",
            options="Accept as proposed; add frontline coaching; ask for a longer sampling period.",
            trigger="A fee-explanation complaint in the four-week sampling window.",
            review_in=28,
            evidence=[3],
        ),
        Entry(
            20,
            "scale",
            "exec",
            "Scale to billing, fee and card servicing intents on all sites: AHT down 7.4% net of repeat contact, complaints flat, qualified use 63% for eight weeks.",
            options="Scale all intents; keep card servicing at pilot sites; add the collections queue.",
            trigger="Fee-explanation complaints above 38 a month, or qualified use below 55% for four weeks.",
            review_in=90,
            evidence=[1, 4],
            supersedes=0,
        ),
        Entry(
            10,
            "continue",
            "ai_pm",
            "Continue the collections-queue discovery; no scale request until the vulnerable-customer script review is done.",
            trigger="Vulnerable-customer script review signed off.",
        ),
    ],
    "complaint-intelligence": [
        Entry(
            200,
            "release_approval",
            "ai_architect",
            "Approve classifier v3 for live routing with the regulatory flag threshold at 0.35; a handler checks every flagged complaint.",
            options="Threshold 0.35 with full check; threshold 0.5 with sampling; stay on rules.",
            trigger="Regulatory capture below 99% in the monthly false-negative sample.",
            review_in=90,
        ),
        Entry(
            160,
            "risk_acceptance",
            "risk_compliance",
            "Accept a 1.2% reclassification rate on non-regulatory complaints for two quarters; regulatory capture must stay at or above 99%.",
            options="Accept; lower the threshold and absorb the extra handler load; stop auto-routing.",
            trigger="Any regulatory complaint routed late past its reporting deadline.",
            review_in=180,
            evidence=[0],
        ),
        Entry(
            120,
            "restrict",
            "ai_pm",
            "Restrict auto-routing to written complaints; phone and branch complaints go back to manual triage until transcript quality is fixed.",
            options="Restrict to written; keep all channels with double checks; pause auto-routing.",
            trigger="Transcript word error rate below 8% on the complaint sample.",
            review_in=60,
            evidence=[1],
        ),
        Entry(
            70,
            "platform_investment",
            "platform",
            "Build a shared transcript-cleaning service with the contact-centre assist team instead of a complaint-only fix.",
            options="Complaint-only fix; shared service; buy a vendor transcript product.",
            trigger="Shared service not in production by the next quarterly portfolio review.",
            review_in=90,
            evidence=[2],
        ),
        Entry(
            30,
            "scale_selectively",
            "ai_pm",
            "Re-open auto-routing to phone complaints on cleaned transcripts; branch complaints stay manual.",
            options="Re-open phone and branch; phone only; stay restricted.",
            trigger="Phone-channel false negatives above 1% in the regulatory sample.",
            review_in=60,
            evidence=[3],
            supersedes=2,
        ),
        Entry(
            8,
            "redesign",
            "business_analyst",
            "Redesign the root-cause label set with legal: 14 labels collapse into 9 that map to the action tracker.",
            trigger="Handlers disagree with the new labels on more than 20% of a 200-case sample.",
        ),
    ],
    "kyc-onboarding": [
        Entry(
            210,
            "restrict",
            "risk_compliance",
            "Restrict the completeness check to retail individuals and sole traders; limited companies stay fully manual.",
            options="All entity types; retail and sole traders only; retail only.",
            trigger="Document false-pass sample clean for three consecutive months.",
            review_in=120,
        ),
        Entry(
            170,
            "metric_definition_change",
            "analytics",
            "The document false-pass rate is measured on a stratified sample of 400 files a month (was 150, unstratified).",
            options="Keep 150 files; 400 stratified by entity type and channel; full re-review of high-risk files.",
            trigger="QA capacity cannot sustain 400 files a month.",
            review_in=180,
            evidence=[0],
        ),
        Entry(
            120,
            "scale_selectively",
            "exec",
            "Scale selectively: cycle time down in low-risk retail, EDD defects unchanged. Expand to all retail individuals; no expansion to complex entities until the false-pass sample remains clean.",
            options="Scale to every entity type; scale selectively to retail; hold.",
            trigger="A severe false pass in a high-risk entity, or abandonment above the 11% baseline.",
            review_in=90,
            evidence=[1, "https://sharepoint.bank.example/kyc/monthly-value-review-memo"],
        ),
        Entry(
            80,
            "risk_acceptance",
            "risk_compliance",
            "Accept a 0.4% document false-pass rate in low-risk retail with weekly sampling; any severe false pass in a high-risk entity reopens this decision.",
            options="Accept 0.4%; require 0.2% before acceptance; add second-reviewer sampling.",
            trigger="Severe false pass in a high-risk entity.",
            review_in=90,
            evidence=[1, 2],
        ),
        Entry(
            45,
            "fund",
            "finance",
            "Fund two engineers for workflow integration and the document extraction quality dashboard through 2026-Q3.",
            options="Fund two engineers; fund one engineer; defer to the platform team's backlog.",
            trigger="Dashboard not live by the 2026-Q3 monthly value review.",
            review_in=120,
            evidence=[2],
        ),
        Entry(
            15,
            "scale_selectively",
            "exec",
            "Extend the completeness check to limited companies with a single UK director; complex ownership structures stay manual.",
            options="Extend to all limited companies; single-director companies only; stay on retail.",
            trigger="False-pass rate in the new cohort above 0.4% in the stratified sample.",
            review_in=60,
            evidence=[3, 4],
            supersedes=2,
        ),
        Entry(
            5,
            "pause",
            "ai_pm",
            "Pause the EDD automation discovery until the annual audit sample lands.",
            trigger="Annual audit sample published.",
        ),
    ],
    "collections-hardship": [
        Entry(
            150,
            "continue",
            "ai_pm",
            "Continue the pilot in two teams for a further 8 weeks: kept-promise rate up 3 points but the suitability sample is too small to decide.",
            options="Continue; scale to four teams; stop.",
            trigger="Suitability sample of 200 conversations reviewed.",
            review_in=56,
        ),
        Entry(
            110,
            "risk_acceptance",
            "risk_compliance",
            "Accept guidance on breathing-space conversations only with a specialist hand-off prompt; no guidance on arrangement amounts.",
            options="Guidance on all hardship topics; breathing space only; none until policy review.",
            trigger="A complaint citing pressure in a guided conversation.",
            review_in=90,
            evidence=[0],
        ),
        Entry(
            75,
            "redesign",
            "ops",
            "Redesign the escalation flow: vulnerability cues open the specialist referral form instead of a suggestion.",
            options="Suggestion only; referral form; mandatory specialist transfer.",
            trigger="Referral rate above specialist capacity (12 specialists) for two weeks.",
            review_in=45,
            evidence=[1],
        ),
        Entry(
            40,
            "pause",
            "exec",
            "Pause roll-out beyond the pilot teams: two pressure complaints cite guidance wording.",
            options="Pause roll-out; continue with a wording hotfix; stop the pilot.",
            trigger="Vulnerable-customer review of the reworded guidance comes back clean.",
            review_in=30,
            evidence=[2],
        ),
        Entry(
            12,
            "continue",
            "ai_pm",
            "Resume the pilot with the reworded guidance (v5) after a clean vulnerable-customer review; the roll-out decision goes to the next monthly value review.",
            options="Resume pilot; resume and extend; keep paused.",
            trigger="Any pressure complaint citing guidance v5.",
            review_in=30,
            evidence=[3],
            supersedes=3,
        ),
        Entry(
            6,
            "metric_definition_change",
            "analytics",
            "The kept-promise rate counts arrangements kept for three consecutive payments (was the first payment only).",
            review_in=180,
        ),
    ],
    "aml-triage": [
        Entry(
            240,
            "release_approval",
            "ai_architect",
            "Approve narrative drafting for transaction-monitoring alerts with mandatory evidence citations; analysts sign every narrative.",
            options="Approve with citations; approve for low-risk alerts only; hold.",
            trigger="Narrative defect rate above 5% in the audit sample.",
            review_in=90,
        ),
        Entry(
            190,
            "platform_investment",
            "platform",
            "Move the typology retrieval index to the shared RAG platform and retire the team's own index.",
            options="Keep the team index; move to the shared platform; buy a vendor index.",
            trigger="Retrieval p95 above 2 s on the shared platform.",
            review_in=120,
            evidence=[0],
        ),
        Entry(
            140,
            "incident_corrective_action_acceptance",
            "ops",
            "Accept the corrective actions for the missed structuring typology: eval cases added, corpus refreshed, sampling of low-score alerts doubled.",
            options="Accept; add a rules backstop; pause drafting for structuring alerts.",
            trigger="Another structuring miss in the monthly audit sample.",
            review_in=60,
            evidence=[1],
        ),
        Entry(
            90,
            "scale",
            "ai_pm",
            "Scale narrative drafting to every transaction-monitoring queue: throughput up 18% with escalation quality unchanged in the audit sample.",
            options="Scale all queues; scale high-volume queues only; hold.",
            trigger="An escalation miss in the monthly audit sample.",
            review_in=90,
            evidence=[2],
        ),
        Entry(
            50,
            "consolidate",
            "exec",
            "Consolidate the AML and fraud narrative assistants into one capability with shared evals.",
            options="Consolidate fully; share evals only; keep separate.",
            trigger="Regulatory sign-off cannot cover both narrative types.",
            review_in=60,
            evidence=[3],
        ),
        Entry(
            25,
            "consolidate",
            "exec",
            "Consolidate the retrieval and eval layers only; AML and fraud keep separate narrative templates and owners, because their regulatory sign-off differs.",
            options="Full consolidation; shared layers only.",
            trigger="Eval drift between the two narrative types above 3 points.",
            review_in=90,
            evidence=[3, 4],
            supersedes=4,
        ),
        Entry(
            9,
            "platformize",
            "platform",
            "Platformize evidence-citation rendering as a golden-path component for every drafting assistant.",
            trigger="Fewer than two teams adopt it within a quarter.",
        ),
    ],
    "pricing-governance": [
        Entry(
            200,
            "restrict",
            "risk_compliance",
            "Restrict recommendations to savings retention offers; personal loan pricing stays with the rules engine.",
            options="Savings only; savings and overdrafts; all products with committee review.",
            trigger="Fairness signal outside appetite on any protected-class proxy.",
            review_in=120,
        ),
        Entry(
            150,
            "metric_definition_change",
            "analytics",
            "The fairness signal uses the approved protected-class proxy set v2 and a 2-point disparity threshold.",
            options="Proxy set v1 with 3 points; v2 with 2 points; v2 with 1 point.",
            trigger="Model validation rejects proxy set v2.",
            review_in=180,
            evidence=[0],
        ),
        Entry(
            100,
            "risk_acceptance",
            "risk_compliance",
            "Accept a temporary 2.5-point disparity on overdraft repricing in the north region while the proxy review runs, with weekly monitoring.",
            options="Accept temporarily; restrict north region now; retire overdraft repricing.",
            trigger="Disparity above 3 points in any week.",
            review_in=30,
            evidence=[1],
        ),
        Entry(
            60,
            "retire",
            "ai_pm",
            "Retire the overdraft repricing model: the fairness review did not clear it and the margin gain was 0.1 points.",
            options="Redesign with new features; retire; keep restricted.",
            evidence=[2],
        ),
        Entry(
            30,
            "risk_acceptance",
            "risk_compliance",
            "Withdraw the temporary disparity acceptance: overdraft repricing is retired, so no exception remains.",
            trigger="Overdraft repricing proposed again.",
            evidence=[3],
            supersedes=2,
        ),
        Entry(
            7,
            "continue",
            "finance",
            "Continue savings retention offers: margin and conversion up within the fairness and conduct guardrails.",
            trigger="Conversion uplift below 1 point for a quarter.",
        ),
    ],
}


def seed(context) -> None:
    """Create the demo decisions once; re-running finds them by capability and text."""
    today = timezone.localdate()
    for slug, entries in DECISIONS.items():
        capability = context.capabilities.get(slug)
        if capability is None:
            continue
        recorder = context.owners[(slug, "ai_pm")]
        made: list[Decision] = []
        for entry in entries:
            jitter = context.random.randint(0, 2)  # drawn every run, so later builders see the same sequence
            existing = Decision.objects.filter(capability=capability, decision=entry.decision).first()
            if existing is not None:
                made.append(existing)
                continue
            decided_on = today - timedelta(days=entry.days_ago - jitter)
            if entry.owner == "exec":
                owner = context.logins["exec"]
            else:
                owner = context.owners[(slug, entry.owner)]
            made.append(
                decision_record(
                    capability=capability,
                    by=recorder,
                    type=entry.type,
                    decision=entry.decision,
                    options_considered=entry.options,
                    owner=owner,
                    evidence=[made[item] if isinstance(item, int) else item for item in entry.evidence],
                    review_trigger=entry.trigger,
                    review_date=decided_on + timedelta(days=entry.review_in) if entry.review_in else None,
                    supersedes=made[entry.supersedes] if entry.supersedes is not None else None,
                    decided_on=decided_on,
                )
            )
