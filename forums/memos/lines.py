"""The words of the memo's lines (playbook 8.4): what people read, and may edit while the memo
is a draft, under each heading, written from the month's figures and records and from the
matrix's recommendation."""

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forums.memos.figures import _join, _level_word, _movement_words, _no_contract, _ref, _trend_sentence
from forums.memos.matrix import WORDS, MatrixResult
from forums.memos.month import regressions_in_words
from forums.memos.sections import LIST_LIMIT, SEVERE


def _figure_lines(figures: list[dict], month_label: str, empty: str) -> str:
    return _join((_trend_sentence(f, month_label) for f in figures), empty)


def _recommendation_text(result: dict) -> str:
    return gettext("%(decision)s — pattern: %(pattern)s") % {
        "decision": result["label"],
        "pattern": result["pattern"],
    }


def _memo_lines(
    *,
    capability,
    fields,
    own,
    outcomes,
    primary,
    result,
    session,
    next_session,
    month_label,
    complaint_counts,
) -> dict:
    """The text of every line of 8.4 (what people read and may edit while it is a draft)."""
    from portfolio.choices import LifecycleStatus, RiskTier

    result = result.as_dict() if isinstance(result, MatrixResult) else result
    meta = fields["meta"]
    version_set = capability.current_version_set or {}
    lines: dict[str, dict[str, str]] = {}
    lines["capability"] = {
        "product": gettext("%(name)s (%(tier)s risk, %(status)s)")
        % {
            "name": capability.name,
            "tier": str(RiskTier(capability.risk_tier).label).lower(),
            "status": str(LifecycleStatus(capability.lifecycle_status).label).lower(),
        },
        "workflow": capability.workflow,
        "target_population": " — ".join(
            part for part in [capability.target_users, capability.case_types] if part
        ),
        "version_set": ", ".join(f"{key}: {value}" for key, value in sorted(version_set.items()))
        or gettext("No release has been deployed through the release calendar yet."),
    }
    lines["decision_requested"] = {
        "recommendation": _recommendation_text(result),
        "deadline": (
            timezone.localtime(session.scheduled_at).strftime("%Y-%m-%d %H:%M")
            if session
            else gettext("The next monthly value review (no session chosen yet).")
        ),
        "owner": meta["owner"] or "—",
    }

    pre_ai = (
        gettext("Pre-AI baseline: %(text)s") % {"text": capability.baseline_outcome}
        if capability.baseline_outcome
        else ""
    )
    no_outcome = _no_contract(_("the outcome"))
    lines["outcome"] = {
        "baseline": _join(
            [pre_ai]
            + [
                gettext("%(ref)s: %(value)s (%(periods)s)")
                % {"ref": _ref(f), "value": f["baseline_text"], "periods": f["baseline_periods"]}
                if f["baseline_periods"]
                else gettext("%(ref)s: no period with enough data before %(month)s")
                % {"ref": _ref(f), "month": month_label}
                for f in outcomes
            ],
            no_outcome,
        ),
        "current": _join(
            (
                gettext("%(ref)s: %(value)s in %(month)s (%(level)s)")
                % {
                    "ref": _ref(f),
                    "value": f["current_text"],
                    "month": month_label,
                    "level": _level_word(f["level"]),
                }
                for f in outcomes
            ),
            no_outcome,
        ),
        "movement": _join(
            (
                f"{_ref(f)}: {f['movement']['text'] if f['movement']['sufficient'] else '—'}"
                + (f" ({WORDS[f['movement']['moved']]})" if f["movement"]["sufficient"] else "")
                + (
                    " — " + gettext("NOT NET: %(reason)s") % {"reason": f["not_net_reason"]}
                    if f["not_net"]
                    else ""
                )
                for f in outcomes
            ),
            no_outcome,
        ),
        "confidence": _join(
            (
                gettext("%(ref)s: 95%% CI %(ci)s (%(before)s baseline and %(after)s month observations)")
                % {
                    "ref": _ref(f),
                    "ci": f["movement"]["ci_text"],
                    "before": f["movement"]["before_rows"],
                    "after": f["movement"]["after_rows"],
                }
                if f["movement"]["sufficient"]
                else f"{_ref(f)}: {f['movement']['thin']}"
                for f in outcomes
            ),
            no_outcome,
        ),
    }

    adoption = [f for f in own if f["line"] == "qualified_use"]
    if primary is not None:
        dropping = primary["cuts_past_warning_last"]
        durability = _join(
            [
                f"{_ref(primary)}: {_movement_words(primary['trend'], against=gettext('previous month'))}",
                gettext("Cohorts at warning or worse in the month's last period: %(cuts)s")
                % {"cuts": ", ".join(dropping)}
                if dropping
                else gettext("No cohort at warning or worse in the month's last period."),
            ],
            "",
        )
    else:
        durability = _no_contract(_("adoption"))
    lines["adoption"] = {
        "qualified_use": _figure_lines(adoption, month_label, _no_contract(_("qualified use"))),
        "cohort_durability": durability,
        "work_as_done": gettext(
            "Not recorded: the BA or ops lead adds what people actually do in the workflow before the memo is sent."
        ),
    }

    incidents = fields["incidents"]
    signals = fields["signals"]
    complaint_incidents = [i for i in incidents if i["source"] == "complaint"]
    in_month, before = complaint_counts
    complaint_extra = (
        gettext("Complaint incidents: %(month)s in %(label)s (%(before)s the month before).")
        % {
            "month": in_month,
            "label": month_label,
            "before": before,
        }
        + "".join(f"\n{i['id']} {i['severity_label']}: {i['title']}" for i in complaint_incidents)
        if in_month or before
        else ""
    )
    drift_incidents = [
        f"{i['id']} {i['severity_label']}: {i['title']}" for i in incidents if i["source"] == "policy_drift"
    ]
    harm_signals = [
        gettext("Signal %(metric)s%(cut)s at %(level)s since %(opened)s%(action)s")
        % {
            "metric": s["metric_id"],
            "cut": f" [{s['cut']}]" if s["cut"] else "",
            "level": _level_word(s["level"]),
            "opened": s["opened"],
            "action": f" → {s['action']}" if s["action"] else "",
        }
        for s in signals
        if s["category"] in ("risk", "quality") and s["worst_level"] in SEVERE
    ]
    harm_incidents = [
        f"{i['id']} {i['severity_label']}: {i['title']}"
        for i in incidents
        if i["severity"] in ("sev1", "sev2")
    ]
    lines["risk"] = {
        "complaints": _join(
            [_trend_sentence(f, month_label) for f in own if f["line"] == "complaints"] + [complaint_extra],
            _no_contract(_("complaints")),
        ),
        "overrides": _figure_lines(
            [f for f in own if f["line"] == "overrides"], month_label, _no_contract(_("overrides"))
        ),
        "policy_drift": _join(
            [_trend_sentence(f, month_label) for f in own if f["line"] == "policy_drift"] + drift_incidents,
            _no_contract(_("policy drift")),
        ),
        "customer_harm": _join(
            [_trend_sentence(f, month_label) for f in own if f["line"] == "customer_harm"]
            + harm_signals
            + harm_incidents,
            _no_contract(_("customer harm")),
        ),
        "quality_control": _figure_lines(
            [f for f in own if f["line"] == "quality_control"], month_label, _no_contract(_("quality"))
        ),
    }
    lines["cost"] = {
        line: _figure_lines([f for f in own if f["line"] == line], month_label, _no_contract(label))
        for line, label in [
            ("cost_per_case", _("cost per case")),
            ("human_review_load", _("the human review load")),
            ("support_load", _("the support load")),
            ("platform_capacity", _("platform capacity")),
        ]
    }

    releases = fields["release_rows"]
    lines["releases"] = {
        "recent_releases": _join(
            (
                gettext("%(id)s %(type)s: %(change)s, %(version)s — %(state)s%(deployed)s; %(review)s")
                % {
                    "id": r["id"],
                    "type": r["object_type_label"].lower(),
                    "change": r["change"],
                    "version": r["version"],
                    "state": r["state_label"].lower(),
                    "deployed": (" " + gettext("on %(date)s") % {"date": r["deployed"]})
                    if r["deployed"]
                    else "",
                    "review": (
                        gettext("impact review: %(decision)s — %(comment)s")
                        % {"decision": r["review_decision_label"].lower(), "comment": r["review_comment"]}
                        if r["reviewed"]
                        else gettext("no impact review yet")
                    ),
                }
                for r in releases
            ),
            gettext("No release planned, deployed or rolled back in %(month)s.") % {"month": month_label},
        ),
        "experiment_result": _join(
            (
                f"{e['id']} {e['title']} ({e['state_label'].lower()})"
                + (f": {e['decision_label']}" if e["decision_label"] else "")
                + (f" — {e['result'].splitlines()[0]}" if e["result"] else "")
                for e in fields["experiments"]
            ),
            gettext("No experiment ran or was decided in %(month)s.") % {"month": month_label},
        ),
        "regressions": _join(
            [
                gettext("%(id)s: %(regressions)s%(kept)s")
                % {
                    "id": r["id"],
                    "regressions": regressions_in_words(r["regressions"], limit=6),
                    "kept": (" — " + gettext("kept at its impact review"))
                    if r["kept_despite_regressions"]
                    else "",
                }
                for r in releases
                if r["regressions"]
            ],
            gettext("No regression in the impact figures of the recent releases."),
        ),
    }

    proposals = fields["assumption_update"]
    lines["assumptions"] = {
        status: _join(
            (
                gettext("%(id)s %(statement)s (now %(current)s; tested by %(contracts)s)")
                % {
                    "id": p["id"],
                    "statement": p["statement"],
                    "current": p["status_label"].lower(),
                    "contracts": ", ".join(p["contracts"]) or gettext("no contract"),
                }
                for p in proposals
                if p["proposed"] == status
            ),
            "—",
        )
        for status in ("confirmed", "weakened", "invalidated", "needs_evidence")
    }
    if not proposals:
        lines["assumptions"]["needs_evidence"] = gettext(
            "The ledger holds no live assumption for this capability: add the beliefs its value case rests on (rule 6.2)."
        )

    actions = fields["actions"]
    blocked = "".join(
        " " + gettext("%(decision)s is blocked: %(reason)s") % {"decision": b["label"], "reason": b["reason"]}
        for b in result["blocked"]
    )
    trigger_lines = ("outcome", "complaints", "customer_harm", "cost_per_case")
    trigger_contracts = [
        f["metric_id"]
        for f in sorted(
            own, key=lambda f: trigger_lines.index(f["line"]) if f["line"] in trigger_lines else 9
        )
        if f["line"] in trigger_lines
    ]
    lines["decision"] = {
        "decision": gettext("Recommended: %(decision)s.") % {"decision": result["label"]} + blocked,
        "actions": _join(
            (
                gettext("%(id)s %(action)s — %(owner)s, due %(due)s, %(status)s%(overdue)s")
                % {
                    "id": a["id"],
                    "action": a["action"],
                    "owner": a["owner"],
                    "due": a["due_date"],
                    "status": a["status_label"].lower(),
                    "overdue": " (" + gettext("overdue") + ")" if a["overdue"] else "",
                }
                for a in actions["open"][:LIST_LIMIT]
            ),
            gettext("No open action."),
        )
        + (
            "\n" + gettext("… and %(n)s more open actions.") % {"n": len(actions["open"]) - LIST_LIMIT}
            if len(actions["open"]) > LIST_LIMIT
            else ""
        ),
        "closure_evidence": _join(
            (
                gettext("%(id)s %(action)s — closed %(closed)s: %(evidence)s")
                % {
                    "id": a["id"],
                    "action": a["action"],
                    "closed": (a["closed_at"] or "")[:10],
                    "evidence": a["closure_evidence"] or "—",
                }
                for a in actions["closed"]
            ),
            gettext("No action closed with evidence in %(month)s.") % {"month": month_label},
        ),
        "next_review_trigger": gettext(
            "The next monthly value review%(when)s, or earlier if %(contracts)s crosses its warning level."
        )
        % {
            "when": (" (" + meta["next_session_at"][:10] + ")") if meta["next_session_at"] else "",
            "contracts": ", ".join(trigger_contracts[:4]) or gettext("an outcome, risk or cost contract"),
        },
    }
    return lines
