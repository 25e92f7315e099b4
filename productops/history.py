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


def _field(model, name):
    try:
        return model._meta.get_field(name)
    except Exception:
        return None


def _readable_values(model, changes: list[FieldChange], names: list[str]) -> None:
    """Show choice labels instead of stored codes, and people or records instead of ids
    (one query per related model, however many changes mention it)."""
    related_ids: dict[type, set] = {}
    for change, name in zip(changes, names, strict=True):
        field = _field(model, name)
        if field is not None and field.is_relation and field.many_to_one:
            related_ids.setdefault(field.related_model, set()).update(
                value for value in (change.old, change.new) if value is not None
            )
    related = {
        related_model: {obj.pk: str(obj) for obj in related_model._default_manager.filter(pk__in=ids)}
        for related_model, ids in related_ids.items()
    }
    for change, name in zip(changes, names, strict=True):
        field = _field(model, name)
        if field is None:
            continue
        if field.choices:
            labels = {key: str(label) for key, label in field.flatchoices}
            change.old, change.new = labels.get(change.old, change.old), labels.get(change.new, change.new)
        elif field.is_relation and field.many_to_one:
            names_by_pk = related.get(field.related_model, {})
            change.old, change.new = (
                names_by_pk.get(change.old, change.old),
                names_by_pk.get(change.new, change.new),
            )


def history_entries(obj, limit: int = 50) -> list[HistoryEntry]:
    """The newest ``limit`` changes of an object, each with the fields it changed.

    One query for the history rows (with their users), plus one per related model whose ids
    changed; diffs are computed between consecutive rows in memory.
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
            _readable_values(obj.__class__, changes, [c.field for c in delta.changes])
        if (
            record.history_type == "~"
            and previous is not None
            and not changes
            and not record.history_change_reason
        ):
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
