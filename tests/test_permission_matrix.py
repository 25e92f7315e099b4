"""The permission matrix (issue 9, security): every mutating page and API route, called as each
role on the record's capability, as organisation-wide viewer, executive and AI PM, as an AI PM of
another capability and as nobody signed in.

- The routes come from walking Django's URL resolver and the DRF routers
  (``permission_matrix.mutating_routes``); a POST/PUT/PATCH/DELETE route missing from
  ``REGISTRY`` fails ``test_every_mutating_route_is_classified``, so a new endpoint cannot be
  forgotten.
- Who may call each route comes from the playbook's RACI table (``permission_matrix.RACI``, the
  printed table, never ``productops.permissions``), plus the few rules the playbook adds on top
  of a letter (who approves a release, who verifies an action, who lifts a stop hold), each
  written out beside its route.
- A refused call answers 401/403 (API), a redirect to the login page or 403 (pages), or 404 when
  the person may not even read the record; and the database is exactly as it was (every table's
  rows and contents, history included). An allowed call is not refused.

One test per cell (``route-METHOD-actor``); the records are built once per module and every
cell runs in its own savepoint, rolled back after it.
"""

import contextlib
import datetime
import logging
import re
import tempfile

import pytest
from django.db import transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from productops.roles import RACI as PRODUCT_RACI
from tests.permission_matrix import (
    ACTOR_BY_NAME,
    ACTORS,
    ANY_PERSON,
    NOBODY,
    RACI,
    Case,
    Right,
    changed_tables,
    changers,
    fingerprint,
    fingerprint_sql,
    letter,
    mutating_routes,
    watched_tables,
)
from tests.permission_world import SLUG, build_world

# --- rights, from the table ---------------------------------------------------------------------

CHARTER_ORG = letter("charter", org_only=True, label="A/R charter, organisation-wide")
CHARTER = letter("charter")
BACKLOG = letter("weekly_ops_review")  # 16: the backlog is governed by the weekly ops review
ACTIONS = letter("action_closure")
DECISIONS = letter("decision_log")
ASSUMPTIONS = letter("assumption_ledger")
CONTRACTS = letter("metric_contract")
RELEASES = letter("release_calendar")
EXPERIMENTS = letter("experiment_registry")
INCIDENTS = letter("incident_learning")
WEEKLY_FORUM = letter("weekly_ops_review")  # a forum is run by A/R on its cadence's row
MONTHLY = letter("monthly_value_review")
PORTFOLIO_ORG = letter("quarterly_portfolio_review", org_only=True, label="A/R QPR, organisation-wide")
PORTFOLIO = letter("quarterly_portfolio_review")
WEBHOOK_ADMIN = CHARTER_ORG  # the organisation's admin: A/R on the charter across the organisation


def both(*activities, label="") -> Right:
    """A/R on each of several rows (a move that also writes another register)."""
    roles = frozenset.intersection(*(changers(activity) for activity in activities))
    return Right(label=label or " & ".join(f"A/R {a}" for a in activities), roles=roles, finer=True)


# Playbook 12 / SPEC: the risk partner approves or holds releases; the calendar's keepers and the
# AI PM who owns the product approve too. The owner never approves their own (the owner here is
# nobody of the matrix).
APPROVERS = letter("release_calendar", extra={"ai_pm", "risk_compliance"})
ROLLBACK = letter("release_calendar", extra={"ai_pm", "risk_compliance"})
IMPACT_REVIEWERS = letter("release_calendar", extra={"ai_pm"})
# Evidence items are attested by every role the release calendar consults for its evidence
# (the eval from analytics, the legal review from risk, frontline communication from ops).
ATTESTERS = letter(
    "release_calendar", extra={"ai_pm", "risk_compliance", "business_analyst", "ops", "analytics"}
)
# Playbook 14: a reviewer who is not the owner verifies closure evidence; with no reviewer named,
# the accountable role (A on action closure).
VERIFIERS = Right(
    label="A action_closure (no reviewer named)",
    roles=frozenset(role for role, mark in RACI["action_closure"].items() if "A" in mark),
    finer=True,
)
EVIDENCE_OWNER = Right(label="the action's owner", persons=frozenset({"ops"}), finer=True)
STOP_HOLD_LIFTERS = Right(label="Risk / Compliance", roles=frozenset({"risk_compliance"}), finer=True)
# Playbook 17: waiving a hygiene finding accepts the gap, the accountable role's call (A on the
# check's row; the world's finding is on a row whose A is the AI PM).
FINDING_WAIVERS = Right(label="A on the check's row (AI PM)", roles=frozenset({"ai_pm"}), finer=True)
EXPERIMENT_DECIDERS = both("experiment_registry", "decision_log")
MEETING_DECISION = both("weekly_ops_review", "decision_log")
MEETING_ACTION = both("weekly_ops_review", "action_closure")
# The forum's decision on a memo is logged and reviews the memo's assumptions (rule 6.2): A/R on
# all three rows.
MEMO_DECIDERS = both("monthly_value_review", "decision_log", "assumption_ledger")


# --- how a route names its record ---------------------------------------------------------------


def rid(key):
    return lambda w: {"readable_id": w[key].readable_id}


def pk(key):
    return lambda w: {"pk": w[key].pk}


def metric(key):
    return lambda w: {"metric_id": w[key].metric_id}


def slug(w):
    return {"slug": SLUG}


def quarter(w):
    return {"quarter": w["quarter"]}


def today(days=0):
    return (timezone.localdate() + datetime.timedelta(days=days)).isoformat()


def monday_before():
    day = timezone.localdate() - datetime.timedelta(days=7)
    return (day - datetime.timedelta(days=day.weekday())).isoformat()


# --- bodies -------------------------------------------------------------------------------------


def action_form(w):
    return {
        "capability": w["capability"].pk,
        "action": "Sample 20 more calls",
        "source_kind": "other",
        "owner": w.people["ops"].pk,
        "due_date": today(14),
        "closure_criterion": "Sample reviewed",
        "trigger_kind": "",
    }


def action_api(w):
    return {
        "capability": SLUG,
        "action": "Sample 20 more calls",
        "owner": w.people["ops"].username,
        "due_date": today(14),
        "closure_criterion": "Sample reviewed",
    }


def decision_form(w):
    return {
        "capability": w["capability"].pk,
        "type": "continue",
        "decision": "Keep going.",
        "owner": w["lead"].pk,
    }


def decision_api(w):
    return {"capability": SLUG, "type": "continue", "decision": "Keep going.", "owner": w["lead"].username}


def assumption_form(w):
    return {
        "capability": w["capability"].pk,
        "statement": "Supervisors coach with the dashboard.",
        "type": "value",
        "owner": w["lead"].pk,
        "confidence": "medium",
        "expires_on": today(90),
    }


def assumption_api(w):
    return {**assumption_form(w), "capability": SLUG, "owner": w["lead"].username}


def contract_fields(w):
    return {
        "metric_id": "cc_agent_assist.new_metric",
        "name": "New metric",
        "category": "outcome",
        "business_question": "Does it help?",
        "numerator": "Calls helped",
        "unit": "%",
        "direction": "lower",
        "target": 10,
        "warning": 12,
        "breach": 15,
        "warning_action_owner_role": "ai_pm",
        "warning_action_due_days": 7,
        "breach_action_owner_role": "ai_pm",
        "breach_action_due_days": 3,
        "closure_periods": 2,
        "grain": "week",
        "min_sample_size": 100,
        "consecutive_periods": 1,
        "evidence_level": "E3",
    }


def release_form(w):
    return {
        "capability": w["capability"].pk,
        "object_type": "prompt",
        "change": "Tone change",
        "version_to": "v13",
        "planned_date": today(10),
        "owner": w["lead"].pk,
    }


def release_api(w):
    return {**release_form(w), "capability": SLUG, "owner": w["lead"].username}


def experiment_form(w):
    return {
        "capability": w["capability"].pk,
        "title": "Greeting test",
        "hypothesis": "A shorter greeting cuts AHT",
        "population": "Billing calls",
        "treatment": "Short greeting",
        "control_or_baseline": "Current greeting",
        "primary_metric": w["contract_aht"].pk,
        "start_date": today(3),
        "planned_end_date": today(20),
        "owner": w["lead"].pk,
        "arm_key": "arm",
        "treatment_value": "treatment",
        "control_value": "control",
    }


def experiment_api(w):
    return {
        **experiment_form(w),
        "capability": SLUG,
        "primary_metric": w["contract_aht"].metric_id,
        "owner": w["lead"].username,
    }


def incident_form(w):
    return {
        "capability": w["capability"].pk,
        "title": "Wrong fee quoted",
        "source": "complaint",
        "occurred_on": today(-1),
        "severity": "sev3",
    }


def incident_api(w):
    return {**incident_form(w), "capability": SLUG}


def forum_form(w):
    return {
        "name": "Another weekly review",
        "cadence": "weekly_ops_review",
        "owner": w["lead"].pk,
        "scope": [w["capability"].pk],
        "frequency": "weekly",
        "weekday": "1",
        "time_of_day": "10:00",
        "duration_minutes": 60,
    }


def forum_api(w):
    return {**forum_form(w), "scope": [SLUG], "weekday": 1}


def corrective_action(w):
    return {
        "action": "Retrain agents",
        "owner": w.people["ops"].pk,
        "due_date": today(10),
        "closure_criterion": "QA sample clean",
        "trigger_kind": "recheck_date",
        "recheck_on": today(60),
    }


def backlog_form(w):
    return {
        "title": "Fee answer citations",
        "item_class": "outcome_improvement",
        "expected_metric": w["contract"].pk,
        "expected_direction": "down",
        "evidence": w["contract"].metric_id,
        **dict.fromkeys(
            [
                "outcome_impact",
                "risk_reduction",
                "adoption_unblock",
                "cost_capacity_relief",
                "evidence_need",
                "platform_reuse",
                "delivery_effort",
                "change_saturation",
            ],
            1,
        ),
    }


def capability_form(w):
    return {
        "name": "Complaint intelligence",
        "slug": "complaint-intel",
        "workflow": "Complaints",
        "target_users": "Complaint handlers",
        "risk_tier": "high",
        "lifecycle_status": "pilot",
    }


def memo_decision(w):
    reviews = {}
    for proposal in (w["memo_sent"].fields or {}).get("assumption_update") or []:
        reviews[f"assumption_{proposal['pk']}_status"] = proposal["proposed"]
        reviews[f"assumption_{proposal['pk']}_evidence"] = "The memo's figures"
    return {"decision": "continue", "text": "Continue.", "owner": w["lead"].pk, **reviews}


def page(right, target=None, data=None, **extra):
    return Case(right=right, kwargs=target, data=data or {}, fmt="form", extra=extra)


def api(right, target=None, data=None, **extra):
    return Case(right=right, kwargs=target, data=data or {}, fmt="json", extra=extra)


# --- the registry: every mutating route, its record and its right --------------------------------

SESSION_MOVES = {
    "mark-pack-sent": "session_scheduled",
    "start": "session_scheduled",
    "end-meeting": "session_running",
    "publish-minutes": "session_held",
}

REGISTRY: dict[tuple[str, str], Case] = {
    # Signing in and out, and a person's own tokens: anyone signed in, for themselves.
    ("login", "POST"): None,  # public by nature: the login form
    ("logout", "POST"): None,  # ends the caller's own session
    ("api-tokens", "POST"): page(ANY_PERSON, None, {"name": "laptop", "scope": "read"}),
    # Someone else's token: nobody but its holder (not an actor) revokes it.
    ("api-token-revoke", "POST"): page(NOBODY, pk("token")),
    ("releases:calendar-token-regenerate", "POST"): page(ANY_PERSON),
    # portfolio
    ("portfolio:capability-create", "POST"): page(CHARTER_ORG, None, capability_form),
    ("portfolio:capability-edit", "POST"): page(
        CHARTER, slug, lambda w: {**capability_form(w), "slug": SLUG, "name": "Agent assist"}
    ),
    ("portfolio:backlog-create", "POST"): page(BACKLOG, slug, backlog_form),
    ("portfolio:backlog-edit", "POST"): page(BACKLOG, rid("backlog_item"), backlog_form),
    ("portfolio:backlog-move", "POST"): page(BACKLOG, rid("backlog_item"), {"status": "in_progress"}),
    ("api:capability-list", "POST"): api(CHARTER_ORG, None, capability_form),
    ("api:capability-detail", "PUT"): api(
        CHARTER, slug, lambda w: {**capability_form(w), "slug": SLUG, "name": "Agent assist"}
    ),
    ("api:capability-detail", "PATCH"): api(CHARTER, slug, {"workflow": "Billing calls"}),
    ("api:backlog-item-list", "POST"): api(
        BACKLOG,
        None,
        lambda w: {**backlog_form(w), "capability": SLUG, "expected_metric": w["contract"].metric_id},
    ),
    ("api:backlog-item-detail", "PUT"): api(
        BACKLOG,
        rid("backlog_item"),
        lambda w: {**backlog_form(w), "expected_metric": w["contract"].metric_id},
    ),
    ("api:backlog-item-detail", "PATCH"): api(
        BACKLOG, rid("backlog_item"), {"title": "Citations in fee answers"}
    ),
    ("api:backlog-item-move", "POST"): api(BACKLOG, rid("backlog_item"), {"status": "in_progress"}),
    # actions
    ("actions:action-create", "POST"): page(ACTIONS, None, action_form, by_form=True),
    ("actions:action-edit", "POST"): page(ACTIONS, rid("action_open"), action_form),
    ("actions:action-start", "POST"): page(ACTIONS, rid("action_open")),
    ("actions:action-block", "POST"): page(ACTIONS, rid("action_in_progress"), {"reason": "Waiting"}),
    ("actions:action-unblock", "POST"): page(ACTIONS, rid("action_blocked")),
    ("actions:action-submit-evidence", "POST"): page(
        EVIDENCE_OWNER, rid("action_in_progress"), {"text": "Done"}
    ),
    ("actions:action-verify", "POST"): page(VERIFIERS, rid("action_awaiting"), {"comment": "OK"}),
    ("actions:action-send-back", "POST"): page(VERIFIERS, rid("action_awaiting"), {"comment": "Short"}),
    ("actions:action-reopen", "POST"): page(ACTIONS, rid("action_closed"), {"reason": "Back up"}),
    ("actions:action-escalate", "POST"): page(
        ACTIONS, rid("action_open"), lambda w: {"to": w["lead"].pk, "reason": "Overdue"}
    ),
    ("api:action-list", "POST"): api(ACTIONS, None, action_api),
    ("api:action-detail", "PUT"): api(ACTIONS, rid("action_open"), action_api),
    ("api:action-detail", "PATCH"): api(ACTIONS, rid("action_open"), {"action": "Sample 60 calls"}),
    ("api:action-start", "POST"): api(ACTIONS, rid("action_open")),
    ("api:action-block", "POST"): api(ACTIONS, rid("action_in_progress"), {"reason": "Waiting"}),
    ("api:action-unblock", "POST"): api(ACTIONS, rid("action_blocked")),
    ("api:action-submit-evidence", "POST"): api(EVIDENCE_OWNER, rid("action_in_progress"), {"text": "Done"}),
    ("api:action-verify", "POST"): api(VERIFIERS, rid("action_awaiting"), {"comment": "OK"}),
    ("api:action-send-back", "POST"): api(VERIFIERS, rid("action_awaiting"), {"comment": "Short"}),
    ("api:action-reopen", "POST"): api(ACTIONS, rid("action_closed"), {"reason": "Back up"}),
    ("api:action-escalate", "POST"): api(
        ACTIONS, rid("action_open"), lambda w: {"to": w["lead"].username, "reason": "Overdue"}
    ),
    # decisions: append-only, superseded instead of edited
    ("decisions:decision-create", "POST"): page(DECISIONS, None, decision_form, by_form=True),
    ("decisions:decision-supersede", "POST"): page(DECISIONS, rid("decision"), decision_form),
    ("api:decision-list", "POST"): api(DECISIONS, None, decision_api),
    ("api:decision-supersede", "POST"): api(DECISIONS, rid("decision"), {"decision": "Restrict instead."}),
    # assumptions
    ("assumptions:assumption-create", "POST"): page(ASSUMPTIONS, None, assumption_form, by_form=True),
    ("assumptions:assumption-edit", "POST"): page(ASSUMPTIONS, rid("assumption"), assumption_form),
    ("assumptions:assumption-review", "POST"): page(
        ASSUMPTIONS, rid("assumption"), {"new_status": "confirmed", "new_evidence": "QA sample"}
    ),
    ("api:assumption-list", "POST"): api(ASSUMPTIONS, None, assumption_api),
    ("api:assumption-detail", "PUT"): api(ASSUMPTIONS, rid("assumption"), assumption_api),
    ("api:assumption-detail", "PATCH"): api(ASSUMPTIONS, rid("assumption"), {"evidence": "More"}),
    ("api:assumption-review", "POST"): api(
        ASSUMPTIONS, rid("assumption"), {"new_status": "confirmed", "new_evidence": "QA sample"}
    ),
    # contracts, signals, observations
    ("contracts:contract-create", "POST"): page(
        CONTRACTS, None, lambda w: {**contract_fields(w), "capability": w["capability"].pk}, by_form=True
    ),
    ("contracts:contract-edit", "POST"): page(
        CONTRACTS,
        metric("contract_draft"),
        lambda w: {
            **contract_fields(w),
            "capability": w["capability"].pk,
            "metric_id": "cc_agent_assist.draft_metric",
        },
    ),
    ("contracts:contract-activate", "POST"): page(CONTRACTS, metric("contract_draft")),
    ("contracts:contract-retire", "POST"): page(CONTRACTS, metric("contract_aht"), {"reason": "Replaced"}),
    ("contracts:signal-lift-hold", "POST"): page(STOP_HOLD_LIFTERS, pk("signal"), {"comment": "Fixed"}),
    ("contracts:observation-import", "POST"): page(CONTRACTS, None, {}, by_form=True),
    ("api:contract-list", "POST"): api(CONTRACTS, None, lambda w: {**contract_fields(w), "capability": SLUG}),
    ("api:contract-detail", "PUT"): api(
        CONTRACTS,
        metric("contract_draft"),
        lambda w: {**contract_fields(w), "capability": SLUG, "metric_id": "cc_agent_assist.draft_metric"},
    ),
    ("api:contract-detail", "PATCH"): api(CONTRACTS, metric("contract_draft"), {"name": "Renamed"}),
    ("api:contract-activate", "POST"): api(CONTRACTS, metric("contract_draft")),
    ("api:contract-retire", "POST"): api(CONTRACTS, metric("contract_aht"), {"reason": "Replaced"}),
    ("api:signal-lift-hold", "POST"): api(STOP_HOLD_LIFTERS, pk("signal"), {"comment": "Fixed"}),
    ("api:observations-ingest", "POST"): api(
        CONTRACTS,
        None,
        lambda w: [
            {
                "contract": w["contract"].metric_id,
                "period_start": monday_before(),
                "grain": "week",
                "value": 11.0,
                "sample_size": 500,
                "numerator": 55,
                "denominator": 500,
            }
        ],
    ),
    # releases
    ("releases:release-create", "POST"): page(RELEASES, None, release_form, by_form=True),
    ("releases:release-edit", "POST"): page(RELEASES, rid("release_draft"), release_form),
    ("releases:release-impact", "POST"): page(
        IMPACT_REVIEWERS,
        rid("release_released"),
        {"expected_effect": "Fewer repeats", "decision": "keep", "comment": "Held", "periods": 4},
    ),
    ("releases:release-attest", "POST"): page(
        ATTESTERS,
        lambda w: {"readable_id": w["release_draft"].readable_id, "key": w["evidence_key"]},
        {"link": "https://evidence.example/x", "note": "Passed"},
    ),
    ("releases:release-submit", "POST"): page(RELEASES, rid("release_draft")),
    ("releases:release-approve", "POST"): page(APPROVERS, rid("release_submitted"), {"comment": "OK"}),
    ("releases:release-approve-for-canary", "POST"): page(
        APPROVERS, rid("release_submitted"), {"comment": "OK"}
    ),
    ("releases:release-hold", "POST"): page(APPROVERS, rid("release_submitted"), {"comment": "Wait"}),
    ("releases:release-request-changes", "POST"): page(
        APPROVERS, rid("release_submitted"), {"comment": "Fix"}
    ),
    ("releases:release-reject", "POST"): page(APPROVERS, rid("release_submitted"), {"comment": "No"}),
    ("releases:release-deploy", "POST"): page(
        RELEASES, rid("release_approved"), lambda w: {"to": "released", "on": today()}
    ),
    ("releases:release-rollback", "POST"): page(ROLLBACK, rid("release_released"), {"reason": "Regression"}),
    ("api:release-list", "POST"): api(RELEASES, None, release_api),
    ("api:release-detail", "PUT"): api(RELEASES, rid("release_draft"), release_api),
    ("api:release-detail", "PATCH"): api(RELEASES, rid("release_draft"), {"change": "Tone change v2"}),
    ("api:release-attest", "POST"): api(
        ATTESTERS,
        rid("release_draft"),
        lambda w: {"item": w["evidence_key"], "link": "https://evidence.example/x"},
    ),
    ("api:release-submit", "POST"): api(RELEASES, rid("release_draft")),
    ("api:release-approve", "POST"): api(APPROVERS, rid("release_submitted"), {"comment": "OK"}),
    ("api:release-approve-for-canary", "POST"): api(APPROVERS, rid("release_submitted"), {"comment": "OK"}),
    ("api:release-hold", "POST"): api(APPROVERS, rid("release_submitted"), {"comment": "Wait"}),
    ("api:release-request-changes", "POST"): api(APPROVERS, rid("release_submitted"), {"comment": "Fix"}),
    ("api:release-reject", "POST"): api(APPROVERS, rid("release_submitted"), {"comment": "No"}),
    ("api:release-deploy", "POST"): api(RELEASES, rid("release_approved"), {"to": "released"}),
    ("api:release-rollback", "POST"): api(ROLLBACK, rid("release_released"), {"reason": "Regression"}),
    ("api:release-impact-review", "POST"): api(
        IMPACT_REVIEWERS, rid("release_released"), {"decision": "keep"}
    ),
    # experiments
    ("experiments:experiment-create", "POST"): page(EXPERIMENTS, None, experiment_form, by_form=True),
    ("experiments:experiment-edit", "POST"): page(EXPERIMENTS, rid("experiment_proposed"), experiment_form),
    ("experiments:experiment-start", "POST"): page(EXPERIMENTS, rid("experiment_proposed")),
    ("experiments:experiment-readout", "POST"): page(EXPERIMENTS, rid("experiment_running")),
    ("experiments:experiment-extend", "POST"): page(
        EXPERIMENTS, rid("experiment_readout"), lambda w: {"planned_end_date": today(30)}
    ),
    ("experiments:experiment-decide", "POST"): page(
        EXPERIMENT_DECIDERS,
        rid("experiment_readout"),
        {"decision": "continue", "comment": "Flat", "assumption_status": ""},
    ),
    ("api:experiment-list", "POST"): api(EXPERIMENTS, None, experiment_api),
    ("api:experiment-detail", "PUT"): api(EXPERIMENTS, rid("experiment_proposed"), experiment_api),
    ("api:experiment-detail", "PATCH"): api(
        EXPERIMENTS, rid("experiment_proposed"), {"title": "Greeting v2"}
    ),
    ("api:experiment-start", "POST"): api(EXPERIMENTS, rid("experiment_proposed")),
    ("api:experiment-readout", "POST"): api(EXPERIMENTS, rid("experiment_running")),
    ("api:experiment-extend", "POST"): api(
        EXPERIMENTS, rid("experiment_readout"), lambda w: {"planned_end_date": today(30)}
    ),
    ("api:experiment-decide", "POST"): api(
        EXPERIMENT_DECIDERS, rid("experiment_readout"), {"decision": "continue", "comment": "Flat"}
    ),
    # incidents
    ("incidents:incident-create", "POST"): page(INCIDENTS, None, incident_form, by_form=True),
    ("incidents:incident-contain", "POST"): page(
        INCIDENTS, rid("incident_reported"), {"immediate_action": "Paused"}
    ),
    ("incidents:incident-record-root-causes", "POST"): page(
        INCIDENTS,
        rid("incident_reported"),
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "0",
            "form-0-cause_class": "knowledge",
            "form-0-notes": "Old",
        },
    ),
    ("incidents:incident-add-corrective-action", "POST"): page(
        INCIDENTS, rid("incident_root_cause"), corrective_action
    ),
    ("incidents:incident-agree-corrective-actions", "POST"): page(INCIDENTS, rid("incident_root_cause")),
    ("incidents:incident-add-learning-item", "POST"): page(
        INCIDENTS, rid("incident_agreed"), {"kind": "eval", "text": "Eval extended"}
    ),
    ("incidents:incident-record-learning", "POST"): page(INCIDENTS, rid("incident_agreed")),
    ("incidents:incident-record-forum-review", "POST"): page(
        INCIDENTS, rid("incident_learning"), lambda w: {"reviewed_on": today(), "note": "Reviewed"}
    ),
    ("incidents:incident-set-watchlist", "POST"): page(
        INCIDENTS, rid("incident_learning"), {"sample_size": 50}
    ),
    ("incidents:incident-close", "POST"): page(INCIDENTS, rid("incident_learning")),
    ("api:incident-list", "POST"): api(INCIDENTS, None, incident_api),
    ("api:incident-contain", "POST"): api(
        INCIDENTS, rid("incident_reported"), {"immediate_action": "Paused"}
    ),
    ("api:incident-root-causes", "POST"): api(
        INCIDENTS, rid("incident_reported"), {"causes": [{"cause_class": "knowledge", "notes": "Old"}]}
    ),
    ("api:incident-corrective-actions", "POST"): api(
        INCIDENTS,
        rid("incident_root_cause"),
        lambda w: {
            "action": "Retrain agents",
            "owner": w.people["ops"].username,
            "due_date": today(10),
            "closure_criterion": "QA sample clean",
            "reopen_trigger": {"kind": "recheck_date", "recheck_on": today(60)},
        },
    ),
    ("api:incident-agree", "POST"): api(INCIDENTS, rid("incident_root_cause")),
    ("api:incident-learning-items", "POST"): api(
        INCIDENTS, rid("incident_agreed"), {"kind": "eval", "text": "Eval"}
    ),
    ("api:incident-record-learning", "POST"): api(INCIDENTS, rid("incident_agreed")),
    ("api:incident-forum-review", "POST"): api(
        INCIDENTS, rid("incident_learning"), lambda w: {"reviewed_on": today(), "note": "Reviewed"}
    ),
    ("api:incident-watchlist", "POST"): api(INCIDENTS, rid("incident_learning"), {"sample_size": 50}),
    ("api:incident-close", "POST"): api(INCIDENTS, rid("incident_learning")),
    # forums: a forum is run by its owner or A/R on its cadence's row (weekly ops review here)
    ("forums:forum-create", "POST"): page(WEEKLY_FORUM, None, forum_form, by_form=True),
    ("forums:forum-edit", "POST"): page(WEEKLY_FORUM, pk("forum"), forum_form),
    ("api:forum-list", "POST"): api(WEEKLY_FORUM, None, forum_api),
    ("api:forum-detail", "PUT"): api(WEEKLY_FORUM, pk("forum"), forum_api),
    ("api:forum-detail", "PATCH"): api(WEEKLY_FORUM, pk("forum"), {"name": "Weekly ops review (north)"}),
    ("forums:session-decision", "POST"): page(
        WEEKLY_FORUM, pk("session_scheduled"), {"decision_requested": "Scale to the north team?"}
    ),
    **{
        (f"forums:session-{move}", "POST"): page(WEEKLY_FORUM, pk(key)) for move, key in SESSION_MOVES.items()
    },
    **{
        (f"api:forum-session-{move}", "POST"): api(WEEKLY_FORUM, pk(key))
        for move, key in SESSION_MOVES.items()
    },
    ("api:forum-session-detail", "PUT"): api(
        WEEKLY_FORUM, pk("session_scheduled"), {"decision_requested": "Scale to the north team?"}
    ),
    ("api:forum-session-detail", "PATCH"): api(
        WEEKLY_FORUM, pk("session_scheduled"), {"decision_requested": "Scale to the north team?"}
    ),
    ("forums:session-pack-build", "POST"): page(WEEKLY_FORUM, pk("session_scheduled"), heavy=True),
    ("forums:session-pack-send", "POST"): page(WEEKLY_FORUM, pk("session_scheduled"), heavy=True),
    ("api:forum-session-pack-build", "POST"): api(WEEKLY_FORUM, pk("session_scheduled"), heavy=True),
    ("api:forum-session-pack-send", "POST"): api(WEEKLY_FORUM, pk("session_scheduled"), heavy=True),
    ("forums:session-record-decision", "POST"): page(
        MEETING_DECISION,
        pk("session_running"),
        lambda w: {**decision_form(w), "agenda_block": "Decision requests"},
        by_form=True,
    ),
    ("api:forum-session-record-decision", "POST"): api(
        MEETING_DECISION,
        pk("session_running"),
        lambda w: {**decision_api(w), "owner": w["lead"].pk, "agenda_block": "Decision requests"},
    ),
    ("forums:session-action-create", "POST"): page(
        MEETING_ACTION, pk("session_running"), action_form, by_form=True
    ),
    ("api:forum-session-raise-action", "POST"): api(
        MEETING_ACTION, pk("session_running"), lambda w: {**action_api(w), "owner": w.people["ops"].pk}
    ),
    ("forums:session-action-move", "POST"): page(
        ACTIONS,
        lambda w: {
            "pk": w["session_running"].pk,
            "readable_id": w["action_in_progress"].readable_id,
            "move": "block",
        },
        {"reason": "Waiting for data"},
    ),
    ("api:forum-session-move-action", "POST"): api(
        ACTIONS,
        pk("session_running"),
        lambda w: {"action": w["action_in_progress"].readable_id, "move": "block", "reason": "Waiting"},
    ),
    ("forums:session-release-approve", "POST"): page(
        APPROVERS,
        lambda w: {"pk": w["session_running"].pk, "readable_id": w["release_submitted"].readable_id},
        {"comment": "OK"},
    ),
    ("api:forum-session-approve-release", "POST"): api(
        APPROVERS,
        pk("session_running"),
        lambda w: {"release": w["release_submitted"].readable_id, "comment": "OK"},
    ),
    ("forums:session-attendance", "POST"): page(
        WEEKLY_FORUM, pk("session_running"), lambda w: {"present": [w["lead"].pk]}
    ),
    ("api:forum-session-attendance", "POST"): api(
        WEEKLY_FORUM, pk("session_running"), lambda w: {"present": [w["lead"].pk]}
    ),
    ("forums:session-note", "POST"): page(
        WEEKLY_FORUM, pk("session_running"), {"block": "Decision requests", "text": "Noted"}
    ),
    ("api:forum-session-notes", "POST"): api(
        WEEKLY_FORUM, pk("session_running"), {"block": "Decision requests", "text": "Noted"}
    ),
    ("forums:session-portfolio-review", "POST"): page(PORTFOLIO_ORG, pk("session_scheduled"), quarter),
    # the monthly value review
    ("forums:memo-generate", "POST"): page(
        MONTHLY,
        None,
        lambda w: {"capability": w["capability"].pk, "month": w["month"].strftime("%Y-%m")},
        by_form=True,
    ),
    ("forums:memo-edit", "POST"): page(MONTHLY, pk("memo_draft"), {"recommendation": "Scale"}),
    ("forums:memo-regenerate", "POST"): page(MONTHLY, pk("memo_draft")),
    ("forums:memo-send", "POST"): page(MONTHLY, pk("memo_draft")),
    ("forums:memo-decide", "POST"): page(MEMO_DECIDERS, pk("memo_sent"), memo_decision),
    ("api:value-memo-generate", "POST"): api(
        MONTHLY, None, lambda w: {"capability": SLUG, "month": w["month"].strftime("%Y-%m")}
    ),
    ("api:value-memo-edit", "POST"): api(MONTHLY, pk("memo_draft"), {"recommendation": "Scale"}),
    ("api:value-memo-send", "POST"): api(MONTHLY, pk("memo_draft")),
    ("api:value-memo-decide", "POST"): api(
        MEMO_DECIDERS,
        pk("memo_sent"),
        lambda w: {"decision": "continue", "text": "Continue.", "owner": w["lead"].pk},
    ),
    # the quarterly portfolio review
    ("forums:portfolio-review-open", "POST"): page(PORTFOLIO_ORG, None, quarter),
    ("forums:portfolio-review-close", "POST"): page(PORTFOLIO_ORG, quarter),
    ("forums:scorecard-row-rate", "POST"): page(
        PORTFOLIO, pk("scorecard_row"), {"dimension": "net_value", "rating": 4, "note": "Good"}
    ),
    ("forums:scorecard-row-decide", "POST"): page(PORTFOLIO, pk("scorecard_row"), {"decision": "fund"}),
    ("api:portfolio-review-open", "POST"): api(PORTFOLIO_ORG, None, quarter),
    ("api:portfolio-review-close", "POST"): api(PORTFOLIO_ORG, quarter),
    ("api:scorecard-row-rate", "POST"): api(
        PORTFOLIO, pk("scorecard_row"), {"dimension": "net_value", "rating": 4, "note": "Good"}
    ),
    ("api:scorecard-row-decide", "POST"): api(PORTFOLIO, pk("scorecard_row"), {"decision": "fund"}),
    # webhooks: the organisation's admin only
    ("webhooks:endpoint-create", "POST"): page(
        WEBHOOK_ADMIN, None, {"name": "Chat 2", "url": "http://127.0.0.1:9/two", "events": ["signal.opened"]}
    ),
    ("webhooks:endpoint-edit", "POST"): page(
        WEBHOOK_ADMIN,
        pk("endpoint"),
        {"name": "Chat", "url": "http://127.0.0.1:9/hooks", "events": ["signal.opened"]},
    ),
    ("webhooks:endpoint-toggle", "POST"): page(WEBHOOK_ADMIN, pk("endpoint")),
    ("webhooks:endpoint-rotate-secret", "POST"): page(WEBHOOK_ADMIN, pk("endpoint")),
    ("webhooks:endpoint-ping", "POST"): page(WEBHOOK_ADMIN, pk("endpoint")),
    ("webhooks:delivery-retry", "POST"): page(WEBHOOK_ADMIN, pk("delivery")),
    ("api:webhook-endpoint-list", "POST"): api(
        WEBHOOK_ADMIN, None, {"name": "Chat 2", "url": "http://127.0.0.1:9/two", "events": ["signal.opened"]}
    ),
    ("api:webhook-endpoint-detail", "PUT"): api(
        WEBHOOK_ADMIN,
        pk("endpoint"),
        {"name": "Chat", "url": "http://127.0.0.1:9/hooks", "events": ["signal.opened"]},
    ),
    ("api:webhook-endpoint-detail", "PATCH"): api(WEBHOOK_ADMIN, pk("endpoint"), {"name": "Chat ops"}),
    ("api:webhook-endpoint-ping", "POST"): api(WEBHOOK_ADMIN, pk("endpoint")),
    ("api:webhook-endpoint-rotate-secret", "POST"): api(WEBHOOK_ADMIN, pk("endpoint")),
    ("api:webhook-delivery-retry", "POST"): api(WEBHOOK_ADMIN, pk("delivery")),
}

REGISTRY.update(
    {
        ("login", "PUT"): None,  # LoginView answers PUT as POST: the public login form
        # hygiene: the weekly ops review runs the checks; a waiver is the accountable role's call
        ("hygiene:run", "POST"): page(letter("weekly_ops_review"), slug),
        ("hygiene:finding-waive", "POST"): page(
            FINDING_WAIVERS,
            pk("finding"),
            lambda w: {
                f"waive-{w['finding'].pk}-reason": "Known gap",
                f"waive-{w['finding'].pk}-expires_on": today(30),
            },
        ),
        ("api:hygiene-finding-waive", "POST"): api(
            FINDING_WAIVERS, pk("finding"), lambda w: {"reason": "Known gap", "expires_on": today(30)}
        ),
        # readiness: the onboarding checklist belongs to the charter
        ("readiness:onboarding-tick", "POST"): page(
            CHARTER, lambda w: {"slug": SLUG, "item": "d08"}, {"note": "Done in the kickoff"}
        ),
    }
)

# Reasons a route is in the registry without cells (None above).
UNCELLED = {
    ("login", "POST"): "the login form is public; its rate limit has its own test",
    ("logout", "POST"): "ends the caller's own session and changes no record",
    ("login", "PUT"): "the login form is public",
}

CELLS = [
    pytest.param(key, actor.name, id=f"{key[0]}-{key[1]}-{actor.name}")
    for key, case in REGISTRY.items()
    if case is not None
    for actor in ACTORS
]


# --- the tests ----------------------------------------------------------------------------------


def test_the_playbooks_table_is_the_one_the_product_is_built_from():
    assert PRODUCT_RACI == RACI


def test_every_mutating_route_is_classified():
    found = mutating_routes()
    unclassified = sorted(
        f"{method} {route} ({name})"
        for (name, method), route in found.items()
        if (name, method) not in REGISTRY
    )
    assert not unclassified, (
        "mutating routes the permission matrix does not classify (add each to REGISTRY with the "
        f"record it acts on and the right it needs): {unclassified}"
    )
    stale = sorted(f"{method} {name}" for name, method in REGISTRY if (name, method) not in found)
    assert not stale, f"REGISTRY names routes that no longer exist: {stale}"
    assert set(UNCELLED) == {key for key, case in REGISTRY.items() if case is None}


@contextlib.contextmanager
def _quiet(*names):
    """Every refused cell logs a 403 with its traceback; thousands of them cost seconds."""
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The records and people, built once, rolled back when the module ends."""
    with (
        django_db_blocker.unblock(),
        tempfile.TemporaryDirectory() as media,
        override_settings(MEDIA_ROOT=media, EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"),
        pytest.MonkeyPatch.context() as patch,
        _quiet("django.request", "django.security"),
    ):
        # Drawing a pack (Chromium for the charts, WeasyPrint for the PDF) takes a second a call
        # and decides nothing: who may build or send a pack is checked before it.
        patch.setattr("forums.pack_delivery.chart_images", lambda snapshot, **kwargs: {})
        patch.setattr("forums.pack_delivery.render_pack", lambda snapshot, **kwargs: (b"%PDF-1.4 matrix", 1))
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            built = build_world()
            built.fingerprint_sql = fingerprint_sql(watched_tables())
            built.clients = {}
            for name, user in built.people.items():
                client = Client()
                client.force_login(user)
                built.clients[name] = client
            built.clients["anonymous"] = Client()
            # One client per person for the whole module: a new client loads the middleware
            # again (WhiteNoise walks every static file), a tenth of a second each time.
            built.api_clients = {"anonymous": APIClient()}
            for name, user in built.people.items():
                built.api_clients[name] = APIClient()
                built.api_clients[name].force_authenticate(user)
            # Measured once everyone is signed in (signing in writes last_login and the access log).
            built.pristine = fingerprint(built.fingerprint_sql)
            yield built
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)


def _call(world, key, actor_name, case):
    name, method = key
    url = reverse(name, kwargs=case.kwargs(world) if case.kwargs else None)
    data = case.data(world) if callable(case.data) else dict(case.data)
    if name.startswith("api:"):
        client = world.api_clients[actor_name]
        return getattr(client, method.lower())(url, data, format="json")
    assert method == "POST", "pages change data by POST (a form); the API takes PUT/PATCH/DELETE"
    client = world.clients[actor_name]
    client.cookies.pop("messages", None)  # the last cell's messages are not this one's
    return client.post(url, data)


def _refused(response, *, api: bool, finer: bool, unknown_capability: bool = False) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    if (
        unknown_capability
        and response.status_code == 400
        and (b'"capability"' in response.content or b'"contract"' in response.content)
    ):
        # Creating on a capability the person cannot read: it is unknown to them (as a 404 would say).
        return True
    if response.status_code == 405:  # the route takes no change at all (an append-only register)
        return True
    if not api and response.status_code == 302 and response["Location"].startswith("/login/"):
        return True
    if not api and finer and response.status_code in (200, 302, 400):
        # A rule finer than the letter (owner, reviewer, approver), or a form offering only the
        # capabilities the person may change, refuses on the page itself: the form again or a
        # message. What makes it a refusal is that nothing was written (checked by the caller).
        return True
    return False


def _said(response) -> str:
    """What the answer told the person: the JSON, or the page's error texts."""
    if response.get("Content-Type", "").startswith("application/json"):
        return response.content[:300].decode()
    text = response.content.decode(errors="replace")
    found = re.findall(r'class="[^"]*(?:invalid-feedback|alert|errorlist)[^"]*"[^>]*>(.*?)</', text, re.S)
    said = " | ".join(" ".join(re.sub(r"<[^>]+>", " ", item).split()) for item in found)
    return (said or " ".join(re.sub(r"<[^>]+>", " ", text).split())[:200])[:400]


@pytest.mark.parametrize(("key", "actor_name"), CELLS)
def test_cell(world, db, key, actor_name):
    case = REGISTRY[key]
    actor = ACTOR_BY_NAME[actor_name]
    api = key[0].startswith("api:")
    allowed = case.right.allows(actor)
    if allowed:
        response = _call(world, key, actor_name, case)
        body = _said(response)
        assert response.status_code not in (401, 403, 404), (
            f"{actor_name} holds {case.right.label} but was refused: {response.status_code} {body}"
        )
        if not api:
            assert not (response.status_code == 302 and response["Location"].startswith("/login/"))
        return
    # Every cell starts from the world as built (the last one rolled back), measured once.
    before = world.pristine
    response = _call(world, key, actor_name, case)
    after = fingerprint(world.fingerprint_sql)
    # A page whose form offers only the capabilities the person may change refuses the others
    # as an invalid choice (the form again, nothing written).
    finer = case.right.finer or case.extra.get("by_form", False)
    unknown = actor.outsider and case.kwargs is None
    assert _refused(response, api=api, finer=finer, unknown_capability=unknown), (
        f"{actor_name} lacks {case.right.label} but got {response.status_code}: {_said(response)}"
    )
    assert not changed_tables(before, after), (
        f"{actor_name} was refused but changed {changed_tables(before, after)}"
    )


@pytest.mark.parametrize("actor_name", ["ops", "finance", "executive"])
def test_a_memo_decision_refuses_who_may_not_take_it_before_reading_its_input(world, db, actor_name):
    """memo_decide checks every right the decision needs first: Ops and Finance (R on the monthly
    value review, C/I on the decision log) and the Executive (I on the assumption ledger the
    decision reviews) are refused even when the form reviews no assumption, instead of being
    told to review one they could never submit (the page showed that 400 before)."""
    from django.core.exceptions import PermissionDenied

    from forums.memos.services import memo_decide

    with pytest.raises(PermissionDenied):
        memo_decide(
            memo=world["memo_sent"],
            by=world.people[actor_name],
            decision="continue",
            text="Continue.",
            owner=world["lead"],
            assumption_reviews=[],
        )
