"""The quality bar of playbook 25 as eight questions answered from the data.

    A strong AI Product Ops artifact can answer: What decision does each forum make? Which
    evidence proves the decision? Which metric contracts define the evidence? Which releases
    changed the system? Which incidents changed the roadmap? Which actions closed with proof?
    Which assumptions are still valid? Which capability deserves more investment, restriction or
    retirement?

Each question is one function of a capability's facts (``readiness.facts``) that returns an
``Answer``: answered or a gap, the records that answer it (evidence links), and the gap named in
words a PM can act on. A capability is *operating* when all eight are answered; otherwise it is
*only running*, and the gaps say what is missing.
"""

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import get_language, gettext, gettext_lazy, ngettext

from assumptions.choices import LIVE_STATUSES, AssumptionStatus
from contracts.choices import Category, ContractStatus
from forums.choices import Cadence
from productops.links import reverse
from readiness.facts import CapabilityFacts, readiness_facts, session_decisions
from releases.choices import ReleaseState

# The three forums whose decisions a capability cannot run without (playbook 6.1 and 7-9): the
# weekly ops review (fix, assign, close, adjust release), the monthly value review (scale,
# restrict, redesign, retire) and the quarterly portfolio review (fund, pause, consolidate, retire).
CORE_CADENCES = [
    Cadence.WEEKLY_OPS_REVIEW,
    Cadence.MONTHLY_VALUE_REVIEW,
    Cadence.QUARTERLY_PORTFOLIO_REVIEW,
]
# What each of them decides (the "primary decision" column of 6.1).
CORE_DECISIONS = {
    Cadence.WEEKLY_OPS_REVIEW: gettext_lazy("fix / assign / close / adjust release"),
    Cadence.MONTHLY_VALUE_REVIEW: gettext_lazy("scale / restrict / redesign / retire"),
    Cadence.QUARTERLY_PORTFOLIO_REVIEW: gettext_lazy("fund / pause / consolidate / retire"),
}
# An incident has this long to change the roadmap before its silence is a gap (the incident
# review meets weekly; a month is four chances).
INCIDENT_LEARNING_DAYS = 30
# Deployed releases that still await their post-release impact review (21.3). A rolled-back
# release needs none: the rollback is its recorded outcome.
AWAITING_REVIEW_STATES = {ReleaseState.RELEASED, ReleaseState.CANARY}
# How many records an answer lists as its evidence (the page links to the registers for the rest).
MAX_EVIDENCE = 6


@dataclass(frozen=True)
class Evidence:
    """One record that answers a question: what it is, and its page."""

    label: str
    url: str = ""


@dataclass
class Answer:
    """One question of the quality bar for one capability."""

    key: str
    question: str
    answered: bool
    gap: str = ""
    faults: list[Evidence] = field(default_factory=list)  # the records the gap names, linked
    # What lists the records that answer the question, called when the evidence is first read:
    # the portfolio board and the readiness table show only the gaps, and naming and linking
    # every record that answers (words, links) was half of the questions' time there.
    evidence_of: Callable[[], list[Evidence]] = field(default=list, repr=False, compare=False)

    @functools.cached_property
    def evidence(self) -> list[Evidence]:
        """The records that answer the question (at most MAX_EVIDENCE), linked."""
        return self.evidence_of()[:MAX_EVIDENCE]

    @property
    def state(self) -> str:
        return "answered" if self.answered else "gap"

    def as_dict(self) -> dict:
        return {
            "key": self.key,
            "question": str(self.question),
            "state": self.state,
            "evidence": [{"label": item.label, "url": item.url} for item in self.evidence],
            "gap": self.gap,
            "faults": [{"label": item.label, "url": item.url} for item in self.faults],
        }


def _answer(key: str, question, gaps: list[str], evidence_of, faults=()) -> Answer:
    gaps = [gap for gap in gaps if gap]
    return Answer(
        key=key,
        question=_question_texts(get_language()).get(key) or str(question),
        answered=not gaps,
        evidence_of=evidence_of,
        gap=" ".join(gaps),
        faults=[_link(record) for record in list(faults)[:MAX_EVIDENCE]] if gaps else [],
    )


def _link(record) -> Evidence:
    if isinstance(record, Evidence):
        return record
    return Evidence(getattr(record, "readable_id", None) or str(record), record.get_absolute_url())


def _(message: str) -> str:
    """``gettext(message)``, kept per language: the portfolio board asks the same questions of
    every capability, and their gaps repeat the same few dozen phrases."""
    return _translated(get_language(), message)


@functools.lru_cache(maxsize=256)
def _translated(language: str | None, message: str) -> str:
    return gettext(message)


@functools.lru_cache(maxsize=16)
def _core_forum_words(language: str | None) -> dict[str, tuple[str, str]]:
    # {core cadence: (its forum in words, lower case; the decisions it takes)}, in one language.
    return {
        cadence: (str(Cadence(cadence).label).lower(), str(CORE_DECISIONS[cadence]))
        for cadence in CORE_CADENCES
    }


def _ids(records, limit: int = 5) -> str:
    names = [record.readable_id for record in records[:limit]]
    if len(records) > limit:
        names.append(_("and %(count)s more") % {"count": len(records) - limit})
    return ", ".join(names)


def _day(value: datetime.date | None) -> str:
    return value.isoformat() if value else "—"


# --- the eight questions ----------------------------------------------------------------------


def forum_decisions(facts: CapabilityFacts) -> Answer:
    """What decision does each forum make? Answered when the weekly ops, monthly value and
    quarterly portfolio reviews each cover the capability, every forum that reviews it names the
    decision types it may take (rule 6.2), and a forum session recorded a decision on it in the
    last two quarters."""
    name = facts.capability.name
    gaps = []
    cadences = {forum.cadence for forum in facts.forums}
    for cadence in CORE_CADENCES:
        if cadence not in cadences:
            forum, decisions = _core_forum_words(get_language())[cadence]
            gaps.append(
                _("No %(forum)s covers %(name)s, so nobody takes its %(decisions)s decisions.")
                % {"forum": forum, "name": name, "decisions": decisions}
            )
    silent = [forum.name for forum in facts.forums if not forum.decision_types]
    if silent:
        gaps.append(
            _("%(forums)s name no decision type (rule 6.2: every recurring forum has one).")
            % {"forums": ", ".join(silent)}
        )
    in_session = session_decisions(facts.decisions)
    if not in_session:
        gaps.append(
            _("No forum session has recorded a decision on %(name)s in the last two quarters.")
            % {"name": name}
        )

    def evidence() -> list[Evidence]:
        return [
            Evidence(f"{forum.name}: {', '.join(facts.decision_labels(forum))}", forum.get_absolute_url())
            for forum in facts.forums
            if forum.decision_types and forum.cadence in CORE_CADENCES
        ] + [
            Evidence(
                f"{decision.readable_id} · {decision.get_type_display()} ({_day(decision.decided_on)})",
                decision.get_absolute_url(),
            )
            for decision in in_session[:2]
        ]

    faults = [forum for forum in facts.forums if not forum.decision_types]
    return _answer("forum_decisions", QUESTION_TEXT["forum_decisions"], gaps, evidence, faults)


def decision_evidence(facts: CapabilityFacts) -> Answer:
    """Which evidence proves the decision? Answered when every decision on the capability that
    still stands (not superseded) from the last two quarters rests on at least one evidence link."""
    standing = [decision for decision in facts.decisions if not decision.superseded]
    gaps = []
    if not standing:
        gaps.append(
            _("No decision on %(name)s in the last two quarters: there is nothing for evidence to prove.")
            % {"name": facts.capability.name}
        )
    bare = [decision for decision in standing if not decision.evidence_total]
    if bare:
        gaps.append(
            _(
                "Standing decisions with no evidence: %(ids)s. Record a decision that supersedes each, "
                "citing the contracts, incidents or releases it rests on."
            )
            % {"ids": _ids(bare)}
        )

    def evidence() -> list[Evidence]:
        return [
            Evidence(
                ngettext(
                    "%(id)s · %(type)s: %(count)s evidence link",
                    "%(id)s · %(type)s: %(count)s evidence links",
                    decision.evidence_total,
                )
                % {
                    "id": decision.readable_id,
                    "type": decision.get_type_display(),
                    "count": decision.evidence_total,
                },
                decision.get_absolute_url(),
            )
            # Only what the answer shows (MAX_EVIDENCE): the portfolio board asks 36 capabilities.
            for decision in [decision for decision in standing if decision.evidence_total][:MAX_EVIDENCE]
        ]

    return _answer("decision_evidence", QUESTION_TEXT["decision_evidence"], gaps, evidence, bare)


def evidence_contracts(facts: CapabilityFacts) -> Answer:
    """Which metric contracts define the evidence? Answered when the capability has an active
    outcome contract, every active contract has an owner and an action rule (anti-pattern "metric
    without owner"), and its standing decisions of the last two quarters cite a contract."""
    active = [contract for contract in facts.contracts if contract.status == ContractStatus.ACTIVE]
    gaps = []
    if not any(contract.category == Category.OUTCOME for contract in active):
        gaps.append(_("No active outcome contract: usage cannot stand in for outcome."))
    loose = [
        contract
        for contract in active
        if not contract.business_owner_id or not (contract.warning_action or contract.breach_action)
    ]
    if loose:
        gaps.append(
            _("Contracts without owner or action rule: %(ids)s.")
            % {"ids": ", ".join(contract.metric_id for contract in loose[:5])}
        )
    by_pk = {contract.pk: contract for contract in facts.contracts}
    cited = {}  # {metric id: " (its evidence level)", or "" for a contract not read}, as first cited
    standing = {decision.pk for decision in facts.decisions if not decision.superseded}
    for link in facts.cited_contracts:
        if link.decision_id not in standing:
            continue
        if len(cited) == MAX_EVIDENCE:
            break
        contract = by_pk.get(link.object_id)
        metric_id = contract.metric_id if contract else link.reference
        if metric_id and metric_id not in cited:
            cited[metric_id] = f" ({contract.evidence_level})" if contract else ""
    if not cited:
        gaps.append(_("No standing decision of the last two quarters cites a metric contract."))
    faults = [Evidence(contract.metric_id, contract.get_absolute_url()) for contract in loose]

    def evidence() -> list[Evidence]:
        return [
            Evidence(
                f"{metric_id}{level}", reverse("contracts:contract-detail", kwargs={"metric_id": metric_id})
            )
            for metric_id, level in cited.items()
        ]

    return _answer("evidence_contracts", QUESTION_TEXT["evidence_contracts"], gaps, evidence, faults)


def system_changes(facts: CapabilityFacts) -> Answer:
    """Which releases changed the system? Answered when at least one release has been deployed
    through the release calendar (the version trace) and every deployed release past its
    post-release review date has its impact review (anti-pattern "release invisibility")."""
    deployed = [
        release
        for release in facts.releases
        if release.deployed_date and release.deployed_date <= facts.today
    ]
    gaps = []
    if not deployed:
        gaps.append(
            _(
                "No release of %(name)s has been deployed through the release calendar: its version trace is empty."
            )
            % {"name": facts.capability.name}
        )
    overdue = [
        release
        for release in deployed
        if release.state in AWAITING_REVIEW_STATES
        and release.post_release_review_date
        and release.post_release_review_date < facts.today
        and not release.reviewed
    ]
    if overdue:
        gaps.append(
            _("Deployed, and the impact review due is not recorded: %(rows)s.")
            % {
                "rows": "; ".join(
                    _("%(id)s (due %(day)s)")
                    % {"id": release.readable_id, "day": _day(release.post_release_review_date)}
                    for release in overdue
                )
            }
        )

    def evidence() -> list[Evidence]:
        return [
            Evidence(
                f"{release.readable_id} · {release.get_object_type_display()} {release.version_change} "
                f"({release.get_state_display()}, {_day(release.deployed_date)})",
                release.get_absolute_url(),
            )
            for release in deployed[:MAX_EVIDENCE]
        ]

    return _answer("system_changes", QUESTION_TEXT["system_changes"], gaps, evidence, overdue)


def roadmap_incidents(facts: CapabilityFacts) -> Answer:
    """Which incidents changed the roadmap? Answered when at least one incident created or updated
    a learning item (backlog, release calendar, contract, eval, policy/SOP: 15.2's roadmap impact)
    and no incident older than a month is still without one (anti-pattern "incident amnesia").
    A capability with no incident at all has not exercised the loop: the 90-day plan runs an
    incident tabletop (days 49-54)."""
    incidents = facts.incidents
    changed = [incident for incident in incidents if incident.learning]
    late = [
        incident
        for incident in incidents
        if not incident.learning
        and incident.occurred_on <= facts.today - datetime.timedelta(days=INCIDENT_LEARNING_DAYS)
    ]
    gaps = []
    if not incidents:
        gaps.append(
            _(
                "No incident, near miss or complaint is recorded for %(name)s: the incident-to-roadmap "
                "loop has not been exercised (run an incident tabletop)."
            )
            % {"name": facts.capability.name}
        )
    elif not changed:
        gaps.append(
            _("No incident has changed the roadmap yet: %(ids)s have no learning item.")
            % {"ids": _ids(incidents)}
        )
    if late:
        gaps.append(
            _("Older than %(days)s days and still without a roadmap change: %(ids)s.")
            % {"days": INCIDENT_LEARNING_DAYS, "ids": _ids(late)}
        )

    def evidence() -> list[Evidence]:
        return [
            Evidence(
                ngettext(
                    "%(id)s · %(severity)s: %(count)s roadmap change",
                    "%(id)s · %(severity)s: %(count)s roadmap changes",
                    incident.learning,
                )
                % {
                    "id": incident.readable_id,
                    "severity": incident.get_severity_display(),
                    "count": incident.learning,
                },
                incident.get_absolute_url(),
            )
            for incident in changed[:MAX_EVIDENCE]
        ]

    faults = late or ([] if changed else incidents)
    return _answer("roadmap_incidents", QUESTION_TEXT["roadmap_incidents"], gaps, evidence, faults)


def proven_closures(facts: CapabilityFacts) -> Answer:
    """Which actions closed with proof? Answered when at least one action closed in the last 90
    days with closure evidence a reviewer accepted, and none closed without it ("done" is not
    closed)."""
    proven = [action for action in facts.closed_actions if action.proven]
    unproven = [action for action in facts.closed_actions if not action.proven]
    gaps = []
    if not proven:
        gaps.append(
            _("No action of %(name)s closed with verified evidence in the last 90 days.")
            % {"name": facts.capability.name}
        )
    if unproven:
        gaps.append(_("Closed without accepted evidence: %(ids)s.") % {"ids": _ids(unproven)})

    def evidence() -> list[Evidence]:
        return [
            Evidence(f"{action.readable_id} · {action.action}", action.get_absolute_url())
            for action in proven[:MAX_EVIDENCE]
        ]

    return _answer("proven_closures", QUESTION_TEXT["proven_closures"], gaps, evidence, unproven)


def valid_assumptions(facts: CapabilityFacts) -> Answer:
    """Which assumptions are still valid? Answered when the ledger has a confirmed assumption and
    every belief it still relies on is known: none expired awaiting a new review, none past its
    expiry or its next review date, none still needing evidence. Invalidated ones are answers too
    (the ledger knows they failed)."""
    today = facts.today
    assumptions = facts.assumptions
    gaps = []
    if not assumptions:
        gaps.append(_("The assumption ledger of %(name)s is empty.") % {"name": facts.capability.name})
    expired = [
        assumption
        for assumption in assumptions
        if assumption.status == AssumptionStatus.EXPIRED
        or (assumption.status in LIVE_STATUSES and assumption.expires_on < today)
    ]
    if expired:
        gaps.append(_("Expired, not reviewed again: %(ids)s.") % {"ids": _ids(expired)})
    overdue = [
        assumption
        for assumption in assumptions
        if assumption.status in LIVE_STATUSES
        and assumption.next_review_on
        and assumption.next_review_on < today
        and assumption not in expired
    ]
    if overdue:
        gaps.append(_("Past their next review: %(ids)s.") % {"ids": _ids(overdue)})
    unproven = [
        assumption for assumption in assumptions if assumption.status == AssumptionStatus.NEEDS_EVIDENCE
    ]
    if unproven:
        gaps.append(_("Still needing evidence: %(ids)s.") % {"ids": _ids(unproven)})
    valid = [
        assumption
        for assumption in assumptions
        if assumption.status in (AssumptionStatus.CONFIRMED, AssumptionStatus.WEAKENED)
        and assumption not in expired
    ]
    if assumptions and not any(assumption.status == AssumptionStatus.CONFIRMED for assumption in valid):
        gaps.append(_("No assumption is confirmed by evidence."))

    def evidence() -> list[Evidence]:
        return [
            Evidence(
                f"{assumption.readable_id} · {assumption.get_status_display()} "
                + _("until %(day)s") % {"day": _day(assumption.expires_on)},
                assumption.get_absolute_url(),
            )
            for assumption in valid[:MAX_EVIDENCE]
        ]

    faults = expired + overdue + unproven
    return _answer("valid_assumptions", QUESTION_TEXT["valid_assumptions"], gaps, evidence, faults)


def portfolio_call(facts: CapabilityFacts) -> Answer:
    """Which capability deserves more investment, restriction or retirement? Answered when a
    quarterly portfolio review of the last two quarters decided on the capability (9.3: fund,
    scale, restrict, consolidate, platformize, pause, retire), written to the decision log."""
    decided = []
    for row in facts.scorecard_rows:
        if not row.decision:
            continue
        day = row.decision_logged.decided_on if row.decision_logged else row.updated_at.date()
        if day >= facts.window_start:
            decided.append(row)
    gaps = []
    if not decided:
        gaps.append(
            _(
                "No quarterly portfolio review has decided on %(name)s in the last two quarters: "
                "invest, restrict or retire is not on record."
            )
            % {"name": facts.capability.name}
        )

    def evidence() -> list[Evidence]:
        return [
            Evidence(
                f"{row.quarter}: {row.get_decision_display()}"
                + (f" ({row.decision_logged.readable_id})" if row.decision_logged else ""),
                row.decision_logged.get_absolute_url()
                if row.decision_logged
                else reverse("forums:portfolio-review-detail", kwargs={"quarter": row.quarter}),
            )
            for row in decided
        ]

    return _answer("portfolio_call", QUESTION_TEXT["portfolio_call"], gaps, evidence)


# The quality bar in the playbook's order and words.
QUESTION_TEXT = {
    "forum_decisions": gettext_lazy("What decision does each forum make?"),
    "decision_evidence": gettext_lazy("Which evidence proves the decision?"),
    "evidence_contracts": gettext_lazy("Which metric contracts define the evidence?"),
    "system_changes": gettext_lazy("Which releases changed the system?"),
    "roadmap_incidents": gettext_lazy("Which incidents changed the roadmap?"),
    "proven_closures": gettext_lazy("Which actions closed with proof?"),
    "valid_assumptions": gettext_lazy("Which assumptions are still valid?"),
    "portfolio_call": gettext_lazy("Which capability deserves more investment, restriction or retirement?"),
}


@functools.lru_cache(maxsize=16)
def _question_texts(language: str | None) -> dict[str, str]:
    # The eight questions in one language, translated once: a board asks them of every capability.
    return {key: str(text) for key, text in QUESTION_TEXT.items()}


QUESTIONS = [
    forum_decisions,
    decision_evidence,
    evidence_contracts,
    system_changes,
    roadmap_incidents,
    proven_closures,
    valid_assumptions,
    portfolio_call,
]


@dataclass
class Readiness:
    """A capability's operating readiness: its eight answers. "Operating" only when all eight
    have evidence; otherwise "only running", with what is missing."""

    capability: object
    answers: list[Answer]

    @property
    def operating(self) -> bool:
        return all(answer.answered for answer in self.answers)

    @property
    def state(self) -> str:
        return "operating" if self.operating else "only_running"

    @property
    def state_label(self) -> str:
        return _("Operating") if self.operating else _("Only running")

    @property
    def url(self) -> str:
        """The capability's readiness page (its eight answers and their evidence)."""
        return reverse("readiness:capability", kwargs={"slug": self.capability.slug})

    @property
    def gaps(self) -> list[Answer]:
        return [answer for answer in self.answers if not answer.answered]

    @property
    def answered_count(self) -> int:
        return sum(1 for answer in self.answers if answer.answered)

    @property
    def question_count(self) -> int:
        return len(self.answers)

    def as_dict(self) -> dict:
        return {
            "capability": self.capability.slug,
            "name": self.capability.name,
            "state": self.state,
            "state_label": self.state_label,
            "answered": self.answered_count,
            "questions": self.question_count,
            "missing": [answer.key for answer in self.gaps],
            "answers": [answer.as_dict() for answer in self.answers],
        }


def readiness_of(facts: CapabilityFacts) -> Readiness:
    return Readiness(capability=facts.capability, answers=[question(facts) for question in QUESTIONS])


def readiness_for(capabilities, *, today: datetime.date | None = None) -> list[Readiness]:
    """The readiness of each capability, in the order given, in a fixed number of queries."""
    capabilities = list(capabilities)
    facts = readiness_facts(capabilities, today=today)
    return [readiness_of(facts[capability.pk]) for capability in capabilities]


def capability_readiness(capability, *, today: datetime.date | None = None) -> Readiness:
    return readiness_for([capability], today=today)[0]
