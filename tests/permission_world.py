"""The records the permission matrix calls its routes on: one capability with every asset in each
state a move starts from, a second capability for the outsider, and one person per actor.

Everything is made through the apps' own services by a superuser (so the world is what a real
install holds), except the few rows no service writes on demand (a signal and its stop hold,
a failed webhook delivery).
"""

import datetime

from django.utils import timezone

from tests.permission_matrix import ACTORS

SLUG = "cc-agent-assist"
OTHER_SLUG = "kyc-onboarding"


def _days(n: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=n)


class World(dict):
    """Records by key (``world["action_open"]``), people by actor name (``world.people``)."""

    people: dict


def build_world() -> World:  # noqa: PLR0915  (one recipe, read top to bottom)
    from actions.services import action_create
    from assumptions.services import assumption_create
    from contracts.models import StopHold
    from contracts.services import contract_activate, contract_create
    from contracts.tests.factories import SignalFactory, contract_kwargs
    from decisions.services import decision_record
    from experiments.services import experiment_create
    from forums.choices import Cadence, Frequency, Weekday
    from forums.meeting import meeting_start
    from forums.memos.services import memo_generate, memo_send
    from forums.models import Session
    from forums.portfolio_review.services import portfolio_review_open
    from forums.services import forum_create
    from incidents.services import incident_add_corrective_action, incident_add_learning_item, incident_report
    from portfolio.models import Capability
    from portfolio.services import backlog_item_create
    from productops.models import RoleAssignment, User
    from productops.tokens import token_create
    from releases.services import release_create
    from webhooks.models import Delivery, Event
    from webhooks.services import endpoint_create

    world = World()
    admin = User.objects.create(username="matrix-admin", is_superuser=True, is_staff=True)
    capability = Capability.objects.create(
        name="Contact-centre agent assist",
        slug=SLUG,
        workflow="Live billing calls",
        target_users="Contact-centre agents",
        risk_tier="medium",
        lifecycle_status="production",
    )
    other = Capability.objects.create(
        name="KYC onboarding assistant",
        slug=OTHER_SLUG,
        workflow="Onboarding",
        target_users="KYC reviewers",
        risk_tier="critical",
        lifecycle_status="production",
    )
    world["capability"], world["other_capability"] = capability, other

    def person(username, roles=(), capability=capability):
        # No password: the matrix signs people in with force_login (hashing one costs ~0.4 s).
        user = User.objects.create(username=username, email=f"{username}@example.test")
        for role in roles:
            RoleAssignment.objects.create(user=user, role=role, capability=capability)
        return user

    # The people the records belong to; none of them is an actor of the matrix.
    lead = person("release-lead", ["ai_architect", "ai_pm"])
    world["lead"] = lead
    people = {}
    for actor in ACTORS:
        if actor.anonymous:
            continue
        where = None if actor.org_wide else (other if actor.outsider else capability)
        people[actor.name] = person(f"actor-{actor.name}", [actor.role], capability=where)
    world.people = people
    ops = people["ops"]  # owns the actions: the owner-only move (submit evidence) is theirs

    # Contracts: an active one (the rest of the world points at it), a draft, a second active.
    repeat = contract_create(
        by=admin, **contract_kwargs(capability, business_owner=lead, analytics_owner=lead)
    )
    contract_activate(contract=repeat, by=admin)
    aht = contract_create(
        by=admin,
        **contract_kwargs(
            capability,
            metric_id="cc_agent_assist.aht_seconds",
            name="Average handle time",
            unit="seconds",
            business_owner=lead,
            analytics_owner=lead,
        ),
    )
    contract_activate(contract=aht, by=admin)
    draft = contract_create(
        by=admin,
        **contract_kwargs(
            capability,
            metric_id="cc_agent_assist.draft_metric",
            name="Draft metric",
            business_owner=lead,
            analytics_owner=lead,
        ),
    )
    world.update(contract=repeat, contract_aht=aht, contract_draft=draft)
    signal = SignalFactory(contract=repeat, level="breach", worst_level="breach", threshold_crossed=15.0)
    StopHold.objects.create(capability=capability, signal=signal, reason="Breach of repeat contact")
    world["signal"] = signal

    # Actions, one per state a move starts from.
    def action(text, **extra):
        return action_create(
            capability=capability,
            by=admin,
            action=text,
            owner=ops,
            due_date=_days(10),
            closure_criterion="QA sample shows the defect below warning",
            **extra,
        )

    world["action_open"] = action("Sample 50 billing calls")
    world["action_in_progress"] = action("Fix the fee article")
    world["action_in_progress"].start(by=admin)
    world["action_blocked"] = action("Retrain the intent model")
    world["action_blocked"].block(by=admin, reason="Waiting for data")
    world["action_awaiting"] = action("Cite the policy article")
    world["action_awaiting"].submit_evidence(by=ops, text="QA sample: 0 of 50.")
    world["action_closed"] = action("Shorten suggestions")
    world["action_closed"].submit_evidence(by=ops, text="Done.")
    world["action_closed"].verify(by=admin, comment="OK")

    world["decision"] = decision_record(
        capability=capability,
        by=admin,
        type="continue",
        decision="Continue billing suggestions for all teams.",
        owner=lead,
        evidence=["https://wiki.bank.example/evidence/1"],
    )
    world["assumption"] = assumption_create(
        capability=capability,
        by=admin,
        statement="Agents accept shorter suggestions.",
        type="value",
        owner=lead,
        confidence="medium",
        expires_on=_days(60),
    )
    world["backlog_item"] = backlog_item_create(
        capability=capability,
        by=admin,
        title="Citation UI for fee answers",
        item_class="outcome_improvement",
        expected_metric=repeat,
        expected_direction="down",
        expected_movement="-2 points",
        evidence=repeat.metric_id,
    )

    # Releases: draft, submitted, approved, released.
    def release(change):
        return release_create(
            by=admin,
            capability=capability,
            planned_date=_days(7),
            object_type="prompt",
            change=change,
            version_from="v11",
            version_to="v12",
            affected_population="Billing intents, all sites",
            owner=lead,
            canary_plan="North team for five days",
            rollback_plan="Re-pin v11",
            post_release_review_date=_days(35),
        )

    def attested(change):
        made = release(change)
        for item in made.evidence_items.all():
            made.attest(by=admin, item=item.key, link=f"https://evidence.example/{item.key}", note="Passed.")
        return made

    world["release_draft"] = release("Shorter suggestions (draft)")
    StopHold.objects.filter(capability=capability).update(lifted_at=timezone.now(), lifted_by=admin)
    world["release_submitted"] = attested("Policy-cited suggestions")
    world["release_submitted"].submit(by=lead)
    world["release_approved"] = attested("Fee article v3")
    world["release_approved"].submit(by=lead)
    world["release_approved"].approve(by=admin, comment="Evidence complete.")
    world["release_released"] = attested("Knowledge refresh")
    world["release_released"].submit(by=lead)
    world["release_released"].approve(by=admin, comment="Evidence complete.")
    world["release_released"].deploy(by=lead, to="released")
    StopHold.objects.filter(capability=capability).update(lifted_at=None, lifted_by=None)
    world["evidence_key"] = world["release_draft"].evidence_items.first().key

    # Experiments: proposed, running, in readout.
    def experiment(title):
        return experiment_create(
            capability=capability,
            by=admin,
            title=title,
            hypothesis="Shorter suggestions reduce AHT",
            population="Billing calls",
            treatment="Suggestions under 60 words",
            control_or_baseline="Current suggestions",
            primary_metric=aht,
            guardrails=[repeat],
            start_date=_days(-20),
            planned_end_date=_days(-6),
            owner=lead,
        )

    world["experiment_proposed"] = experiment("Short suggestions")
    world["experiment_running"] = experiment("Cited suggestions")
    world["experiment_running"].start(by=admin)
    world["experiment_readout"] = experiment("Tone suggestions")
    world["experiment_readout"].start(by=admin)
    world["experiment_readout"].begin_readout(by=admin)

    # Incidents: reported, root cause found, corrective actions agreed, learning recorded.
    def incident(title):
        return incident_report(
            capability=capability,
            by=admin,
            title=title,
            source="complaint",
            complaint_signal="misleading_answer",
            occurred_on=_days(-3),
            severity="sev3",
        )

    def corrective(made):
        incident_add_corrective_action(
            incident=made,
            by=admin,
            action="Fix the fee knowledge article",
            owner=ops,
            due_date=_days(7),
            closure_criterion="QA sample has no misleading answer",
            reopen_trigger={"kind": "recheck_date", "recheck_on": _days(60)},
        )

    world["incident_reported"] = incident("Misleading fee explanation")
    world["incident_root_cause"] = incident("Wrong card limit")
    world["incident_root_cause"].record_root_causes(by=admin, causes=[("knowledge", "Outdated article")])
    corrective(world["incident_root_cause"])
    world["incident_agreed"] = incident("Late complaint routing")
    world["incident_agreed"].record_root_causes(by=admin, causes=[("knowledge", "Outdated article")])
    corrective(world["incident_agreed"])
    world["incident_agreed"].agree_corrective_actions(by=admin)
    incident_add_learning_item(incident=world["incident_agreed"], by=admin, kind="eval", text="Eval extended")
    world["incident_learning"] = incident("Tone complaint")
    world["incident_learning"].record_root_causes(by=admin, causes=[("knowledge", "Outdated article")])
    corrective(world["incident_learning"])
    world["incident_learning"].agree_corrective_actions(by=admin)
    incident_add_learning_item(
        incident=world["incident_learning"], by=admin, kind="eval", text="Eval extended"
    )
    world["incident_learning"].record_learning(by=admin)

    # Forums: the weekly ops review with sessions scheduled, in progress and held; a monthly one.
    weekly = forum_create(
        by=admin,
        scope=[capability],
        attendees=[lead],
        name="Weekly ops review",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=lead,
        decision_types=["continue", "restrict", "rollback"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
        duration_minutes=75,
    )
    world["forum"] = weekly

    def session(hours):
        return Session.objects.create(
            forum=weekly,
            scheduled_at=timezone.now() + datetime.timedelta(hours=hours),
            decision_requested="Restrict billing suggestions for the north team?",
        )

    world["session_scheduled"] = session(24)
    world["session_running"] = meeting_start(session=session(1), by=admin)
    held = meeting_start(session=session(2), by=admin)
    held.end_meeting(by=admin)
    world["session_held"] = held

    world["forum_monthly"] = forum_create(
        by=admin,
        scope=[capability],
        attendees=[lead],
        name="Monthly value review",
        cadence=Cadence.MONTHLY_VALUE_REVIEW,
        owner=lead,
        decision_types=["scale", "restrict", "retire", "continue"],
        frequency=Frequency.MONTHLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
        duration_minutes=90,
    )
    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    world["memo_draft"] = memo_generate(capability=capability, month=month, by=admin)
    sent = memo_generate(
        capability=capability, month=(month - datetime.timedelta(days=1)).replace(day=1), by=admin
    )
    world["memo_sent"] = memo_send(memo=sent, by=admin)
    world["month"] = month

    today = timezone.localdate()
    world["quarter"] = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    world["portfolio_review"] = portfolio_review_open(quarter=world["quarter"], by=admin)
    world["scorecard_row"] = world["portfolio_review"].rows.get(capability=capability)

    # Webhooks: an endpoint (nothing listens at it) and a failed delivery.
    endpoint = endpoint_create(
        by=admin, name="Chat", url="http://127.0.0.1:9/hooks", events=["signal.opened"], active=True
    )
    event = Event.objects.create(type="signal.opened", key="signal.opened:matrix", payload={})
    world["endpoint"] = endpoint
    world["delivery"] = Delivery.objects.create(event=event, endpoint=endpoint, status="failed")

    # Hygiene: a run of the checks, and one finding whose check's RACI row has the AI PM as its
    # only accountable role (who waives is the accountable role of the check's row).
    from hygiene.checks import CHECKS
    from hygiene.services import hygiene_run
    from tests.permission_matrix import accountable

    run = hygiene_run(capability=capability, trigger="manual")
    world["finding"] = next(
        finding
        for finding in run.findings.all()
        if accountable(str(CHECKS[finding.check_id].activity)) == {"ai_pm"}
    )

    # An API token of someone else (nobody revokes it but its holder).
    world["token"] = token_create(user=lead, name="CI pipeline", scope="write")[0]
    world["admin"] = admin
    return world
