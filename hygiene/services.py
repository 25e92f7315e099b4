"""Running the hygiene checks, scoring a capability, telling its PM, and waiving a finding.

The page, the API, the scheduled job, the forum hook and the demo all call these.
"""

import datetime

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from decisions.choices import DecisionType
from decisions.services import decision_record
from hygiene.checks import CHECKS, FindingData, run_checks
from hygiene.choices import SEVERE, SEVERITY_WEIGHT, WAIVER_MAX_DAYS, Severity, Trigger
from hygiene.models import Finding, Run, SevereNotice, Waiver
from portfolio.choices import LifecycleStatus
from portfolio.models import Capability
from productops.errors import DomainError
from productops.formats import person_name
from productops.models import RoleAssignment
from productops.notifications import notify
from productops.permissions import roles_of
from productops.roles import Role, accountable_roles


def score_of(findings: list[FindingData], waived_keys: set[str]) -> tuple[int, list[str]]:
    """The hygiene score, 0-100, and the checks that fail.

    Each check weighs by its severity (high 3, medium 2, low 1). A check fails when at least one
    of its findings is not waived. The score is the weight of the passing checks over the
    weight of all checks, in per cent, rounded: 100 when nothing is open, 0 when every check
    fails. However many records one check finds, it costs its weight once, so one long list
    (thirty overdue actions) does not hide every other gap.
    """
    failing = sorted({finding.check_id for finding in findings if finding.key not in waived_keys})
    total = sum(SEVERITY_WEIGHT[spec.severity] for spec in CHECKS.values())
    lost = sum(SEVERITY_WEIGHT[CHECKS[check_id].severity] for check_id in failing)
    return round(100 * (total - lost) / total), failing


def live_waivers(capability, today: datetime.date) -> dict[str, Waiver]:
    """{finding key: the live waiver covering it} (the one that holds longest)."""
    waivers = {}
    for waiver in Waiver.objects.filter(capability=capability).live(today).order_by("expires_on"):
        waivers[waiver.key] = waiver
    return waivers


@transaction.atomic
def hygiene_run(
    *, capability, trigger: str = Trigger.MANUAL, today: datetime.date | None = None, at=None
) -> Run:
    """Run every check over ``capability``, store the run, its findings and its score, and tell
    the capability's AI PM about each new high finding (once per finding, ever).

    ``today`` is the day the checks judge by (default: today in the organisation's zone); ``at``
    the run's time stamp (default: now; the demo backdates its earlier weeks).
    """
    today = today or timezone.localdate()
    findings = run_checks(capability, today)
    waivers = live_waivers(capability, today)
    score, failing = score_of(findings, set(waivers))
    counts = {severity: 0 for severity in Severity.values}
    for finding in findings:
        if finding.key not in waivers:
            counts[finding.severity] += 1
    run = Run.objects.create(
        capability=capability,
        started_at=at or timezone.now(),
        as_of=today,
        trigger=trigger,
        score=score,
        high=counts[Severity.HIGH],
        medium=counts[Severity.MEDIUM],
        low=counts[Severity.LOW],
        waived=sum(1 for finding in findings if finding.key in waivers),
        failing_checks=failing,
    )
    Finding.objects.bulk_create(
        Finding(
            run=run,
            check_id=finding.check_id,
            severity=finding.severity,
            key=finding.key[:400],
            text=finding.text,
            fix=finding.fix,
            refs=finding.refs,
            waiver=waivers.get(finding.key),
        )
        for finding in findings
    )
    severe = [finding for finding in findings if finding.severity in SEVERE and finding.key not in waivers]
    if severe and trigger != Trigger.DEMO:
        severe_findings_announce(capability=capability, run=run, findings=severe)
    return run


def hygiene_run_all(*, trigger: str = Trigger.SCHEDULE, today: datetime.date | None = None) -> list[Run]:
    """Run the checks over every capability that is not retired, one transaction each."""
    capabilities = Capability.objects.exclude(lifecycle_status=LifecycleStatus.RETIRED).order_by("name")
    return [hygiene_run(capability=capability, trigger=trigger, today=today) for capability in capabilities]


def capability_pms(capability) -> list:
    """Who hears about severe findings: the capability's AI PMs, else the organisation's."""
    rows = RoleAssignment.objects.filter(role=Role.AI_PM, user__is_active=True).select_related("user")
    own = [row.user for row in rows.filter(capability=capability)]
    return own or [row.user for row in rows.filter(capability__isnull=True)]


def severe_findings_announce(*, capability, run: Run, findings: list[FindingData]) -> list[str]:
    """Tell the capability's PM about the severe findings not told before: a notice row per
    finding key is claimed first (unique per capability and key), so two runs never both tell."""
    new = []
    for finding in findings:
        _notice, created = SevereNotice.objects.get_or_create(
            capability=capability, key=finding.key[:400], defaults={"first_run": run}
        )
        if created:
            new.append(finding)
    if not new:
        return []
    from django.urls import reverse

    lines = [
        f"- [{CHECKS[finding.check_id].title}] {finding.text}\n  {_('Fix')}: {finding.fix}" for finding in new
    ]
    notify(
        recipients=capability_pms(capability),
        subject=_("%(capability)s: %(n)s new severe hygiene finding(s)")
        % {"capability": capability.name, "n": len(new)},
        body=_("The hygiene checks found:\n\n%(lines)s") % {"lines": "\n".join(lines)},
        url=reverse("hygiene:capability", kwargs={"slug": capability.slug}),
    )
    return [finding.key for finding in new]


# --- waivers -------------------------------------------------------------------------------------


def waiver_roles(check_id: str) -> frozenset[str]:
    """The roles that may waive a check's findings: accountable (A) on the check's RACI row —
    waiving accepts the gap, and accepting is the accountable role's call (playbook 17)."""
    return accountable_roles(str(CHECKS[check_id].activity))


def can_waive(user, finding: Finding) -> bool:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    spec = CHECKS.get(finding.check_id)
    if spec is None:
        return False
    return bool(roles_of(user, finding.run.capability_id) & waiver_roles(finding.check_id))


def _records_at_fault(finding: Finding) -> list:
    """The records a finding names, as model instances (versions seen in telemetry are none)."""
    records = []
    for item in finding.refs:
        try:
            model = apps.get_model(item["model"])
        except (LookupError, ValueError, KeyError):
            continue
        record = model.objects.filter(pk=item["pk"]).first()
        if record is not None:
            records.append(record)
    return records


@transaction.atomic
def waiver_grant(*, finding: Finding, by, reason: str, expires_on) -> Waiver:
    """Waive a finding until ``expires_on`` (its last day), for ``reason``.

    Only the accountable role of the check's RACI row may (PermissionDenied otherwise). The
    waiver is a risk-acceptance decision in the decision log, owned by the person who waived,
    citing the records at fault, with the expiry as its review date. Raises DomainError naming
    the field for a missing reason, an expiry not after today or further than 180 days, or a
    finding already waived.
    """
    capability = finding.run.capability
    spec = CHECKS.get(finding.check_id)
    if spec is None:
        raise DomainError(_("This check no longer exists."), field="check_id")
    if not can_waive(by, finding):
        raise PermissionDenied(
            _("Only the %(roles)s of this capability may waive a “%(check)s” finding.")
            % {
                "roles": ", ".join(sorted(str(Role(role).label) for role in waiver_roles(finding.check_id))),
                "check": spec.title,
            }
        )
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the finding may stand for now."), field="reason")
    today = timezone.localdate()
    if expires_on is None:
        raise DomainError(_("Give the last day the waiver holds."), field="expires_on")
    if expires_on <= today:
        raise DomainError(_("The waiver must expire after today."), field="expires_on")
    if expires_on > today + datetime.timedelta(days=WAIVER_MAX_DAYS):
        raise DomainError(
            _("A waiver holds at most %(days)s days: review the finding again by then.")
            % {"days": WAIVER_MAX_DAYS},
            field="expires_on",
        )
    # Row lock on the capability: two people waiving the same finding at once; the second sees it.
    Capability.objects.select_for_update().filter(pk=capability.pk).first()
    if Waiver.objects.filter(capability=capability, key=finding.key).live(today).exists():
        raise DomainError(_("This finding is already waived."), field="key", code="already_waived")
    decision = decision_record(
        capability=capability,
        by=None,  # the waiver rule above is the permission; the owner names who took it
        type=DecisionType.RISK_ACCEPTANCE,
        decision=_("Waive the hygiene finding “%(check)s”: %(text)s Until %(day)s. Reason: %(reason)s")
        % {"check": spec.title, "text": finding.text, "day": expires_on.isoformat(), "reason": reason},
        options_considered=_("Fix now: %(fix)s") % {"fix": finding.fix},
        owner=by,
        evidence=_records_at_fault(finding),
        review_trigger=_("The waiver expires; the finding counts again from the next run."),
        review_date=expires_on,
        details={
            "hygiene_waiver": {
                "check": finding.check_id,
                "key": finding.key,
                "expires_on": expires_on.isoformat(),
                "granted_by": person_name(by),
            }
        },
    )
    waiver = Waiver.objects.create(
        capability=capability,
        check_id=finding.check_id,
        key=finding.key,
        reason=reason,
        expires_on=expires_on,
        decision=decision,
        granted_by=by,
    )
    from hygiene.tasks import run_hygiene_for
    from productops.jobs import enqueue_on_commit

    # The score counts the waiver from the next run: make it now.
    enqueue_on_commit(run_hygiene_for, capability.pk, Trigger.WAIVER)
    return waiver
