"""The playbook's anti-patterns (section 22) as checks over one capability's live data, and the
four the data shows the playbook missed (overdue actions, actions closed without verified
evidence, expired assumptions still cited by live decisions, contracts past their review date).

Each check is a small named function ``check(capability, today) -> [FindingData]``. It reads
the registers (a few queries), writes nothing, and says for every finding what is wrong in the
playbook's words, the correction the playbook gives, and which records are at fault. Where the
playbook names something the data cannot show, the docstring says so and which proxy is read.
"""

import datetime
import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.db.models import Max, Min, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from actions.choices import EvidenceVerdict
from actions.models import Action, ClosureEvidence
from assumptions.choices import LIVE_STATUSES, AssumptionStatus
from assumptions.models import Assumption
from contracts.choices import Category, ContractStatus
from contracts.models import MetricContract, Observation
from decisions.choices import DecisionType
from decisions.models import Decision, EvidenceLink
from forums.choices import OutcomeKind, SessionState
from forums.models import ScorecardRow, Session, SessionOutcome
from hygiene.choices import Severity
from incidents.models import Incident
from portfolio.backlog_ranking import backlog_rank
from portfolio.choices import BACKLOG_OPEN_STATUSES, LifecycleStatus
from portfolio.models import BacklogItem
from productops.roles import Activity
from releases.choices import ObjectType, ReleaseState
from releases.models import Release

# How far back each check looks.
CADENCE_WINDOW_DAYS = 56  # the last eight weeks of sessions
RISK_SIGNAL_WEEKS = 4  # "no runtime signal in N weeks"
VERSION_WINDOW_DAYS = 90  # versions seen in telemetry over the last quarter
RECURRENCE_WINDOW_DAYS = 180
PORTFOLIO_WINDOW_DAYS = 183  # two quarters


@dataclass
class FindingData:
    """One finding of one check: what is wrong, how the playbook corrects it, and the records at
    fault as ``{"kind", "label", "url", "model", "pk"}`` (the first ones name the finding)."""

    check_id: str
    severity: str
    text: str
    fix: str
    refs: list[dict] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The same finding across runs: the check and the records at fault."""
        parts = sorted(f"{ref['model']}:{ref['pk']}" for ref in self.refs if ref.get("at_fault", True))
        return f"{self.check_id}:" + ",".join(parts)


@dataclass
class Check:
    id: str
    title: str
    severity: str
    activity: str  # the RACI row whose accountable role may waive its findings
    symptom: str
    correction: str
    from_playbook: bool = True
    function: Callable | None = None

    def finding(self, text: str, refs: list[dict]) -> FindingData:
        return FindingData(
            check_id=self.id, severity=self.severity, text=text, fix=str(self.correction), refs=refs
        )


CHECKS: dict[str, Check] = {}


def check(check_id: str, **meta):
    """Register a check. The decorated function yields ``(text, refs)``; callers get FindingData."""

    def register(function):
        spec = Check(id=check_id, **meta)

        @functools.wraps(function)
        def run(capability, today: datetime.date | None = None) -> list[FindingData]:
            today = today or timezone.localdate()
            return [spec.finding(text, refs) for text, refs in function(capability, today)]

        spec.function = run
        run.spec = spec
        CHECKS[check_id] = spec
        return run

    return register


def ref(record, kind: str, label: str | None = None, *, at_fault: bool = True) -> dict:
    """A link to a record for the page; ``at_fault=False`` marks context (e.g. the decision that
    cites an expired assumption), not part of the finding's identity."""
    return {
        "kind": kind,
        "label": label or getattr(record, "readable_id", "") or str(record),
        "url": record.get_absolute_url() if hasattr(record, "get_absolute_url") else "",
        "model": record._meta.label_lower,
        "pk": record.pk,
        "at_fault": at_fault,
    }


def _active_contracts(capability):
    return MetricContract.objects.filter(capability=capability, status=ContractStatus.ACTIVE)


def _blank(value) -> bool:
    return not (value or "").strip()


# --- the anti-patterns of playbook 22 ------------------------------------------------------------


@check(
    "usage_replaces_outcome",
    title=gettext_lazy("Usage replaces outcome"),
    severity=Severity.HIGH,
    activity=Activity.MONTHLY_VALUE_REVIEW,
    symptom=gettext_lazy("Reports prompt count and MAU only."),
    correction=gettext_lazy("Use the outcome chain and net value."),
)
def usage_replaces_outcome(capability, today) -> Iterable:
    """The executive packs (monthly value and quarterly portfolio) show adoption contracts but no
    outcome contract. A pack's figures are the capability's active contracts of each category
    (``forums.packs.pack_snapshot``), so the active contracts are what decides it."""
    contracts = list(_active_contracts(capability).filter(category__in=[Category.ADOPTION, Category.OUTCOME]))
    adoption = [contract for contract in contracts if contract.category == Category.ADOPTION]
    if adoption and not any(contract.category == Category.OUTCOME for contract in contracts):
        yield (
            _(
                "The executive pack shows %(n)s adoption contract(s) and no outcome contract: usage "
                "stands in for value."
            )
            % {"n": len(adoption)},
            [ref(capability, "capability", capability.name)]
            + [ref(contract, "contract", contract.metric_id, at_fault=False) for contract in adoption],
        )


@check(
    "cadence_without_decision",
    title=gettext_lazy("Cadence without decision"),
    severity=Severity.MEDIUM,
    activity=Activity.WEEKLY_OPS_REVIEW,
    symptom=gettext_lazy("Recurring meetings with no decision requested."),
    correction=gettext_lazy("Start every pack with a decision."),
)
def cadence_without_decision(capability, today) -> Iterable:
    """Sessions of the forums whose scope names the capability, held in the last eight weeks,
    with no decision requested written or no decision recorded (neither a decision-recorded
    outcome in the meeting nor a decision in the log that names the session)."""
    since = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=CADENCE_WINDOW_DAYS), datetime.time.min)
    )
    until = timezone.make_aware(
        datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time.min)
    )
    sessions = list(
        Session.objects.filter(
            forum__scope=capability,
            state__in=[SessionState.HELD, SessionState.MINUTES_PUBLISHED],
            scheduled_at__gte=since,
            scheduled_at__lt=until,
        )
        .select_related("forum")
        .order_by("scheduled_at")
        .distinct()
    )
    if not sessions:
        return
    ids = [session.pk for session in sessions]
    decided = set(
        SessionOutcome.objects.filter(session_id__in=ids, kind=OutcomeKind.DECISION_RECORDED).values_list(
            "session_id", flat=True
        )
    )
    decided |= set(
        Decision.objects.filter(
            forum_session_type=ContentType.objects.get_for_model(Session), forum_session_id__in=ids
        ).values_list("forum_session_id", flat=True)
    )
    for session in sessions:
        missing = []
        if _blank(session.decision_requested):
            missing.append(_("no decision requested"))
        if session.pk not in decided:
            missing.append(_("no decision recorded"))
        if missing:
            when = timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d")
            yield (
                _("%(forum)s met on %(day)s with %(what)s.")
                % {"forum": session.forum.name, "day": when, "what": _(" and ").join(missing)},
                [ref(session, "session", f"{session.forum.name} {when}")],
            )


@check(
    "metric_without_owner",
    title=gettext_lazy("Metric without owner"),
    severity=Severity.HIGH,
    activity=Activity.METRIC_CONTRACT,
    symptom=gettext_lazy("Dashboard disputes every month."),
    correction=gettext_lazy("A metric contract with an owner and an action rule."),
)
def metric_without_owner(capability, today) -> Iterable:
    """Active contracts with no business owner, or with no action at warning and none at breach."""
    for contract in _active_contracts(capability).order_by("metric_id"):
        missing = []
        if contract.business_owner_id is None:
            missing.append(_("no business owner"))
        if _blank(contract.warning_action) and _blank(contract.breach_action):
            missing.append(_("no action rule at warning or breach"))
        if missing:
            yield (
                _("%(metric)s has %(what)s.")
                % {"metric": contract.metric_id, "what": _(" and ").join(missing)},
                [ref(contract, "contract", contract.metric_id)],
            )


TRACE_FIELDS = ["source_systems", "event_names", "version_fields", "join_keys"]


@check(
    "evidence_without_trace",
    title=gettext_lazy("Evidence without trace"),
    severity=Severity.MEDIUM,
    activity=Activity.METRIC_CONTRACT,
    symptom=gettext_lazy("Cannot link a metric to version, workflow or cohort."),
    correction=gettext_lazy("Version-aware telemetry and an evidence map."),
)
def evidence_without_trace(capability, today) -> Iterable:
    """Active contracts whose source and trace leave a field empty (source systems, event names,
    version fields, join keys), and contracts whose pack figures cannot be cut: the pack keeps
    no cut per figure, so the proxy is the contract itself — no required cohort cut, or
    observations of the last four weeks that carry no version set."""
    contracts = list(_active_contracts(capability).order_by("metric_id"))
    since = today - datetime.timedelta(weeks=RISK_SIGNAL_WEEKS)
    recent = Observation.objects.filter(contract__in=contracts, period_start__gte=since)
    unversioned = set(recent.filter(version_key="").values_list("contract_id", flat=True).distinct())
    for contract in contracts:
        gaps = [
            str(contract._meta.get_field(name).verbose_name)
            for name in TRACE_FIELDS
            if _blank(getattr(contract, name))
        ]
        if not contract.required_cuts:
            gaps.append(_("no required cohort cut"))
        if contract.pk in unversioned:
            gaps.append(_("observations without a version set"))
        if gaps:
            yield (
                _("%(metric)s cannot be traced: %(gaps)s.")
                % {"metric": contract.metric_id, "gaps": ", ".join(gaps)},
                [ref(contract, "contract", contract.metric_id)],
            )


DEPLOYED_STATES = [ReleaseState.CANARY, ReleaseState.RELEASED]


@check(
    "release_invisibility",
    title=gettext_lazy("Release invisibility"),
    severity=Severity.HIGH,
    activity=Activity.RELEASE_CALENDAR,
    symptom=gettext_lazy("Prompt, knowledge or tool changes not reviewed."),
    correction=gettext_lazy("A unified AI release calendar."),
)
def release_invisibility(capability, today) -> Iterable:
    """Releases in canary or released whose post-release review date has passed without an impact
    review; and versions that appear in the capability's telemetry over the last quarter with no
    release entry taking the system to (or from) them. The first version of each object type seen
    in the window is the baseline: only a change from it needs a release."""
    for release in Release.objects.filter(
        capability=capability, state__in=DEPLOYED_STATES, post_release_review_date__lt=today
    ).order_by("post_release_review_date"):
        yield (
            _("%(release)s (%(type)s %(to)s) was due for its impact review on %(day)s and has none.")
            % {
                "release": release.readable_id,
                "type": release.get_object_type_display(),
                "to": release.version_to,
                "day": release.post_release_review_date.isoformat(),
            },
            [ref(release, "release")],
        )
    since = today - datetime.timedelta(days=VERSION_WINDOW_DAYS)
    seen = (
        Observation.objects.filter(contract__capability=capability, period_start__gte=since)
        .exclude(version_key="")
        .order_by()
        .values("version_key")
        .annotate(first=Min("period_start"))
    )
    first_seen: dict[str, dict[str, datetime.date]] = {}
    for row in seen:
        for part in row["version_key"].split("|"):
            object_type, _sep, version = part.partition("=")
            if object_type in ObjectType.values and version:
                versions = first_seen.setdefault(object_type, {})
                versions[version] = min(versions.get(version, row["first"]), row["first"])
    if not first_seen:
        return
    released = set()
    for object_type, version_from, version_to in Release.objects.filter(
        capability=capability, object_type__in=list(first_seen)
    ).values_list("object_type", "version_from", "version_to"):
        released |= {(object_type, version_from), (object_type, version_to)}
    for object_type, versions in sorted(first_seen.items()):
        baseline = min(versions, key=lambda version: (versions[version], version))
        for version, first in sorted(versions.items(), key=lambda item: item[1]):
            if version != baseline and (object_type, version) not in released:
                yield (
                    _(
                        "Telemetry shows %(type)s version %(version)s from %(day)s, and no release on the "
                        "calendar names it."
                    )
                    % {"type": ObjectType(object_type).label, "version": version, "day": first.isoformat()},
                    [
                        {
                            "kind": "version",
                            "label": f"{object_type} {version}",
                            "url": capability.get_absolute_url(),
                            "model": f"version.{object_type}",
                            "pk": version,
                            "at_fault": True,
                        }
                    ],
                )


@check(
    "incident_amnesia",
    title=gettext_lazy("Incident amnesia"),
    severity=Severity.HIGH,
    activity=Activity.INCIDENT_LEARNING,
    symptom=gettext_lazy("The same defect returns under a new release."),
    correction=gettext_lazy("The incident-to-roadmap loop and a recurrence review."),
)
def incident_amnesia(capability, today) -> Iterable:
    """Incidents of the last six months that the incidents register flagged as a recurrence (an
    earlier incident of the capability shares a root-cause class) and that no forum has reviewed."""
    since = today - datetime.timedelta(days=RECURRENCE_WINDOW_DAYS)
    for incident in (
        Incident.objects.filter(
            capability=capability, is_recurrence=True, occurred_on__gte=since, forum_reviewed_on__isnull=True
        )
        .select_related("recurrence_of")
        .order_by("occurred_on")
    ):
        earlier = incident.recurrence_of
        yield (
            _("%(incident)s repeats the root cause of %(earlier)s and has had no recurrence review.")
            % {"incident": incident.readable_id, "earlier": earlier.readable_id if earlier else "?"},
            [ref(incident, "incident")] + ([ref(earlier, "incident", at_fault=False)] if earlier else []),
        )


@check(
    "backlog_politics",
    title=gettext_lazy("Backlog politics"),
    severity=Severity.MEDIUM,
    activity=Activity.WEEKLY_OPS_REVIEW,
    symptom=gettext_lazy("The loud stakeholder beats the evidence."),
    correction=gettext_lazy("Evidence-linked backlog classes."),
)
def backlog_politics(capability, today) -> Iterable:
    """Open backlog items whose rank would put them in the top band but that have no evidence
    link. The ranking (``portfolio.backlog_ranking``) keeps them out of the top band; the finding
    is that they were prioritised without evidence in the first place."""
    items = list(
        BacklogItem.objects.filter(capability=capability, status__in=BACKLOG_OPEN_STATUSES).select_related(
            "evidence_content_type"
        )
    )
    if not items:
        return
    spread = BacklogItem.objects.problem_spread()
    capped_reason = _(
        "No evidence link: by rank it would stand in the top band, but no item enters the "
        "top band without an evidence link (16.3), so it is capped at the next band."
    )
    for entry in backlog_rank(items, problem_spread=spread):
        if not entry.item.has_evidence_link and capped_reason in entry.reasons:
            yield (
                _("%(item)s ranks #%(position)s by score (%(score)s) with no evidence link.")
                % {"item": entry.item.readable_id, "position": entry.position, "score": entry.score},
                [ref(entry.item, "backlog item")],
            )


@check(
    "cost_blindness",
    title=gettext_lazy("Cost blindness"),
    severity=Severity.MEDIUM,
    activity=Activity.METRIC_CONTRACT,
    symptom=gettext_lazy("Platform spend treated as shared overhead."),
    correction=gettext_lazy("Cost per case and a capacity review."),
)
def cost_blindness(capability, today) -> Iterable:
    """A capability in production with no active cost contract."""
    if capability.lifecycle_status != LifecycleStatus.PRODUCTION:
        return
    if not _active_contracts(capability).filter(category=Category.COST).exists():
        yield (
            _("%(capability)s is in production with no active cost contract.")
            % {"capability": capability.name},
            [ref(capability, "capability", capability.name)],
        )


@check(
    "risk_theater",
    title=gettext_lazy("Risk theater"),
    severity=Severity.HIGH,
    activity=Activity.METRIC_CONTRACT,
    symptom=gettext_lazy("Policy documents exist but no runtime signals."),
    correction=gettext_lazy("Risk metrics, complaint sampling, action closure."),
)
def risk_theater(capability, today) -> Iterable:
    """Active risk contracts with no observation in the last four weeks (no runtime signal); and
    a capability running a policy (a policy version in its current version set, or risk decision
    rights written in its charter) with no active risk contract at all. The policy documents
    themselves are not in ProductOps: the charter and the release calendar are the proxy."""
    risk_contracts = list(_active_contracts(capability).filter(category=Category.RISK).order_by("metric_id"))
    if not risk_contracts:
        has_policy = "policy" in (capability.current_version_set or {}) or not _blank(
            capability.decisions_risk_review
        )
        if has_policy:
            yield (
                _("%(capability)s runs under a policy and has no active risk contract watching it.")
                % {"capability": capability.name},
                [ref(capability, "capability", capability.name)],
            )
        return
    since = today - datetime.timedelta(weeks=RISK_SIGNAL_WEEKS)
    last = dict(
        Observation.objects.filter(contract__in=risk_contracts)
        .order_by()
        .values("contract_id")
        .annotate(last=Max("period_start"))
        .values_list("contract_id", "last")
    )
    for contract in risk_contracts:
        latest = last.get(contract.pk)
        if latest is None or latest < since:
            yield (
                _("%(metric)s has had no runtime signal since %(when)s.")
                % {
                    "metric": contract.metric_id,
                    "when": latest.isoformat() if latest else _("it was written"),
                },
                [ref(contract, "contract", contract.metric_id)],
            )


PAUSE_RETIRE_TYPES = [
    DecisionType.PAUSE,
    DecisionType.RETIRE,
    DecisionType.RESTRICT,
    DecisionType.CONSOLIDATE,
]


@check(
    "portfolio_optimism",
    title=gettext_lazy("Portfolio optimism"),
    severity=Severity.MEDIUM,
    activity=Activity.QUARTERLY_PORTFOLIO_REVIEW,
    symptom=gettext_lazy("Weak capabilities continue because they are already funded."),
    correction=gettext_lazy("Quarterly retire / pause decisions."),
)
def portfolio_optimism(capability, today) -> Iterable:
    """A capability older than two quarters that has not been discussed for pause or retire in
    that time. "Discussed" reads as: a decided row on a quarterly portfolio scorecard (where
    retire and pause are first-class options), a pause, retire, restrict or consolidate decision,
    or a decision whose options considered name pause or retirement."""
    if capability.lifecycle_status == LifecycleStatus.RETIRED:
        return
    since = today - datetime.timedelta(days=PORTFOLIO_WINDOW_DAYS)
    if timezone.localdate(capability.created_at) > since:
        return
    since_at = timezone.make_aware(datetime.datetime.combine(since, datetime.time.min))
    reviewed = (
        ScorecardRow.objects.filter(capability=capability)
        .exclude(decision="")
        .filter(Q(review__decided_at__gte=since_at) | Q(updated_at__gte=since_at))
        .exists()
    )
    discussed = (
        Decision.objects.filter(capability=capability, decided_on__gte=since)
        .filter(
            Q(type__in=PAUSE_RETIRE_TYPES)
            | Q(options_considered__icontains="pause")
            | Q(options_considered__icontains="retire")
        )
        .exists()
    )
    if not (reviewed or discussed):
        yield (
            _("%(capability)s has not been discussed for pause or retirement since %(day)s.")
            % {"capability": capability.name, "day": since.isoformat()},
            [ref(capability, "capability", capability.name)],
        )


# --- what the data shows the playbook missed ----------------------------------------------------


@check(
    "overdue_actions",
    title=gettext_lazy("Overdue actions"),
    severity=Severity.MEDIUM,
    activity=Activity.ACTION_CLOSURE,
    symptom=gettext_lazy("Actions past their due date and not closed."),
    correction=gettext_lazy("Close with evidence, or re-plan the due date in the forum, with the reason."),
    from_playbook=False,
)
def overdue_actions(capability, today) -> Iterable:
    """Actions not closed whose due date has passed."""
    for action in Action.objects.for_capability(capability).overdue(today).select_related("owner"):
        yield (
            _("%(action)s is %(days)s day(s) overdue (owner %(owner)s): %(text)s")
            % {
                "action": action.readable_id,
                "days": (today - action.due_date).days,
                "owner": action.owner,
                "text": action.action,
            },
            [ref(action, "action")],
        )


@check(
    "closed_without_verified_evidence",
    title=gettext_lazy("Closed without verified evidence"),
    severity=Severity.HIGH,
    activity=Activity.ACTION_CLOSURE,
    symptom=gettext_lazy("“Done” is treated as closed."),
    correction=gettext_lazy(
        "Reopen it: an action closes only on closure evidence a reviewer who is not the owner verified."
    ),
    from_playbook=False,
)
def closed_without_verified_evidence(capability, today) -> Iterable:
    """Closed actions with no accepted closure evidence, or whose accepted evidence was verified
    by the action's own owner. The register refuses both (``Action.verify``); this watches for
    records that reached the table another way (admin edits, imports, older versions)."""
    closed = list(Action.objects.for_capability(capability).closed().order_by("id"))
    if not closed:
        return
    reviewers: dict[int, set] = {}
    for action_id, reviewer_id in ClosureEvidence.objects.filter(
        action__in=closed, verdict=EvidenceVerdict.ACCEPTED
    ).values_list("action_id", "reviewed_by_id"):
        reviewers.setdefault(action_id, set()).add(reviewer_id)
    for action in closed:
        if action.pk not in reviewers:
            text = _("%(action)s is closed with no accepted closure evidence.")
        elif not reviewers[action.pk] - {None, action.owner_id}:
            text = _("%(action)s is closed on evidence no reviewer other than its owner verified.")
        else:
            continue
        yield text % {"action": action.readable_id}, [ref(action, "action")]


@check(
    "expired_assumptions_cited",
    title=gettext_lazy("Expired assumptions still cited"),
    severity=Severity.MEDIUM,
    activity=Activity.ASSUMPTION_LEDGER,
    symptom=gettext_lazy("A live decision rests on an assumption past its expiry."),
    correction=gettext_lazy("Review the assumption with new evidence, or supersede the decision."),
    from_playbook=False,
)
def expired_assumptions_cited(capability, today) -> Iterable:
    """Assumptions of the capability that are expired (or past their expiry date while still
    marked live) and cited as evidence by a decision that no later decision has superseded."""
    expired = list(
        Assumption.objects.filter(capability=capability).filter(
            Q(status=AssumptionStatus.EXPIRED) | Q(status__in=LIVE_STATUSES, expires_on__lt=today)
        )
    )
    if not expired:
        return
    links = (
        EvidenceLink.objects.filter(
            content_type=ContentType.objects.get_for_model(Assumption),
            object_id__in=[assumption.pk for assumption in expired],
            decision__superseded_by__isnull=True,
        )
        .select_related("decision")
        .order_by("decision__decided_on", "decision_id")
    )
    citing: dict[int, list] = {}
    for link in links:
        citing.setdefault(link.object_id, []).append(link.decision)
    for assumption in expired:
        decisions = citing.get(assumption.pk)
        if decisions:
            yield (
                _("%(assumption)s expired on %(day)s and is still cited by %(decisions)s.")
                % {
                    "assumption": assumption.readable_id,
                    "day": assumption.expires_on.isoformat(),
                    "decisions": ", ".join(decision.readable_id for decision in decisions),
                },
                [ref(assumption, "assumption")]
                + [ref(decision, "decision", at_fault=False) for decision in decisions],
            )


@check(
    "contracts_past_review",
    title=gettext_lazy("Contracts past their review date"),
    severity=Severity.LOW,
    activity=Activity.METRIC_CONTRACT,
    symptom=gettext_lazy("A metric contract's definition is relied on past its review date."),
    correction=gettext_lazy("Review the contract (owner, thresholds, action rules) and set its next review."),
    from_playbook=False,
)
def contracts_past_review(capability, today) -> Iterable:
    """Active contracts whose next review date has passed."""
    for contract in _active_contracts(capability).filter(next_review__lt=today).order_by("next_review"):
        yield (
            _("%(metric)s was due for review on %(day)s.")
            % {"metric": contract.metric_id, "day": contract.next_review.isoformat()},
            [ref(contract, "contract", contract.metric_id)],
        )


def run_checks(capability, today: datetime.date | None = None) -> list[FindingData]:
    """Every check's findings for one capability, in the order of CHECKS."""
    today = today or timezone.localdate()
    findings = []
    for spec in CHECKS.values():
        findings.extend(spec.function(capability, today))
    return findings
