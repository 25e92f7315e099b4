"""The organisation the API fuzzer works in: one capability holding every asset in the states its
moves start from, made through the apps' own services, and the person whose write token the
fuzzer sends.

``build()`` returns the token, per API route the ids that exist (``ids["/api/v1/actions/"]``), and
per kind the values a body may name (``references["people"]``), so generated requests address
real records and reach the code behind the lookups and permission checks.
"""

import datetime

from django.utils import timezone

SLUG = "cc-agent-assist"


def _day(offset: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=offset)


def _person(username, roles, capability=None, **extra):
    from productops.models import RoleAssignment, User

    user = User.objects.create_user(
        username, f"{username}@example.test", "pw", first_name=username.title(), last_name="Fuzz", **extra
    )
    for role in roles:
        RoleAssignment.objects.create(user=user, role=role, capability=capability)
    return user


def build() -> dict:  # noqa: PLR0915  (one recipe, read top to bottom)
    from actions.services import action_create
    from assumptions.services import assumption_create
    from contracts.models import Observation, StopHold, cohort_key
    from contracts.services import contract_activate, contract_create
    from contracts.tests.factories import SignalFactory, contract_kwargs
    from decisions.services import decision_record
    from experiments.services import experiment_create
    from forums.choices import Cadence, Frequency, Weekday
    from forums.meeting import meeting_start
    from forums.memos.services import memo_generate
    from forums.models import Session
    from forums.portfolio_review import quarter_of
    from forums.portfolio_review.services import portfolio_review_open
    from forums.services import forum_create
    from incidents.services import incident_add_corrective_action, incident_report
    from portfolio.models import Capability
    from portfolio.services import backlog_item_create
    from productops.models import RoleAssignment, User
    from productops.tokens import token_create
    from releases.services import release_create
    from webhooks.models import Delivery, Event
    from webhooks.services import endpoint_create

    seeder = User.objects.create_superuser("fuzz-seeder", "seeder@example.test", "pw")
    capability = Capability.objects.create(
        name="Contact-centre agent assist",
        slug=SLUG,
        workflow="Live billing calls",
        target_users="Contact-centre agents",
        risk_tier="high",
        lifecycle_status="production",
    )
    # The fuzzer runs Product Ops across the organisation (so organisation settings such as
    # webhooks answer), and is the capability's release lead and risk partner besides.
    fuzzer = _person("fuzzer", ["ai_pm"])
    for role in ("ai_architect", "risk_compliance", "ops"):
        RoleAssignment.objects.create(user=fuzzer, role=role, capability=capability)
    lead = _person("lead", ["ai_pm", "ai_architect"], capability)
    ops = _person("ops", ["ops"], capability)

    # Contracts: two active, one draft; telemetry for the last three weeks.
    owners = {"business_owner": lead, "analytics_owner": lead}
    repeat = contract_create(by=seeder, **contract_kwargs(capability, **owners))
    contract_activate(contract=repeat, by=seeder)
    aht = contract_create(
        by=seeder,
        **contract_kwargs(
            capability,
            metric_id="cc_agent_assist.aht_seconds",
            name="Average handle time",
            unit="seconds",
            **owners,
        ),
    )
    contract_activate(contract=aht, by=seeder)
    draft = contract_create(
        by=seeder,
        **contract_kwargs(
            capability, metric_id="cc_agent_assist.draft_metric", name="Draft metric", **owners
        ),
    )
    Observation.objects.bulk_create(
        Observation(
            contract=contract,
            cohort_key=cohort_key({"intent": intent, "team": "north"}),
            version_key=cohort_key({"prompt": "v12", "arm": arm}),
            period_start=_day(-offset),
            grain="day",
            cohort={"intent": intent, "team": "north"},
            version_set={"prompt": "v12", "arm": arm},
            value=value,
            numerator=value * 4 if contract.is_ratio else None,
            denominator=400 if contract.is_ratio else None,
            sample_size=400,
        )
        for contract, value in ((repeat, 11.0), (aht, 420.0))
        for offset in range(1, 22)
        for intent in ("billing", "card")
        for arm in ("control", "treatment")
    )
    signal = SignalFactory(contract=repeat, level="breach", worst_level="breach", threshold_crossed=15.0)
    StopHold.objects.create(capability=capability, signal=signal, reason="Repeat contact in breach")

    # Actions in each state a move starts from; the fuzzer owns some and reviews the others.
    def action(text, owner, **extra):
        return action_create(
            capability=capability,
            by=seeder,
            action=text,
            owner=owner,
            reviewer=fuzzer if owner != fuzzer else lead,
            due_date=_day(10),
            closure_criterion="QA sample shows the defect class below warning",
            **extra,
        )

    open_action = action("Sample 50 billing calls", fuzzer)
    started = action("Fix the fee article", fuzzer)
    started.start(by=fuzzer)
    blocked = action("Retrain the intent model", fuzzer)
    blocked.block(by=fuzzer, reason="Waiting for labelled data")
    awaiting = action("Cite the policy article", ops)
    awaiting.submit_evidence(by=ops, text="QA sample: 0 of 50 misleading.")
    closed = action("Shorten suggestions", ops)
    closed.submit_evidence(by=ops, text="Done, see the QA sheet.")
    closed.verify(by=fuzzer, comment="Meets the criterion.")

    decision = decision_record(
        capability=capability,
        by=seeder,
        type="continue",
        decision="Continue billing suggestions for all teams.",
        owner=lead,
        evidence=["https://wiki.bank.example/qa/billing-sample"],
    )
    assumption = assumption_create(
        capability=capability,
        by=seeder,
        statement="Agents accept shorter suggestions.",
        type="value",
        owner=lead,
        confidence="medium",
        expires_on=_day(60),
        tested_by_contracts=[repeat.metric_id],
    )
    backlog_item = backlog_item_create(
        capability=capability,
        by=seeder,
        title="Citation UI for fee answers",
        item_class="outcome_improvement",
        expected_metric=repeat,
        expected_direction="down",
        expected_movement="-2 points",
        evidence=repeat.metric_id,
    )

    # Releases owned by the lead (an owner never approves their own): draft, submitted, released.
    def release(change, *, submit=False):
        made = release_create(
            by=seeder,
            capability=capability,
            planned_date=_day(7),
            object_type="prompt",
            change=change,
            version_from="v11",
            version_to="v12",
            affected_population="Billing intents, all sites",
            owner=lead,
            canary_plan="North team for five days",
            rollback_plan="Re-pin v11 in the prompt registry",
            post_release_review_date=_day(35),
        )
        if submit:
            for item in made.evidence_items.all():
                made.attest(
                    by=seeder, item=item.key, link=f"https://evidence.example/{item.key}", note="Passed."
                )
            made.submit(by=lead)
        return made

    StopHold.objects.filter(capability=capability).update(lifted_at=timezone.now(), lifted_by=seeder)
    releases = [release("Shorter suggestions"), release("Policy-cited suggestions", submit=True)]
    deployed = release("Knowledge refresh", submit=True)
    deployed.approve(by=fuzzer, comment="Evidence complete.")
    deployed.deploy(by=lead, to="released")
    releases.append(deployed)
    StopHold.objects.filter(capability=capability).update(lifted_at=None, lifted_by=None)

    def experiment(title):
        return experiment_create(
            capability=capability,
            by=seeder,
            title=title,
            hypothesis="Shorter suggestions reduce handle time",
            population="Billing calls",
            treatment="Suggestions under 60 words",
            control_or_baseline="Current suggestions",
            primary_metric=aht,
            guardrails=[repeat],
            start_date=_day(-20),
            planned_end_date=_day(-6),
            owner=lead,
            tested_assumption=assumption,
        )

    experiments = [experiment("Short suggestions"), experiment("Cited suggestions"), experiment("Tone")]
    experiments[1].start(by=seeder)
    experiments[2].start(by=seeder)
    experiments[2].begin_readout(by=seeder)

    def incident(title, severity="sev3"):
        return incident_report(
            capability=capability,
            by=seeder,
            title=title,
            source="complaint",
            complaint_signal="misleading_answer",
            occurred_on=_day(-3),
            severity=severity,
        )

    incidents = [incident("Misleading fee explanation"), incident("Wrong card limit", "sev2")]
    incidents[1].record_root_causes(by=seeder, causes=[("knowledge", "Outdated card article")])
    incident_add_corrective_action(
        incident=incidents[1],
        by=seeder,
        action="Fix the card knowledge article",
        owner=ops,
        due_date=_day(7),
        closure_criterion="QA sample has no wrong limit",
        reopen_trigger={"kind": "recheck_date", "recheck_on": _day(60)},
    )

    forum = forum_create(
        by=seeder,
        scope=[capability],
        attendees=[fuzzer, lead, ops],
        name="Weekly ops review — agent assist",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=fuzzer,
        decision_types=["continue", "restrict", "rollback"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
        duration_minutes=75,
    )

    def session(hours):
        return Session.objects.create(
            forum=forum,
            scheduled_at=timezone.now() + datetime.timedelta(hours=hours),
            decision_requested="Restrict billing suggestions for the north team?",
        )

    sessions = [session(24), meeting_start(session=session(1), by=fuzzer)]
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    memo = memo_generate(capability=capability, month=month, by=seeder)
    quarter = quarter_of(timezone.localdate())
    review = portfolio_review_open(quarter=quarter, by=seeder)

    endpoint = endpoint_create(
        by=seeder, name="Ops chat", url="http://127.0.0.1:9/hooks", events=["signal.opened"], active=True
    )
    event = Event.objects.create(type="signal.opened", key="signal.opened:fuzz", payload={})
    delivery = Delivery.objects.create(event=event, endpoint=endpoint, status="failed")

    _token, raw = token_create(user=fuzzer, name="API fuzzing", scope="write")
    readable = lambda rows: [row.readable_id for row in rows]  # noqa: E731
    ids = {
        "/api/v1/actions/": readable([open_action, started, blocked, awaiting, closed]),
        "/api/v1/assumptions/": readable([assumption]),
        "/api/v1/backlog-items/": readable([backlog_item]),
        "/api/v1/capabilities/": [capability.slug],
        "/api/v1/contracts/": [repeat.metric_id, aht.metric_id, draft.metric_id],
        "/api/v1/decisions/": readable([decision]),
        "/api/v1/experiments/": readable(experiments),
        "/api/v1/forum-sessions/": [row.pk for row in sessions],
        "/api/v1/forums/": [forum.pk],
        "/api/v1/incidents/": readable(incidents),
        "/api/v1/portfolio-reviews/": [review.quarter],
        "/api/v1/releases/": readable(releases),
        "/api/v1/scorecard-rows/": list(review.rows.values_list("pk", flat=True)),
        "/api/v1/signals/": [signal.pk],
        "/api/v1/value-memos/": [memo.pk],
        "/api/v1/webhooks/deliveries/": [delivery.pk],
        "/api/v1/webhooks/endpoints/": [endpoint.pk],
    }
    # Routes added later that address a record by one of these keys find it too.
    by_name = {
        "slug": [capability.slug],
        "metric_id": ids["/api/v1/contracts/"],
        "quarter": [review.quarter],
    }
    references = {
        "capabilities": [capability.slug],
        "people": [fuzzer.username, lead.username, ops.username],
        "metrics": ids["/api/v1/contracts/"],
        "sessions": ids["/api/v1/forum-sessions/"],
    }
    return {"token": raw, "user": fuzzer, "ids": ids, "by_name": by_name, "references": references}
