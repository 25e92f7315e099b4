"""Reading an asset's change history as a reviewer would: who, when, which fields, from -> to."""

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

_KIND = {"+": _("created"), "~": _("changed"), "-": _("deleted")}
_HIDDEN_FIELDS = {"updated_at", "created_at"}


@dataclass
class FieldChange:
    label: str
    old: object
    new: object


@dataclass
class HistoryEntry:
    when: object
    who: object
    kind: str
    reason: str
    changes: list[FieldChange] = field(default_factory=list)


def _label(model, field_name: str) -> str:
    try:
        return str(model._meta.get_field(field_name).verbose_name)
    except Exception:
        return field_name


def history_entries(obj, limit: int = 50) -> list[HistoryEntry]:
    """The newest ``limit`` changes of an object, each with the fields it changed.

    Two queries whatever the length: the history rows (with their users) and nothing else;
    diffs are computed between consecutive rows in memory.
    """
    records = list(
        obj.history.select_related("history_user").order_by("-history_date", "-history_id")[: limit + 1]
    )
    entries = []
    for index, record in enumerate(records[:limit]):
        previous = records[index + 1] if index + 1 < len(records) else None
        changes = []
        if previous is not None and record.history_type == "~":
            delta = record.diff_against(previous, excluded_fields=_HIDDEN_FIELDS)
            changes = [FieldChange(_label(obj.__class__, c.field), c.old, c.new) for c in delta.changes]
        if record.history_type == "~" and previous is not None and not changes and not record.history_change_reason:
            continue  # a save that changed nothing tells a reviewer nothing
        entries.append(
            HistoryEntry(
                when=record.history_date,
                who=record.history_user,
                kind=str(_KIND.get(record.history_type, record.history_type)),
                reason=record.history_change_reason or "",
                changes=changes,
            )
        )
    return entries
