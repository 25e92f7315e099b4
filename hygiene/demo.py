"""The demo's hygiene: eight weeks of weekly runs so the trend has a shape, today's run, and one
waiver logged as a decision. Earlier weeks are judged by today's records as of that Monday (the
demo builds its history in one go), so the trend shows dates passing: actions falling overdue,
reviews falling due. Idempotent: a capability that already has demo runs gets none again."""

import datetime

from django.utils import timezone

from hygiene.choices import Severity, Trigger
from hygiene.models import Run, Waiver
from hygiene.services import can_waive, hygiene_run, waiver_grant

WEEKS = 8
WAIVER_CAPABILITY = "cc-agent-assist"


def seed(context) -> None:
    today = timezone.localdate()
    monday = today - datetime.timedelta(days=today.weekday())
    runs = 0
    for capability in context.capabilities.values():
        if Run.objects.filter(capability=capability, trigger=Trigger.DEMO).exists():
            continue
        for weeks_back in range(WEEKS, 0, -1):
            day = monday - datetime.timedelta(weeks=weeks_back)
            at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(6, 30)))
            hygiene_run(capability=capability, trigger=Trigger.DEMO, today=day, at=at)
            runs += 1
        hygiene_run(capability=capability, trigger=Trigger.DEMO)
        runs += 1
    waived = _waive_one(context)
    print(f"Hygiene: {runs} runs, {waived} waiver(s).")


def _waive_one(context) -> int:
    """The PM accepts one low finding for a month: a risk-acceptance decision in the log."""
    capability = context.capabilities.get(WAIVER_CAPABILITY)
    pm = getattr(context, "logins", {}).get("pm")
    if capability is None or pm is None or Waiver.objects.filter(capability=capability).exists():
        return 0
    run = Run.objects.for_capability(capability).first()
    candidates = run.findings.filter(severity=Severity.LOW).order_by("id") if run else []
    for finding in candidates:
        if can_waive(pm, finding):
            waiver_grant(
                finding=finding,
                by=pm,
                reason="Contract owners are re-planning reviews with the Q3 definition change; "
                "accepted until the monthly value review.",
                expires_on=timezone.localdate() + datetime.timedelta(days=30),
            )
            return 1
    return 0
