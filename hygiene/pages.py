"""What the hygiene pages show, read in a fixed number of queries (views stay thin)."""

import datetime
from dataclasses import dataclass, field

from django.utils import timezone

from hygiene import charts
from hygiene.checks import CHECKS
from hygiene.choices import SEVERITY_ORDER, Severity
from hygiene.models import Finding, Run, Waiver
from hygiene.services import can_waive, waiver_roles
from portfolio.models import Capability

TREND_WEEKS = 12


@dataclass
class FindingRow:
    """A finding as the page shows it now: the waiver that holds today (an expired one no longer
    does, so the finding counts again), and whether this person may waive it."""

    finding: Finding
    waiver: Waiver | None = None
    expired_waiver: Waiver | None = None
    may_waive: bool = False
    form: object = None

    @property
    def is_waived(self) -> bool:
        return self.waiver is not None

    @property
    def title(self) -> str:
        return self.finding.check_title

    @property
    def refs(self) -> list[dict]:
        return self.finding.refs

    @property
    def waived_by_roles(self) -> str:
        """Who may waive it (shown to those who may not): the check's accountable roles."""
        from productops.roles import Role

        if self.finding.check_id not in CHECKS:
            return ""
        return ", ".join(sorted(str(Role(role).label) for role in waiver_roles(self.finding.check_id)))


@dataclass
class SeverityGroup:
    severity: str
    label: str
    rows: list[FindingRow] = field(default_factory=list)


def _groups(rows: list[FindingRow]) -> tuple[list[SeverityGroup], list[FindingRow]]:
    groups = [SeverityGroup(severity=value, label=str(label)) for value, label in Severity.choices]
    by_severity = {group.severity: group for group in groups}
    waived = []
    for row in sorted(rows, key=lambda row: (SEVERITY_ORDER.get(row.finding.severity, 9), row.finding.pk)):
        if row.is_waived:
            waived.append(row)
        else:
            by_severity[row.finding.severity].rows.append(row)
    return groups, waived


def finding_rows(findings, user, today: datetime.date) -> list[FindingRow]:
    """Rows for findings (of one or several capabilities), with today's waivers (one query)."""
    findings = list(findings)
    keys = {finding.key for finding in findings}
    capability_ids = {finding.run.capability_id for finding in findings}
    waivers: dict[tuple[int, str], list[Waiver]] = {}
    live_and_past = (
        Waiver.objects.filter(capability_id__in=capability_ids, key__in=keys)
        .select_related("decision", "granted_by")
        .order_by("expires_on")
    )
    for waiver in live_and_past:
        waivers.setdefault((waiver.capability_id, waiver.key), []).append(waiver)
    from hygiene.forms import WaiverForm

    rows = []
    for finding in findings:
        own = waivers.get((finding.run.capability_id, finding.key), [])
        live = [waiver for waiver in own if waiver.is_live(today)]
        expired = [waiver for waiver in own if not waiver.is_live(today)]
        row = FindingRow(
            finding=finding,
            waiver=live[-1] if live else None,
            expired_waiver=expired[-1] if expired and not live else None,
            may_waive=not live and can_waive(user, finding),
        )
        if row.may_waive:
            row.form = WaiverForm(prefix=f"waive-{finding.pk}")
        rows.append(row)
    return rows


def finding_row(finding: Finding, user) -> FindingRow:
    return finding_rows([finding], user, timezone.localdate())[0]


@dataclass
class CapabilityHygiene:
    capability: Capability
    run: Run | None
    groups: list[SeverityGroup]
    waived: list[FindingRow]
    points: list[charts.WeekPoint]
    chart_html: str
    checks: list


def capability_hygiene(capability: Capability, user) -> CapabilityHygiene:
    today = timezone.localdate()
    run = Run.objects.for_capability(capability).first()
    findings = list(run.findings.select_related("run") if run else [])
    for finding in findings:
        finding.run = run
    groups, waived = _groups(finding_rows(findings, user, today))
    since = today - datetime.timedelta(weeks=TREND_WEEKS)
    points = charts.weekly_points(Run.objects.for_capability(capability).filter(as_of__gte=since))
    chart_html = charts.figure_html(charts.capability_trend(points), "hygiene-trend") if points else ""
    failing = set(run.failing_checks) if run else set()
    checks = [
        {
            "id": spec.id,
            "title": spec.title,
            "severity": spec.severity,
            "passed": spec.id not in failing,
            "from_playbook": spec.from_playbook,
            "symptom": spec.symptom,
            "correction": spec.correction,
        }
        for spec in CHECKS.values()
    ]
    return CapabilityHygiene(capability, run, groups, waived, points, chart_html, checks)


@dataclass
class PortfolioHygiene:
    runs: list[Run]
    groups: list[SeverityGroup]
    waived: list[FindingRow]
    chart_html: str
    never_run: list[Capability]
    average: int | None


def portfolio_hygiene(user) -> PortfolioHygiene:
    today = timezone.localdate()
    capabilities = list(Capability.objects.visible_to(user).order_by("name"))
    runs = list(
        Run.objects.latest_per_capability()
        .filter(capability__in=capabilities)
        .select_related("capability")
        .order_by("score", "capability__name")
    )
    findings = list(Finding.objects.filter(run__in=runs).select_related("run__capability"))
    groups, waived = _groups(finding_rows(findings, user, today))
    since = today - datetime.timedelta(weeks=TREND_WEEKS)
    series: dict[str, list] = {}
    history = Run.objects.filter(capability__in=capabilities, as_of__gte=since).select_related("capability")
    by_capability: dict[str, list[Run]] = {}
    for run in history:
        by_capability.setdefault(run.capability.name, []).append(run)
    for name, own in by_capability.items():
        series[name] = charts.weekly_points(own)
    chart_html = (
        charts.figure_html(charts.portfolio_trend(series), "hygiene-portfolio-trend") if series else ""
    )
    ran = {run.capability_id for run in runs}
    average = round(sum(run.score for run in runs) / len(runs)) if runs else None
    return PortfolioHygiene(
        runs=runs,
        groups=groups,
        waived=waived,
        chart_html=chart_html,
        never_run=[capability for capability in capabilities if capability.pk not in ran],
        average=average,
    )
