"""Onboarding a capability: the playbook's first-ten-days plan (5.3) and 90-day rollout plan (20)
as a checklist that ticks itself from the data.

Each item is the plan's row (day, work, output) and a small check over the capability's records:
the item is done when the data shows its output exists (a charter filled, ten contracts drafted,
a review pack built, a weekly review held, ...). Nothing of that is stored. The two outputs the
data cannot show — the incident learning map and the dashboard wireframe agreed with the team —
are ticked by hand by the PM, with a note (``OnboardingTick``, kept with its history).
"""

from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from actions.choices import ActionStatus, EvidenceVerdict
from actions.models import Action
from assumptions.models import AssumptionReview
from contracts.choices import Category, ContractStatus
from contracts.models import MetricContract, Observation
from decisions.models import Decision
from experiments.choices import ExperimentState
from experiments.models import Experiment
from forums.choices import Cadence, MemoState, SessionState
from forums.models import Forum, ReviewPack, ScorecardRow, Session, ValueMemo
from incidents.models import Incident
from portfolio.models import BacklogItem
from productops.models import RoleAssignment
from productops.roles import Role
from readiness.models import OnboardingTick
from readiness.questions import CORE_CADENCES
from releases.models import ImpactReview, Release

FIRST_TEN_DAYS = "first_ten_days"
ROLLOUT_90_DAYS = "rollout_90_days"
PLANS = [
    (FIRST_TEN_DAYS, _("First 10 days (playbook 5.3)")),
    (ROLLOUT_90_DAYS, _("90-day rollout (playbook 20)")),
]
HELD = [SessionState.HELD, SessionState.MINUTES_PUBLISHED]
# Playbook 24.2's metric contract pack spans these six categories.
CONTRACT_PACK_CATEGORIES = [
    Category.OUTCOME,
    Category.ADOPTION,
    Category.QUALITY,
    Category.RISK,
    Category.COST,
    Category.RELIABILITY,
]
TOP_CONTRACTS = 10


def _n(singular: str, plural: str, count: int, **values) -> str:
    return ngettext(singular, plural, count) % {"count": count, **values}


@dataclass
class OnboardingFacts:
    """What the checks read about one capability."""

    capability: object
    has_pm: bool
    forums: list  # forums that review it
    contracts: list
    contracts_observed: set  # pks of contracts with observations
    outcome_traced: bool  # an outcome contract's observations carry a version set and a cohort
    packs: int
    held_weekly: int
    weekly_decisions: int
    releases: list
    reviewed_releases: int
    experiments: list
    incidents_with_learning: int
    actions: int
    proven_closures: int
    memos_sent: int
    memo_recommendations: int
    assumption_reviews: int
    evidenced_backlog: int
    platform_links: int
    scorecard_rows: int
    scorecard_decided: int
    ticks: dict = field(default_factory=dict)  # item key -> OnboardingTick


def onboarding_facts(capability) -> OnboardingFacts:
    """The records of one capability the checklist reads (a fixed number of queries)."""
    forums = [
        forum
        for forum in Forum.objects.prefetch_related("scope")
        if not forum.scope_list() or any(item.pk == capability.pk for item in forum.scope_list())
    ]
    forum_ids = [forum.pk for forum in forums]
    weekly_ids = [forum.pk for forum in forums if forum.cadence == Cadence.WEEKLY_OPS_REVIEW]
    contracts = list(
        MetricContract.objects.filter(capability=capability).exclude(status=ContractStatus.RETIRED)
    )
    observed = set(
        Observation.objects.filter(contract__in=contracts).values_list("contract_id", flat=True).distinct()
    )
    outcome_ids = [contract.pk for contract in contracts if contract.category == Category.OUTCOME]
    traced = (
        Observation.objects.filter(contract_id__in=outcome_ids)
        .exclude(version_key="")
        .exclude(cohort_key="")
        .exists()
    )
    weekly_sessions = Session.objects.filter(forum_id__in=weekly_ids, state__in=HELD)
    session_type = ContentType.objects.get_for_model(Session)
    releases = list(
        Release.objects.filter(capability=capability).annotate(
            reviewed=Exists(ImpactReview.objects.filter(release=OuterRef("pk")))
        )
    )
    return OnboardingFacts(
        capability=capability,
        has_pm=RoleAssignment.objects.filter(capability=capability, role=Role.AI_PM).exists(),
        forums=forums,
        contracts=contracts,
        contracts_observed=observed,
        outcome_traced=traced,
        packs=ReviewPack.objects.filter(session__forum_id__in=forum_ids).count(),
        held_weekly=weekly_sessions.count(),
        weekly_decisions=Decision.objects.filter(
            capability=capability,
            forum_session_type=session_type,
            forum_session_id__in=weekly_sessions.values("pk"),
        ).count(),
        releases=releases,
        reviewed_releases=sum(1 for release in releases if release.reviewed),
        experiments=list(Experiment.objects.filter(capability=capability).only("pk", "state", "readable_id")),
        incidents_with_learning=Incident.objects.filter(capability=capability, learning_items__isnull=False)
        .distinct()
        .count(),
        actions=Action.objects.filter(capability=capability).count(),
        proven_closures=Action.objects.filter(
            capability=capability,
            status=ActionStatus.CLOSED,
            evidence__verdict=EvidenceVerdict.ACCEPTED,
        )
        .distinct()
        .count(),
        memos_sent=ValueMemo.objects.filter(capability=capability, state=MemoState.SENT).count(),
        memo_recommendations=ValueMemo.objects.filter(capability=capability)
        .exclude(recommendation="")
        .count(),
        assumption_reviews=AssumptionReview.objects.filter(
            assumption__capability=capability, reviewed_by__isnull=False
        ).count(),
        evidenced_backlog=BacklogItem.objects.filter(
            capability=capability, evidence_object_id__isnull=False
        ).count(),
        platform_links=BacklogItem.objects.filter(capability=capability).exclude(problem_key="").count()
        + Decision.objects.filter(
            capability=capability, type__in=["platform_investment", "platformize"]
        ).count(),
        scorecard_rows=ScorecardRow.objects.filter(capability=capability).count(),
        scorecard_decided=ScorecardRow.objects.filter(
            capability=capability, decision_logged__isnull=False
        ).count(),
        ticks={tick.item: tick for tick in OnboardingTick.objects.filter(capability=capability, ticked=True)},
    )


# --- the checks: (done, what the data shows) ---------------------------------------------------


def charter_filled(facts: OnboardingFacts):
    gaps = facts.capability.charter_gaps()
    if gaps:
        return False, gettext("Charter still empty: %(fields)s.") % {"fields": ", ".join(gaps)}
    if not facts.has_pm:
        return False, gettext("Charter filled, but no AI PM holds a role on the capability.")
    return True, gettext("Charter filled; the use-case owner is named.")


def decision_inventory(facts: OnboardingFacts):
    rights = facts.capability.charter_decision_rights()
    empty = [str(label) for label, value in rights if not (value or "").strip()]
    if empty:
        return False, gettext("Decision rights still empty: %(fields)s.") % {"fields": ", ".join(empty)}
    return True, gettext("Decisions owned by product, risk, platform and executives are listed.")


def top_contracts_drafted(facts: OnboardingFacts):
    count = len(facts.contracts)
    done = count >= TOP_CONTRACTS
    if done:
        return True, _n("%(count)s metric contract drafted.", "%(count)s metric contracts drafted.", count)
    return False, gettext("%(count)s of the top %(top)s metric contracts drafted.") % {
        "count": count,
        "top": TOP_CONTRACTS,
    }


def review_pack_built(facts: OnboardingFacts):
    if facts.packs:
        return True, _n(
            "%(count)s review pack built for its forums.",
            "%(count)s review packs built for its forums.",
            facts.packs,
        )
    return False, gettext("No review pack has been built for a forum that reviews it.")


def operating_calendar(facts: OnboardingFacts):
    cadences = {forum.cadence for forum in facts.forums}
    missing = [str(Cadence(cadence).label) for cadence in CORE_CADENCES if cadence not in cadences]
    if missing:
        return False, gettext("Not on the operating calendar yet: %(forums)s.") % {
            "forums": ", ".join(missing)
        }
    return True, gettext("Weekly, monthly and quarterly forums review it.")


def release_calendar(facts: OnboardingFacts):
    if facts.releases:
        return True, _n(
            "%(count)s release on the release calendar.",
            "%(count)s releases on the release calendar.",
            len(facts.releases),
        )
    return False, gettext("No release is on the release calendar.")


def experiment_registry(facts: OnboardingFacts):
    if facts.experiments:
        return True, _n(
            "%(count)s experiment registered.", "%(count)s experiments registered.", len(facts.experiments)
        )
    return False, gettext("No experiment is registered.")


def first_weekly_review(facts: OnboardingFacts):
    if facts.held_weekly and facts.actions:
        held = _n("%(count)s weekly ops review held", "%(count)s weekly ops reviews held", facts.held_weekly)
        actions = _n("%(count)s action in the register", "%(count)s actions in the register", facts.actions)
        return True, f"{held}; {actions}."
    if not facts.held_weekly:
        return False, gettext("No weekly ops review of it has been held.")
    return False, gettext("A weekly ops review was held, but the action closure register is empty.")


def charter_and_forums(facts: OnboardingFacts):
    done, text = charter_filled(facts)
    if not done:
        return done, text
    return operating_calendar(facts)


def contract_pack(facts: OnboardingFacts):
    active = {contract.category for contract in facts.contracts if contract.status == ContractStatus.ACTIVE}
    missing = [
        str(Category(category).label) for category in CONTRACT_PACK_CATEGORIES if category not in active
    ]
    if missing:
        return False, gettext("No active contract yet for: %(categories)s.") % {
            "categories": ", ".join(missing)
        }
    return True, gettext("Active contracts cover outcome, adoption, quality, risk, cost and reliability.")


def evidence_pack(facts: OnboardingFacts):
    if facts.packs and facts.actions:
        return True, gettext("Review pack built; %(count)s actions in the closure register.") % {
            "count": facts.actions
        }
    return False, gettext("Needs a built review pack and an action in the closure register.")


def release_and_experiment_system(facts: OnboardingFacts):
    if facts.releases and facts.experiments:
        return True, gettext("Releases and experiments are registered.")
    return False, gettext("Needs a release on the calendar and a registered experiment.")


def first_weekly_decisions(facts: OnboardingFacts):
    if facts.weekly_decisions:
        return True, _n(
            "%(count)s decision recorded in its weekly ops reviews.",
            "%(count)s decisions recorded in its weekly ops reviews.",
            facts.weekly_decisions,
        )
    return False, gettext("No decision has been recorded in a weekly ops review of it.")


def telemetry_joined(facts: OnboardingFacts):
    if facts.outcome_traced:
        return True, gettext("Outcome observations carry version and cohort context.")
    return False, gettext("No outcome observation carries a version set and a cohort yet.")


def risk_cost_feeds(facts: OnboardingFacts):
    fed = {
        contract.category
        for contract in facts.contracts
        if contract.status == ContractStatus.ACTIVE and contract.pk in facts.contracts_observed
    }
    missing = [
        str(Category(category).label) for category in (Category.RISK, Category.COST) if category not in fed
    ]
    if missing:
        return False, gettext("No observations yet for an active %(categories)s contract.") % {
            "categories": gettext(" or ").join(missing).lower()
        }
    return True, gettext("Risk and cost contracts receive observations.")


def first_value_review(facts: OnboardingFacts):
    if facts.memos_sent:
        return True, _n(
            "%(count)s monthly value memo sent.", "%(count)s monthly value memos sent.", facts.memos_sent
        )
    return False, gettext("No monthly value memo has been sent.")


def ledger_and_backlog(facts: OnboardingFacts):
    if facts.assumption_reviews and facts.evidenced_backlog:
        reviews = _n("%(count)s assumption review", "%(count)s assumption reviews", facts.assumption_reviews)
        items = _n(
            "%(count)s evidence-linked backlog item",
            "%(count)s evidence-linked backlog items",
            facts.evidenced_backlog,
        )
        return True, f"{reviews}; {items}."
    return False, gettext("Needs an assumption review by a person and an evidence-linked backlog item.")


def version_trace(facts: OnboardingFacts):
    if facts.reviewed_releases:
        return True, _n(
            "%(count)s release deployed and impact-reviewed.",
            "%(count)s releases deployed and impact-reviewed.",
            facts.reviewed_releases,
        )
    return False, gettext("No deployed release has its post-release impact review yet.")


def experiment_review_cycle(facts: OnboardingFacts):
    decided = [experiment for experiment in facts.experiments if experiment.state == ExperimentState.DECIDED]
    if decided:
        return True, gettext("Decided: %(ids)s.") % {"ids": ", ".join(e.readable_id for e in decided)}
    return False, gettext("No experiment has been read out and decided.")


def incident_tabletop(facts: OnboardingFacts):
    if facts.incidents_with_learning:
        return True, _n(
            "%(count)s incident changed the roadmap.",
            "%(count)s incidents changed the roadmap.",
            facts.incidents_with_learning,
        )
    return False, gettext("No incident (real or tabletop) has produced a roadmap change.")


def closure_quality(facts: OnboardingFacts):
    if facts.proven_closures:
        return True, _n(
            "%(count)s action closed with verified evidence.",
            "%(count)s actions closed with verified evidence.",
            facts.proven_closures,
        )
    return False, gettext("No action has closed with verified evidence.")


def portfolio_scorecard(facts: OnboardingFacts):
    if facts.scorecard_rows:
        return True, _n(
            "On %(count)s quarterly scorecard.", "On %(count)s quarterly scorecards.", facts.scorecard_rows
        )
    return False, gettext("Not on a quarterly portfolio scorecard yet.")


def decision_recommendations(facts: OnboardingFacts):
    if facts.memo_recommendations:
        return True, _n(
            "The decision matrix has recommended once.",
            "The decision matrix has recommended %(count)s times.",
            facts.memo_recommendations,
        )
    return False, gettext("No monthly memo has a recommended decision yet.")


def platform_input(facts: OnboardingFacts):
    if facts.platform_links:
        return True, _n(
            "%(count)s backlog item or decision links it to shared platform work.",
            "%(count)s backlog items or decisions link it to shared platform work.",
            facts.platform_links,
        )
    return False, gettext("No backlog item names a shared problem, and no platform decision is logged.")


def quarterly_review(facts: OnboardingFacts):
    if facts.scorecard_decided:
        return True, _n(
            "Decided in %(count)s quarterly review, written to the decision log.",
            "Decided in %(count)s quarterly reviews, written to the decision log.",
            facts.scorecard_decided,
        )
    return False, gettext("No quarterly portfolio review has decided on it yet.")


@dataclass(frozen=True)
class Item:
    """One row of a plan: when, what work, what output, and how the data shows it done (``check``;
    None: ticked by hand)."""

    key: str
    plan: str
    days: str
    work: str
    output: str
    check: object = None

    @property
    def manual(self) -> bool:
        return self.check is None


ITEMS = [
    Item(
        "d01",
        FIRST_TEN_DAYS,
        "1",
        _("Confirm scope and use-case owner"),
        _("Product ops charter"),
        charter_filled,
    ),
    Item(
        "d02",
        FIRST_TEN_DAYS,
        "2",
        _("List post-launch decisions needed"),
        _("Decision inventory"),
        decision_inventory,
    ),
    Item(
        "d03",
        FIRST_TEN_DAYS,
        "3",
        _("Draft metric contract for top 10 metrics"),
        _("Metric contract v1"),
        top_contracts_drafted,
    ),
    Item(
        "d04",
        FIRST_TEN_DAYS,
        "4",
        _("Build evidence review pack outline"),
        _("Review pack v1"),
        review_pack_built,
    ),
    Item(
        "d05", FIRST_TEN_DAYS, "5", _("Create operating calendar"), _("Cadence calendar"), operating_calendar
    ),
    Item(
        "d06", FIRST_TEN_DAYS, "6", _("Create release calendar"), _("Release calendar v1"), release_calendar
    ),
    Item(
        "d07",
        FIRST_TEN_DAYS,
        "7",
        _("Create experiment registry"),
        _("Experiment registry v1"),
        experiment_registry,
    ),
    Item("d08", FIRST_TEN_DAYS, "8", _("Create incident-to-roadmap taxonomy"), _("Incident learning map")),
    Item(
        "d09",
        FIRST_TEN_DAYS,
        "9",
        _("Create dashboard wireframe"),
        _("Weekly / monthly / portfolio dashboard"),
    ),
    Item(
        "d10",
        FIRST_TEN_DAYS,
        "10",
        _("Run first weekly ops review simulation"),
        _("Action closure register"),
        first_weekly_review,
    ),
    Item(
        "r01",
        ROLLOUT_90_DAYS,
        "1-3",
        _("Confirm use-case scope, owners, risk tier, review forums"),
        _("Product Ops charter"),
        charter_and_forums,
    ),
    Item(
        "r04",
        ROLLOUT_90_DAYS,
        "4-6",
        _("Draft metric contracts for top metrics"),
        _("Metric contract pack"),
        contract_pack,
    ),
    Item(
        "r07",
        ROLLOUT_90_DAYS,
        "7-9",
        _("Build review pack and action closure register"),
        _("Evidence pack v1"),
        evidence_pack,
    ),
    Item(
        "r10",
        ROLLOUT_90_DAYS,
        "10-12",
        _("Create release calendar and experiment registry"),
        _("Release / experiment system"),
        release_and_experiment_system,
    ),
    Item(
        "r13",
        ROLLOUT_90_DAYS,
        "13-15",
        _("Run first weekly ops review"),
        _("Decision log and actions"),
        first_weekly_decisions,
    ),
    Item(
        "r16",
        ROLLOUT_90_DAYS,
        "16-20",
        _("Join telemetry to workflow outcome and version context"),
        _("Evidence data map"),
        telemetry_joined,
    ),
    Item(
        "r21",
        ROLLOUT_90_DAYS,
        "21-25",
        _("Add complaint, QA, incident and cost feeds"),
        _("Risk / cost signal board"),
        risk_cost_feeds,
    ),
    Item(
        "r26",
        ROLLOUT_90_DAYS,
        "26-30",
        _("Run first monthly value review"),
        _("Value decision memo"),
        first_value_review,
    ),
    Item(
        "r31",
        ROLLOUT_90_DAYS,
        "31-35",
        _("Update assumption ledger and backlog governance"),
        _("Evidence-driven backlog"),
        ledger_and_backlog,
    ),
    Item(
        "r36",
        ROLLOUT_90_DAYS,
        "36-42",
        _("Operationalize release calendar"),
        _("Version trace and review dates"),
        version_trace,
    ),
    Item(
        "r43",
        ROLLOUT_90_DAYS,
        "43-48",
        _("Run experiment review cycle"),
        _("Experiment readout and decisions"),
        experiment_review_cycle,
    ),
    Item(
        "r49",
        ROLLOUT_90_DAYS,
        "49-54",
        _("Run incident tabletop"),
        _("Incident-to-roadmap test"),
        incident_tabletop,
    ),
    Item(
        "r55",
        ROLLOUT_90_DAYS,
        "55-60",
        _("Improve dashboards and action closure"),
        _("Dashboard v2 and closure quality"),
        closure_quality,
    ),
    Item(
        "r61",
        ROLLOUT_90_DAYS,
        "61-70",
        _("Build quarterly portfolio scorecard"),
        _("Portfolio review pack"),
        portfolio_scorecard,
    ),
    Item(
        "r71",
        ROLLOUT_90_DAYS,
        "71-78",
        _("Identify scale, restrict, redesign, retire candidates"),
        _("Decision recommendations"),
        decision_recommendations,
    ),
    Item(
        "r79",
        ROLLOUT_90_DAYS,
        "79-85",
        _("Link platform investment to recurring pain points"),
        _("Platform roadmap input"),
        platform_input,
    ),
    Item(
        "r86",
        ROLLOUT_90_DAYS,
        "86-90",
        _("Run quarterly portfolio review simulation"),
        _("Funding and roadmap decisions"),
        quarterly_review,
    ),
]
ITEMS_BY_KEY = {item.key: item for item in ITEMS}
MANUAL_ITEMS = {item.key for item in ITEMS if item.manual}


@dataclass
class ChecklistRow:
    """One item as the page shows it."""

    item: Item
    done: bool
    detail: str
    tick: object = None  # the OnboardingTick of a hand-ticked item

    @property
    def how(self) -> str:
        if not self.item.manual:
            return "data"
        return "hand" if self.done else "open"


@dataclass
class Checklist:
    capability: object
    plans: list  # [(plan key, heading, [ChecklistRow])]

    @property
    def rows(self) -> list[ChecklistRow]:
        return [row for _key, _heading, rows in self.plans for row in rows]

    @property
    def done_count(self) -> int:
        return sum(1 for row in self.rows if row.done)


def item_state(item: Item, facts: OnboardingFacts) -> ChecklistRow:
    if item.manual:
        tick = facts.ticks.get(item.key)
        if tick is not None:
            detail = gettext("Ticked by %(who)s on %(day)s: %(note)s") % {
                "who": tick.ticked_by.get_full_name() or tick.ticked_by.get_username(),
                "day": timezone.localdate(tick.updated_at).isoformat(),
                "note": tick.note,
            }
            return ChecklistRow(item, True, detail, tick)
        return ChecklistRow(item, False, gettext("The data cannot show this: the PM ticks it with a note."))
    done, detail = item.check(facts)
    return ChecklistRow(item, done, detail)


def onboarding_checklist(capability) -> Checklist:
    """The capability's checklist of both plans, each item ticked from the data (or by hand)."""
    facts = onboarding_facts(capability)
    plans = [
        (key, heading, [item_state(item, facts) for item in ITEMS if item.plan == key])
        for key, heading in PLANS
    ]
    return Checklist(capability=capability, plans=plans)


def onboarding_url(capability) -> str:
    return reverse("readiness:onboarding", kwargs={"slug": capability.slug})
