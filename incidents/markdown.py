"""The incident record as Markdown, in the layout of the playbook's template (15.2)."""

from django.utils.translation import gettext as _

from incidents.choices import LearningKind, RootCauseClass


def _line(label, value) -> str:
    return f"- {label}: {value or '—'}"


def _cell(value) -> str:
    return str(value or "—").replace("|", "\\|").replace("\n", " ")


def incident_markdown(incident) -> str:
    versions = ", ".join(
        [r.readable_id for r in incident.affected_releases.all()]
        + ([incident.affected_versions] if incident.affected_versions else [])
    )
    causes = {c.cause_class: c.notes or _("yes") for c in incident.root_causes.all()}
    learning = {}
    for item in incident.learning_items.all():
        label = str(item.record) if item.record_content_type_id else item.text
        if item.link:
            label = f"{label} ({item.link})"
        learning.setdefault(item.kind, []).append(label)
    rollback = incident.rollback_release.readable_id if incident.rollback_release_id else ""
    lines = [
        f"# {_('AI Product Incident Record')}",
        "",
        f"{incident.readable_id} — {incident.title} ({incident.capability.name}, {incident.get_state_display()})",
        "",
        f"## {_('Signal')}",
        _line(
            _("Source"),
            incident.get_source_display()
            + (f" ({incident.get_complaint_signal_display()})" if incident.complaint_signal else ""),
        ),
        _line(_("Date"), incident.occurred_on.isoformat()),
        _line(_("Severity"), incident.get_severity_display()),
        _line(_("Affected population"), incident.affected_population),
        _line(_("Affected versions"), versions),
        "",
        f"## {_('Impact')}",
        _line(_("Customer"), incident.impact_customer),
        _line(_("Operations"), incident.impact_operations),
        _line(_("Risk / compliance"), incident.impact_risk),
        _line(_("Cost / capacity"), incident.impact_cost),
        "",
        f"## {_('Containment')}",
        _line(_("Immediate action"), incident.immediate_action),
        _line(_("Rollback / restriction"), " · ".join(x for x in [rollback, incident.restriction] if x)),
        _line(_("Communication"), incident.communication),
        "",
        f"## {_('Root Cause')}",
        *[_line(label, causes.get(value, "")) for value, label in RootCauseClass.choices],
        "",
        f"## {_('Corrective Actions')}",
        "| action | owner | due_date | closure_evidence | reopen_trigger |",
        "|---|---|---|---|---|",
    ]
    for action in (
        incident.corrective_actions().select_related("owner", "reopen_trigger").prefetch_related("evidence")
    ):
        evidence = [e.text for e in action.evidence.all() if e.verdict == "accepted"]
        trigger = getattr(action, "reopen_trigger", None)
        lines.append(
            "| "
            + " | ".join(
                _cell(v)
                for v in [
                    f"{action.readable_id} {action.action}",
                    action.owner,
                    action.due_date.isoformat(),
                    evidence[-1] if evidence else action.closure_criterion,
                    trigger.describe() if trigger else "",
                ]
            )
            + " |"
        )
    lines += [
        "",
        f"## {_('Roadmap Impact')}",
        *[_line(label, "; ".join(learning.get(value, []))) for value, label in LearningKind.choices],
        _line(_("Next review"), incident.next_review_on.isoformat() if incident.next_review_on else ""),
        "",
    ]
    return "\n".join(lines)
