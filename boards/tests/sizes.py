"""A portfolio of any size for the boards' tests (no tests here): ``build_portfolio(n)`` adds n
capabilities, each with a contract of every category and the records a board reads about them,
so that a test can check that a board's query count does not grow with the portfolio (18.4).

Each capability gets, relative to today:

* its owner map: an AI PM, Ops, Risk / Compliance and Analytics (``SizedCapability.people``);
* seven active weekly contracts, one per category (outcome, adoption, quality, risk, cost,
  reliability, learning), cut by ``intent`` (required) and ``team``, with target, warning,
  breach and (on risk) a stop level, each with its runtime watch where a board reads one;
* ``periods`` weekly evaluations per contract for the whole population and for each intent
  (``intent=billing``, ``intent=cards``): all ok, except quality past warning in the last
  period and risk past breach in the last two (billing past breach there, cards ok);
* daily observations behind them (two intents x two teams x two prompt versions, the last
  version from the release three weeks ago), so cohort and version cuts have lines;
* signals: quality at warning and risk at breach (both open, each with its action), and an
  earlier cost signal resolved, its action closed with verified closure evidence;
* actions in the states the action-closure row counts: open and overdue, in progress, blocked,
  awaiting verification (evidence pending), reopened, and closed with accepted evidence —
  raised 3, 10, 20 and 40 days ago so every age bucket has one;
* releases: a prompt release deployed three weeks ago with its impact review (decision keep)
  and a model change submitted and waiting for approval;
* incidents: a Sev2 contained (open) and a Sev3 closed;
* assumptions: one confirmed and one invalidated, tested by the outcome contract;
* a decision (scale selectively) citing the outcome contract as evidence.

Records are written straight to the tables (factories and ``objects.create``), not through the
services: these tests read, they do not test the rules. A second call with another ``prefix``
adds more capabilities beside the first ones, so a query-count test reads::

    from boards.tests.sizes import build_portfolio

    def test_the_weekly_board_takes_the_same_queries_at_two_sizes(client, django_assert_num_queries):
        small = build_portfolio(2)
        client.force_login(small.reader)              # an organisation-wide executive
        url = reverse("boards:weekly")
        client.get(url)                                # warm caches (content types, session)
        with django_assert_num_queries(k):
            client.get(url)
        build_portfolio(4, prefix="more")             # six capabilities now
        with django_assert_num_queries(k):
            page = client.get(url)
        assert ...  # and check the six capabilities' figures are on the page

``SizedPortfolio.capabilities[i].contracts["quality"]`` etc. give the records to assert on.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from actions.models import Action, ClosureEvidence
from assumptions.models import Assumption
from contracts.models import Evaluation, MetricContract, Observation, Signal, cohort_key
from decisions.models import Decision, EvidenceLink
from incidents.models import Incident
from portfolio.models import Capability
from productops.models import RoleAssignment, User
from releases.models import ImpactReview, Release

CATEGORIES = ["outcome", "adoption", "quality", "risk", "cost", "reliability", "learning"]
INTENTS = ["billing", "cards"]
TEAMS = ["north", "south"]
PROMPTS = ("v11", "v12")
RELEASE_WEEKS_AGO = 3
# (category, name, unit, direction, ratio, target, warning, breach, stop, runtime watch)
CONTRACTS = {
    "outcome": ("Repeat contact within 7 days", "%", "lower", True, 0.10, 0.12, 0.15, None, ""),
    "adoption": ("Qualified use", "%", "higher", True, 0.60, 0.50, 0.40, None, "qualified_use"),
    "quality": ("Eval pass rate", "%", "higher", True, 0.95, 0.92, 0.88, None, "eval_pass_rate"),
    "risk": ("Misleading answers", "%", "lower", True, 0.01, 0.02, 0.03, 0.05, "complaints"),
    "cost": ("Cost per case", "GBP", "lower", False, 0.08, 0.09, 0.11, None, "cost_per_case"),
    "reliability": ("p95 latency", "seconds", "lower", False, 1.2, 1.5, 2.0, None, "latency"),
    "learning": ("High-edit intents reviewed", "%", "higher", True, 0.90, 0.80, 0.70, None, ""),
}
ROLES = ["ai_pm", "ops", "risk_compliance", "analytics"]


@dataclass
class SizedCapability:
    """One capability of the sized portfolio and what was planted on it."""

    capability: Capability
    people: dict[str, User]
    contracts: dict[str, MetricContract]
    signals: dict[str, Signal]
    actions: dict[str, Action]
    releases: dict[str, Release]
    impact_review: ImpactReview
    incidents: dict[str, Incident]
    assumptions: dict[str, Assumption]
    decision: Decision

    @property
    def pm(self) -> User:
        return self.people["ai_pm"]


@dataclass
class SizedPortfolio:
    """What ``build_portfolio`` made: the capabilities in order, and a reader who sees them all."""

    capabilities: list[SizedCapability] = field(default_factory=list)
    reader: User | None = None
    periods: list[datetime.date] = field(default_factory=list)

    def all_contracts(self) -> list[MetricContract]:
        return [contract for sized in self.capabilities for contract in sized.contracts.values()]


def week_starts(count: int, today: datetime.date | None = None) -> list[datetime.date]:
    """The Mondays of the last ``count`` weeks, oldest first; the last is this week's."""
    today = today or timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    return [monday - datetime.timedelta(weeks=k) for k in reversed(range(count))]


def organisation_reader(role: str = "executive", username: str = "exec") -> User:
    """An organisation-wide person (reads every capability); the same one on a second call."""
    user, _ = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.test"})
    RoleAssignment.objects.get_or_create(user=user, role=role, capability=None)
    return user


def build_portfolio(n: int, *, prefix: str = "size", periods: int = 6) -> SizedPortfolio:
    """Add ``n`` capabilities (slugs ``<prefix>-0`` ...) with their records; see the module."""
    portfolio = SizedPortfolio(reader=organisation_reader(), periods=week_starts(periods))
    for index in range(n):
        portfolio.capabilities.append(_capability(f"{prefix}-{index}", portfolio.periods))
    return portfolio


# One capability -------------------------------------------------------------------------------


def _capability(slug: str, periods: list[datetime.date]) -> SizedCapability:
    today = timezone.localdate()
    capability = Capability.objects.create(
        name=f"Capability {slug}",
        slug=slug,
        workflow="Live billing calls",
        target_users="Contact-centre agents",
        risk_tier="high",
        lifecycle_status="production",
        current_version_set={"prompt": PROMPTS[1]},
    )
    people = {}
    for role in ROLES:
        user = User.objects.create(username=f"{slug}.{role}", email=f"{slug}.{role}@example.test")
        RoleAssignment.objects.create(user=user, role=role, capability=capability)
        people[role] = user
    metric_prefix = slug.replace("-", "_")
    contracts = {
        category: _contract(capability, f"{metric_prefix}.{category}", category, people)
        for category in CATEGORIES
    }
    _evaluations(contracts, periods)
    _observations(contracts, periods, today)
    signals, actions = _signals_and_actions(capability, contracts, people, periods, today)
    releases, review = _releases(capability, people, today)
    incidents = _incidents(capability, people, today)
    assumptions = _assumptions(capability, contracts, people, today)
    decision = _decision(capability, contracts, people, today)
    return SizedCapability(
        capability=capability,
        people=people,
        contracts=contracts,
        signals=signals,
        actions=actions,
        releases=releases,
        impact_review=review,
        incidents=incidents,
        assumptions=assumptions,
        decision=decision,
    )


def _contract(capability, metric_id: str, category: str, people) -> MetricContract:
    name, unit, direction, ratio, target, warning, breach, stop, watch = CONTRACTS[category]
    fields = {
        "metric_id": metric_id,
        "name": name,
        "capability": capability,
        "category": category,
        "status": "active",
        "business_question": f"Is {name.lower()} where the charter needs it?",
        "decision_supported": "Scale, restrict or hold",
        "numerator": f"{name} (numerator)",
        "denominator": "Eligible cases" if ratio else "",
        "unit": unit,
        "direction": direction,
        "is_ratio": ratio,
        "target": target,
        "warning": warning,
        "breach": breach,
        "stop_level": stop,
        "warning_action": "Sample 50 cases for QA",
        "warning_closure_criterion": "QA sample back under warning",
        "breach_action": "Hold releases for the affected intent",
        "breach_closure_criterion": "Back under warning for two weeks",
        "cohort_dimensions": ["intent", "team"],
        "required_cuts": ["intent"],
        "grain": "week",
        "evidence_level": "E3",
        "source_systems": "Contact-centre telemetry",
        "business_owner": people["ai_pm"],
        "analytics_owner": people["analytics"],
        "risk_reviewer": people["risk_compliance"],
        "next_review": timezone.localdate() + datetime.timedelta(days=30),
        "watch": watch,
    }
    return MetricContract.objects.create(**fields)


def _ok_value(contract: MetricContract) -> float:
    """A value on the good side of target."""
    better = -1 if contract.direction == "lower" else 1
    return round(contract.target * (1 + better * 0.02), 4)


def _past(contract: MetricContract, level: str) -> float:
    """A value past ``level``'s threshold: halfway to breach for a warning, half a step beyond
    breach (short of any stop level) for a breach."""
    step = contract.breach - contract.warning  # negative when higher is better
    return round(contract.warning + step / 2 if level == "warning" else contract.breach + step / 2, 4)


def _levels(category: str, count: int) -> list[str]:
    """The whole population's level per period, oldest first."""
    levels = ["ok"] * count
    if category == "quality":
        levels[-1] = "warning"
    elif category == "risk":
        levels[-2:] = ["breach", "breach"]
    return levels


def _evaluations(contracts: dict, periods: list[datetime.date]) -> None:
    rows = []
    for category, contract in contracts.items():
        for period, level in zip(periods, _levels(category, len(periods)), strict=True):
            value = _ok_value(contract) if level == "ok" else _past(contract, level)
            rows.append(_evaluation(contract, period, "", value, level, 1400))
            # Billing carries the bad news; cards stay fine.
            rows.append(_evaluation(contract, period, "intent=billing", value, level, 700))
            rows.append(_evaluation(contract, period, "intent=cards", _ok_value(contract), "ok", 700))
    Evaluation.objects.bulk_create(rows)


def _evaluation(contract, period, cut, value, level, sample) -> Evaluation:
    threshold = None
    if level in ("warning", "breach"):
        threshold = contract.warning if level == "warning" else contract.breach
    return Evaluation(
        contract=contract,
        period_start=period,
        grain="week",
        cut=cut,
        value=value,
        sample_size=sample,
        raw_level=level,
        level=level,
        threshold_crossed=threshold,
    )


def _observations(contracts: dict, periods: list[datetime.date], today: datetime.date) -> None:
    """Monday and Thursday of each week, per intent, team and prompt version in use that day."""
    release_day = today - datetime.timedelta(weeks=RELEASE_WEEKS_AGO)
    rows = []
    for contract in contracts.values():
        for period in periods:
            for day in (period, period + datetime.timedelta(days=3)):
                prompt = PROMPTS[day >= release_day]
                for intent in INTENTS:
                    for team in TEAMS:
                        cohort = {"intent": intent, "team": team}
                        version = {"prompt": prompt}
                        value = _ok_value(contract)
                        size = 100
                        rows.append(
                            Observation(
                                contract=contract,
                                period_start=day,
                                grain="day",
                                cohort=cohort,
                                cohort_key=cohort_key(cohort),
                                version_set=version,
                                version_key=cohort_key(version),
                                value=value,
                                numerator=round(value * size) if contract.is_ratio else None,
                                denominator=size if contract.is_ratio else None,
                                sample_size=size,
                                source="sizes",
                            )
                        )
    Observation.objects.bulk_create(rows)


def _action(capability, people, text: str, *, days_ago: int, due_in: int, status: str, **fields) -> Action:
    action = Action.objects.create(
        capability=capability,
        action=text,
        owner=people["ops"],
        reviewer=people["ai_pm"],
        due_date=timezone.localdate() + datetime.timedelta(days=due_in),
        closure_criterion="QA sample of 50 back under warning",
        status=status,
        source_kind=fields.pop("source_kind", "forum_session"),
        **fields,
    )
    raised = timezone.now() - datetime.timedelta(days=days_ago)
    Action.objects.filter(pk=action.pk).update(created_at=raised)
    action.created_at = raised
    return action


def _evidence(action, people, verdict: str) -> ClosureEvidence:
    reviewed = verdict != "pending"
    return ClosureEvidence.objects.create(
        action=action,
        text="QA sample of 50 cases: defect class below warning.",
        link="https://evidence.example/qa-sample",
        submitted_by=action.owner,
        verdict=verdict,
        reviewed_by=people["ai_pm"] if reviewed else None,
        reviewed_at=timezone.now() if reviewed else None,
        review_comment="Meets the closure criterion." if reviewed else "",
    )


def _signals_and_actions(capability, contracts, people, periods, today):
    signal_type = ContentType.objects.get_for_model(Signal)
    signals, actions = {}, {}

    def signal(key, contract, level, opened, *, resolved=None, status="open", days_ago=3, due_in=7):
        found = Signal.objects.create(
            contract=contract,
            cut="",
            level=level if resolved is None else "ok",
            worst_level=level,
            opened_period=opened,
            last_period=periods[-1] if resolved is None else opened,
            resolved_period=resolved,
            observed_value=_past(contract, level),
            threshold_crossed=contract.warning if level == "warning" else contract.breach,
        )
        action = _action(
            capability,
            people,
            f"{contract.breach_action if level == 'breach' else contract.warning_action} ({contract.metric_id})",
            days_ago=days_ago,
            due_in=due_in,
            status=status,
            source_kind="signal",
            source_content_type=signal_type,
            source_object_id=found.pk,
            source_signal=f"{contract.name} past {level}",
        )
        found.action = action
        found.save(update_fields=["action"])
        signals[key], actions[key] = found, action
        return action

    signal("quality", contracts["quality"], "warning", periods[-1], days_ago=3, due_in=10)
    signal("risk", contracts["risk"], "breach", periods[-2], status="in_progress", days_ago=10, due_in=-2)
    closed = signal(
        "cost",
        contracts["cost"],
        "warning",
        periods[0],
        resolved=periods[2],
        status="closed",
        days_ago=40,
        due_in=-20,
    )
    _evidence(closed, people, "accepted")
    Action.objects.filter(pk=closed.pk).update(closed_at=timezone.now() - datetime.timedelta(days=15))

    actions["overdue"] = _action(
        capability, people, "Refresh the billing article", days_ago=20, due_in=-5, status="open"
    )
    actions["blocked"] = _action(
        capability,
        people,
        "Add the site cut to the adoption funnel",
        days_ago=10,
        due_in=3,
        status="blocked",
        blocked_reason="Waiting for the CRM vendor",
    )
    awaiting = _action(
        capability, people, "Re-run the regression eval", days_ago=3, due_in=2, status="awaiting_verification"
    )
    _evidence(awaiting, people, "pending")
    actions["awaiting"] = awaiting
    reopened = _action(
        capability,
        people,
        "Fix the fee explanation prompt",
        days_ago=40,
        due_in=5,
        status="reopened",
        times_reopened=1,
    )
    _evidence(reopened, people, "accepted")
    actions["reopened"] = reopened
    return signals, actions


def _releases(capability, people, today):
    deployed = today - datetime.timedelta(weeks=RELEASE_WEEKS_AGO)
    released = Release.objects.create(
        capability=capability,
        planned_date=deployed,
        deployed_date=deployed,
        object_type="prompt",
        change="Shorter, policy-cited billing suggestions",
        version_from=PROMPTS[0],
        version_to=PROMPTS[1],
        affected_population="Billing intents, all sites",
        risk_tier=capability.risk_tier,
        owner=people["ai_pm"],
        rollback_plan="Re-pin the previous prompt",
        post_release_review_date=today - datetime.timedelta(days=1),
        state="impact_reviewed",
        approval_scope="full",
    )
    review = ImpactReview.objects.create(
        release=released,
        reviewer=people["ai_pm"],
        periods=2,
        expected_effect="Fewer edits on billing suggestions",
        decision="keep",
        comment="Moved as expected; guardrails held.",
        figures={},
        regressions=[],
    )
    pending = Release.objects.create(
        capability=capability,
        planned_date=today + datetime.timedelta(days=7),
        object_type="model",
        change="Model upgrade m-2026-07",
        version_from="m-2026-05",
        version_to="m-2026-07",
        affected_population="Canary: 10% of calls",
        risk_tier=capability.risk_tier,
        owner=people["ai_pm"],
        rollback_plan="Switch the routing flag back",
        post_release_review_date=today + datetime.timedelta(days=35),
        state="submitted",
    )
    return {"released": released, "pending": pending}, review


def _incidents(capability, people, today):
    open_incident = Incident.objects.create(
        capability=capability,
        title="Misleading fee explanation",
        source="complaint",
        complaint_signal="misleading_answer",
        occurred_on=today - datetime.timedelta(days=2),
        severity="sev2",
        state="contained",
        contained_at=timezone.now() - datetime.timedelta(days=1),
        reported_by=people["ops"],
    )
    closed = Incident.objects.create(
        capability=capability,
        title="Duplicate reminder text",
        source="monitoring",
        occurred_on=today - datetime.timedelta(days=30),
        severity="sev3",
        state="closed",
        closed_at=timezone.now() - datetime.timedelta(days=10),
        reported_by=people["ops"],
    )
    return {"open": open_incident, "closed": closed}


def _assumptions(capability, contracts, people, today):
    made = {}
    for status in ("confirmed", "invalidated"):
        made[status] = Assumption.objects.create(
            capability=capability,
            statement=f"Agents keep using assist after the pilot ({status}).",
            type="adoption",
            owner=people["ai_pm"],
            evidence="Pilot data (E3).",
            confidence="medium",
            expires_on=today + datetime.timedelta(days=60),
            status=status,
            decision_impact="Scale decision",
            tested_by_contracts=[contracts["outcome"].metric_id],
        )
    return made


def _decision(capability, contracts, people, today) -> Decision:
    decision = Decision.objects.create(
        capability=capability,
        decided_on=today - datetime.timedelta(days=7),
        type="scale_selectively",
        decision="Scale selectively to the cards intent",
        options_considered="Scale; scale selectively; hold",
        owner=people["ai_pm"],
        review_trigger="Repeat contact above warning for two weeks",
    )
    outcome = contracts["outcome"]
    EvidenceLink.objects.create(
        decision=decision,
        content_type=ContentType.objects.get_for_model(MetricContract),
        object_id=outcome.pk,
        reference=outcome.metric_id,
        label=outcome.name,
    )
    return decision
