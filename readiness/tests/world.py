"""A capability whose records answer all eight questions of the quality bar, written straight to
the tables (the registers' own rules are tested in their apps); each readiness test takes one
record away or adds the anti-pattern and reads what the answers say."""

import datetime
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from actions.models import ClosureEvidence
from actions.tests.factories import ActionFactory
from assumptions.tests.factories import AssumptionFactory
from contracts.tests.factories import MetricContractFactory
from decisions.models import EvidenceLink
from decisions.tests.factories import DecisionFactory
from forums.models import Forum, PortfolioReview, ScorecardRow, Session
from incidents.models import Incident, LearningItem
from releases.models import ImpactReview, Release

TODAY = datetime.date(2026, 11, 20)


@dataclass
class World:
    capability: object
    person: object
    forums: dict
    session: object
    contract: object
    decision: object
    release: object
    incident: object
    action: object
    assumption: object
    portfolio_decision: object
    scorecard_row: object


def forum(capability, person, cadence, decision_types, name=None):
    made = Forum.objects.create(
        name=name or f"{cadence} — {capability.name}",
        cadence=cadence,
        owner=person,
        decision_types=decision_types,
        time_of_day=datetime.time(10, 0),
    )
    made.scope.add(capability)
    return made


def cite(decision, record):
    return EvidenceLink.objects.create(
        decision=decision,
        content_type=ContentType.objects.get_for_model(record),
        object_id=record.pk,
        reference=getattr(record, "readable_id", None) or getattr(record, "metric_id", ""),
        label=str(record),
    )


def deployed_release(
    capability, person, *, state="impact_reviewed", deployed=TODAY - datetime.timedelta(days=40)
):
    return Release.objects.create(
        capability=capability,
        planned_date=deployed,
        deployed_date=deployed,
        object_type="prompt",
        change="Fee-explanation citations",
        version_from="v11",
        version_to="v12",
        risk_tier="medium",
        owner=person,
        rollback_plan="Back to v11",
        post_release_review_date=deployed + datetime.timedelta(days=28),
        state=state,
    )


def impact_review(release, person):
    return ImpactReview.objects.create(
        release=release,
        reviewer=person,
        periods=4,
        expected_effect="Repeat contact down",
        decision="keep",
        comment="Moved as expected",
    )


def incident(capability, *, occurred_on=TODAY - datetime.timedelta(days=45), learning=True):
    made = Incident.objects.create(
        capability=capability,
        title="Misleading fee explanation",
        source="complaint",
        occurred_on=occurred_on,
        severity="sev2",
    )
    if learning:
        LearningItem.objects.create(incident=made, kind="eval", text="Fee eval set extended")
    return made


def proven_action(capability, person, *, accepted=True):
    made = ActionFactory(
        capability=capability,
        owner=person,
        status="closed",
        closed_at=timezone.make_aware(
            datetime.datetime.combine(TODAY - datetime.timedelta(days=5), datetime.time(12))
        ),
    )
    ClosureEvidence.objects.create(
        action=made, text="QA sample of 50 calls", verdict="accepted" if accepted else "pending"
    )
    return made


def build(capability, person) -> World:
    """Every question answered for ``capability`` as of TODAY."""
    forums = {
        "weekly": forum(capability, person, "weekly_ops_review", ["continue", "restrict"]),
        "monthly": forum(capability, person, "monthly_value_review", ["scale", "retire"]),
        "quarterly": forum(capability, person, "quarterly_portfolio_review", ["fund", "retire"]),
    }
    session = Session.objects.create(
        forum=forums["weekly"],
        scheduled_at=timezone.make_aware(datetime.datetime(2026, 11, 10, 10)),
        state="minutes_published",
    )
    contract = MetricContractFactory(capability=capability, status="active", business_owner=person)
    decision = DecisionFactory(
        capability=capability,
        owner=person,
        type="restrict",
        decided_on=TODAY - datetime.timedelta(days=10),
        forum_session_type=ContentType.objects.get_for_model(Session),
        forum_session_id=session.pk,
    )
    cite(decision, contract)
    release = deployed_release(capability, person)
    impact_review(release, person)
    review, _created = PortfolioReview.objects.get_or_create(quarter="2026-Q4", defaults={"state": "decided"})
    portfolio_decision = DecisionFactory(
        capability=capability, owner=person, type="fund", decided_on=TODAY - datetime.timedelta(days=30)
    )
    cite(portfolio_decision, contract)
    row = ScorecardRow.objects.create(
        review=review, capability=capability, decision="fund", decision_logged=portfolio_decision
    )
    return World(
        capability=capability,
        person=person,
        forums=forums,
        session=session,
        contract=contract,
        decision=decision,
        release=release,
        incident=incident(capability),
        action=proven_action(capability, person),
        assumption=AssumptionFactory(
            capability=capability,
            owner=person,
            status="confirmed",
            expires_on=TODAY + datetime.timedelta(days=90),
        ),
        portfolio_decision=portfolio_decision,
        scorecard_row=row,
    )
