"""Reading a memo: its sections in the order of 8.4 with the figures behind them (the page),
the memo as Markdown (what the attendees receive and what the export gives), and a monthly
value review session's memos, one row per capability of the forum's scope."""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forums.memos.sections import ACTIVITY, MEMO_TITLE, SECTIONS, month_reviewed
from forums.models import Session, ValueMemo
from productops.permissions import can_change

# --- reading the memo ----------------------------------------------------------------------------


def memo_sections(memo: ValueMemo) -> list[dict]:
    """The memo's sections in the order of 8.4, each with its lines (label, text) and the
    figures behind them, for the page and the export."""
    fields = memo.fields or {}
    lines = fields
    figures = fields.get("figures") or {}
    sections = []
    for key, heading, line_specs in SECTIONS:
        labels = dict(line_specs)
        sections.append(
            {
                "key": key,
                "heading": str(heading),
                "lines": [
                    {"key": line, "label": str(labels[line]), "text": (lines.get(key) or {}).get(line, "—")}
                    for line, _label in line_specs
                ],
                "figures": [
                    {**figure, "line_label": str(labels.get(figure["line"], _("Outcome")))}
                    for figure in figures.get(key, [])
                ],
            }
        )
    return sections


def memo_text(memo: ValueMemo) -> str:
    """The memo as Markdown: what the attendees receive and what the export gives."""
    fields = memo.fields or {}
    meta = fields.get("meta") or {}
    result = memo.matrix or {}
    lines = [
        f"# {MEMO_TITLE}",
        "",
        gettext("**%(capability)s** — %(month)s — %(state)s")
        % {
            "capability": memo.capability.name,
            "month": memo.month.strftime("%Y-%m"),
            "state": memo.get_state_display(),
        },
    ]
    if meta.get("session"):
        lines.append(gettext("Session: %(session)s") % {"session": meta["session"]})
    lines.append(
        gettext("Generated %(at)s from the data to %(to)s.")
        % {"at": meta.get("generated_at", ""), "to": meta.get("data_to", "")}
    )
    for row in fields.get("not_net") or []:
        lines += ["", "> **" + gettext("Not net") + f"** — {row['metric_id']}: {row['reason']}"]
    if fields.get("below_e3"):
        lines += ["", "> " + gettext("Evidence below E3: %(ids)s") % {"ids": ", ".join(fields["below_e3"])}]
    for section in memo_sections(memo):
        lines += ["", f"## {section['heading']}"]
        for line in section["lines"]:
            text = str(line["text"]).replace("\n", "\n  ")
            lines.append(f"- {line['label']}: {text}")
        if section["key"] == "decision_requested" and result:
            lines += ["", "### " + gettext("Decision matrix (8.3)")]
            lines.append("- " + gettext("Recommended: %(decision)s") % {"decision": result.get("label", "")})
            lines.append("- " + gettext("Pattern: %(pattern)s") % {"pattern": result.get("pattern", "")})
            for figure in result.get("figures", []):
                lines.append(f"  - {figure['label']}: {figure['value']} — {figure['basis']}")
            for blocked in result.get("blocked", []):
                lines.append(
                    "- "
                    + gettext("Blocked: %(decision)s — %(reason)s")
                    % {"decision": blocked["label"], "reason": blocked["reason"]}
                )
    if memo.decision_id:
        lines += ["", gettext("Decision recorded: %(id)s") % {"id": memo.decision.readable_id}]
    return "\n".join(lines).rstrip() + "\n"


def session_memo_rows(session: Session, user) -> list[dict]:
    """For a monthly value review session: each capability of the forum's scope the person may
    read (all when it has none), with its memo of the month reviewed, if any. Two queries."""
    from forums.meeting import scope_capabilities

    month = month_reviewed(session)
    capabilities = scope_capabilities(session, user)
    memos = {
        memo.capability_id: memo
        for memo in ValueMemo.objects.filter(capability__in=capabilities, month=month).select_related(
            "decision"
        )
    }
    return [
        {
            "capability": capability,
            "memo": memos.get(capability.pk),
            "month": month,
            "can_generate": can_change(user, ACTIVITY, capability)
            and not (memos.get(capability.pk) and memos[capability.pk].is_sent),
        }
        for capability in capabilities
    ]
