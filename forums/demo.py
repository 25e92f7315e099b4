"""The demo organisation's operating calendar: the forums of playbook 6.1, the podcast's
biweekly eval calibration, and their next sessions. Idempotent: forums are found by name."""

import datetime

from django.utils import timezone

from forums import demo_sessions
from forums.choices import Cadence, Frequency, Weekday, WeekOfMonth, default_agenda
from forums.models import Forum
from forums.services import sessions_schedule
from productops.demo_people import upsert

R = "ai_pm", "ai_architect", "business_analyst", "ops", "analytics", "risk_compliance", "platform"

# (name, cadence, owner login or (slug, role), roles, decision types, frequency, weekday, time,
#  week of month, duration, scope slugs)
WEEKLY_SCOPES = ["cc-agent-assist", "complaint-intelligence", "kyc-onboarding"]

ORG_FORUMS = [
    (
        "Daily signal triage",
        Cadence.DAILY_SIGNAL_TRIAGE,
        "ops",
        ["ai_pm", "ai_architect", "ops", "risk_compliance"],
        ["rollback", "risk_acceptance"],
        Frequency.DAILY,
        Weekday.MONDAY,
        datetime.time(9, 15),
        None,
        15,
    ),
    (
        "Monthly value review",
        Cadence.MONTHLY_VALUE_REVIEW,
        "pm",
        ["executive", "ai_pm", "finance", "risk_compliance", "ops", "analytics"],
        # 8.3's decisions as the decision log records them.
        ["scale", "scale_selectively", "restrict", "redesign", "retire", "rollback", "continue", "pause"],
        Frequency.MONTHLY,
        Weekday.WEDNESDAY,
        datetime.time(14, 0),
        WeekOfMonth.FIRST,
        90,
    ),
    (
        "Quarterly portfolio review",
        Cadence.QUARTERLY_PORTFOLIO_REVIEW,
        "exec",
        ["executive", "platform", "risk_compliance", "finance"],
        # 9.3: retire and pause stand beside fund and scale (rule 6.2).
        ["fund", "scale", "scale_selectively", "restrict", "consolidate", "platformize", "pause", "retire"],
        Frequency.QUARTERLY,
        Weekday.THURSDAY,
        datetime.time(10, 0),
        WeekOfMonth.SECOND,
        120,
    ),
    (
        "Release review",
        Cadence.RELEASE_REVIEW,
        "architect",
        ["ai_pm", "risk_compliance", "platform", "ops"],
        ["release_approval", "rollback"],
        Frequency.WEEKLY,
        Weekday.THURSDAY,
        datetime.time(11, 0),
        None,
        45,
    ),
    (
        "Incident review",
        Cadence.INCIDENT_REVIEW,
        "ops",
        ["ai_pm", "ai_architect", "risk_compliance", "ops"],
        ["incident_corrective_action_acceptance"],
        Frequency.WEEKLY,
        Weekday.FRIDAY,
        datetime.time(11, 0),
        None,
        45,
    ),
    (
        "Experiment review",
        Cadence.EXPERIMENT_REVIEW,
        "analyst",
        ["ai_pm", "business_analyst", "analytics", "ops", "risk_compliance"],
        ["continue", "scale", "redesign"],
        Frequency.BIWEEKLY,
        Weekday.WEDNESDAY,
        datetime.time(10, 0),
        None,
        45,
    ),
    (
        "Biweekly eval calibration",
        Cadence.BIWEEKLY_EVAL_CALIBRATION,
        "architect",
        ["ai_architect", "ai_pm", "analytics", "risk_compliance"],
        ["metric_definition_change", "continue"],
        Frequency.BIWEEKLY,
        Weekday.MONDAY,
        datetime.time(15, 0),
        None,
        60,
    ),
]


def _anchor() -> datetime.date:
    # A fixed anchor keeps the fortnights and quarters stable from one run to the next.
    return datetime.date(2026, 1, 5)


def seed(context) -> None:
    now = timezone.now()
    for name, cadence, owner, roles, decisions, frequency, weekday, time, nth, minutes in ORG_FORUMS:
        forum = upsert(
            Forum,
            {"name": name},
            {
                "cadence": cadence,
                "owner": context.logins[owner],
                "attendee_roles": roles,
                "decision_types": decisions,
                "frequency": frequency,
                "weekday": weekday,
                "time_of_day": time,
                "week_of_month": nth,
                "anchor_date": _anchor(),
                "duration_minutes": minutes,
            },
        )
        if not forum.agenda:
            forum.agenda = default_agenda(cadence)
            forum.save(update_fields=["agenda", "updated_at"])
        sessions_schedule(forum=forum, now=now)

    for index, slug in enumerate(WEEKLY_SCOPES):
        capability = context.capabilities[slug]
        forum = upsert(
            Forum,
            {"name": f"Weekly ops review — {capability.name}"},
            {
                "cadence": Cadence.WEEKLY_OPS_REVIEW,
                # The demo's AI PM login runs the weekly reviews of her three capabilities.
                "owner": context.logins["pm"],
                "attendee_roles": list(R),
                "decision_types": ["continue", "restrict", "release_approval", "rollback"],
                "frequency": Frequency.WEEKLY,
                "weekday": Weekday.TUESDAY,
                "time_of_day": datetime.time(10 + index, 0),
                "week_of_month": None,
                "anchor_date": _anchor(),
                "duration_minutes": 75,
                "agenda": default_agenda(Cadence.WEEKLY_OPS_REVIEW),
            },
        )
        forum.scope.set([capability])
        forum.attendees.set([context.owners[(slug, role)] for role in R if (slug, role) in context.owners])
        sessions_schedule(forum=forum, now=now)
    demo_sessions.seed(context, now=now)
