"""Raising and editing backlog items (playbook 16): the functions the pages, the API, the demo and
the other registers (the incidents app raising a corrective item) call. ``by=None`` is the system.

The backlog imports none of the registers its items rest on: an evidence link is a generic link,
read through the content type, and a typed metric id or signal id is looked up through
``django.apps`` by model label.
"""

import re

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.translation import gettext as _

from portfolio.choices import (
    LINK_KINDS,
    REQUIRED_LINK_TEXT,
    REQUIRED_LINKS,
    SCORE_MAX,
    SCORE_MIN,
    SCORE_PARTS,
    BacklogClass,
    IncidentSeverity,
    LinkKind,
    MetricDirection,
)
from portfolio.models import BACKLOG_ACTIVITY, BacklogItem
from productops import references
from productops.errors import DomainError
from productops.permissions import can_view, require_change

# A signal has no readable id: people type "SIG-12", "signal 12" or paste its page's address.
_SIGNAL_REFERENCE = re.compile(r"^sig(?:nal)?[\s:#-]*(\d+)$", re.IGNORECASE)
_SIGNAL_URL = re.compile(r"/contracts/signals/(\d+)/?$")
# A metric contract is referenced by its metric id, e.g. cc_agent_assist.repeat_contact_7d.
_METRIC_ID = re.compile(r"^[a-z0-9_]+(?:\.[a-z0-9_]+)+$")
_PROBLEM_KEY = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

EDITABLE_FIELDS = [
    "title",
    "description",
    "item_class",
    "expected_metric",
    "expected_direction",
    "expected_movement",
    *SCORE_PARTS,
    "risk_override",
    "override_reason",
    "incident_severity",
    "problem_key",
]
_UNSET = object()


def _model(label: str):
    """A model of an app above this one, or None while that app has no such model."""
    try:
        return apps.get_model(label)
    except LookupError:
        return None


def evidence_resolve(reference: str):
    """The record an evidence reference typed in a form names, or None.

    Readable ids of any register (``INC-0003``, ``EXP-001``, ``REL-2026-001``, ``ASM-0002``,
    ``DEC-0007``), a signal as ``SIG-12`` (or ``signal 12``, or its page's address), a metric
    contract by metric id (``cc_agent_assist.repeat_contact_7d``).
    """
    token = (reference or "").strip()
    if not token:
        return None
    record = references.resolve(token)
    if record is not None:
        return record
    match = _SIGNAL_REFERENCE.match(token) or _SIGNAL_URL.search(token)
    if match:
        signal_model = _model("contracts.Signal")
        return signal_model._default_manager.filter(pk=int(match.group(1))).first() if signal_model else None
    if _METRIC_ID.match(token.lower()):
        contract_model = _model("contracts.MetricContract")
        if contract_model is None:
            return None
        return contract_model._default_manager.filter(metric_id=token.lower()).first()
    return None


def link_kind_of(record) -> str:
    """The kind of record (``LinkKind``) a model instance is, or "" when the backlog may not rest on it."""
    content_type = ContentType.objects.get_for_model(record)
    return LINK_KINDS.get(f"{content_type.app_label}.{content_type.model}", "")


def _category_of(record, kind: str) -> str:
    """The metric-contract category of a contract, or of a signal's contract."""
    if kind == LinkKind.CONTRACT:
        return getattr(record, "category", "")
    if kind == LinkKind.SIGNAL:
        return getattr(getattr(record, "contract", None), "category", "")
    return ""


def reference_of(record) -> str:
    """How a person would type the record again: its readable id, metric id or SIG-<pk>."""
    readable_id = getattr(record, "readable_id", "")
    if readable_id:
        return readable_id
    kind = link_kind_of(record)
    if kind == LinkKind.CONTRACT:
        return record.metric_id
    if kind == LinkKind.SIGNAL:
        return f"SIG-{record.pk}"
    return f"{kind or record._meta.model_name}-{record.pk}"


def _capability_id_of(record) -> int | None:
    value = getattr(record, "capability_id", None)
    if value is not None:
        return value
    # A signal reaches its capability through its contract.
    return getattr(getattr(record, "capability", None), "pk", None)


def check_link_for_class(item_class: str, record) -> None:
    """Raise DomainError on ``evidence`` unless the record is what the class requires (16.1)."""
    kind = link_kind_of(record)
    category = _category_of(record, kind)
    for required_kind, categories in REQUIRED_LINKS[item_class]:
        if kind == required_kind and (categories is None or category in categories):
            return
    found = str(LinkKind(kind).label) if kind else record._meta.verbose_name
    if category:
        found = _("%(kind)s of the %(category)s category") % {"kind": found, "category": category}
    raise DomainError(
        _("A %(class)s item rests on %(required)s; %(reference)s is a %(found)s.")
        % {
            "class": BacklogClass(item_class).label.lower(),
            "required": REQUIRED_LINK_TEXT[item_class],
            "reference": reference_of(record),
            "found": found,
        },
        field="evidence",
        code="wrong_evidence_kind",
    )


def _evidence_record(evidence, *, by):
    """A record from what the caller gave (a typed reference or an instance); None for no link."""
    if evidence is None or (isinstance(evidence, str) and not evidence.strip()):
        return None
    if isinstance(evidence, str):
        token = evidence.strip()
        record = evidence_resolve(token)
    elif isinstance(evidence, models.Model):
        token = str(evidence.pk)
        record = evidence
    else:
        raise TypeError(f"Evidence must be a reference or a record, not {evidence!r}")
    unknown = DomainError(
        _("Evidence link: no record you can see has the id %(id)s.") % {"id": token},
        field="evidence",
        code="unknown_reference",
    )
    if record is None or record.pk is None:
        raise unknown
    capability_id = _capability_id_of(record)
    if by is not None and capability_id is not None and not can_view(by, capability_id):
        # The same answer as for a typo: an id tried at random reveals nothing.
        raise unknown
    if not link_kind_of(record):
        raise DomainError(
            _(
                "A backlog item rests on a metric contract, signal, incident, experiment, release, "
                "assumption, decision or forum session; %(id)s is none of these."
            )
            % {"id": reference_of(record)},
            field="evidence",
        )
    return record


def _expected_metric(value, capability):
    if isinstance(value, str):
        contract_model = _model("contracts.MetricContract")
        value = (
            contract_model._default_manager.filter(metric_id=value.strip().lower()).first()
            if contract_model and value.strip()
            else None
        )
    if value is None:
        raise DomainError(
            _(
                "Every roadmap item states the expected metric movement (16.3): choose the metric "
                "contract this item should move."
            ),
            field="expected_metric",
        )
    if value.capability_id != capability.pk:
        raise DomainError(
            _("%(metric)s is a contract of another capability: choose one of %(capability)s.")
            % {"metric": value.metric_id, "capability": capability.name},
            field="expected_metric",
        )
    return value


def _validate(item: BacklogItem) -> None:
    """Every rule a backlog item's fields must meet, each error naming its field."""
    item.title = (item.title or "").strip()
    if not item.title:
        raise DomainError(_("Give the item a title."), field="title")
    if item.item_class not in BacklogClass.values:
        raise DomainError(_("Choose one of the backlog classes of 16.1."), field="item_class")
    if item.expected_direction not in MetricDirection.values:
        raise DomainError(
            _("Say which way the metric should move: up or down (16.3 expected metric movement)."),
            field="expected_direction",
        )
    item.expected_movement = (item.expected_movement or "").strip()
    for name in SCORE_PARTS:
        value = getattr(item, name)
        if isinstance(value, bool) or not isinstance(value, int) or not SCORE_MIN <= value <= SCORE_MAX:
            raise DomainError(
                _("%(part)s is scored from %(low)s to %(high)s.")
                % {
                    "part": str(item._meta.get_field(name).verbose_name).capitalize(),
                    "low": SCORE_MIN,
                    "high": SCORE_MAX,
                },
                field=name,
            )
    item.override_reason = (item.override_reason or "").strip()
    if item.risk_override and not item.override_reason:
        raise DomainError(
            _("A risk/customer-harm override puts the item above its score: say what harm it prevents."),
            field="override_reason",
        )
    if item.incident_severity and item.incident_severity not in IncidentSeverity.values:
        raise DomainError(_("Choose Sev1, Sev2, Sev3 or Sev4."), field="incident_severity")
    item.problem_key = (item.problem_key or "").strip().lower()
    if item.problem_key and not _PROBLEM_KEY.match(item.problem_key):
        raise DomainError(
            _("A problem key is a short name in lower case with hyphens, e.g. evidence-citation."),
            field="problem_key",
        )


def _link(item: BacklogItem, record) -> None:
    """Set (record) or clear (None) the item's evidence link and its text snapshot."""
    if record is None:
        item.evidence_content_type = None
        item.evidence_object_id = None
        item.evidence_reference = ""
        return
    check_link_for_class(item.item_class, record)
    item.evidence_content_type = ContentType.objects.get_for_model(record)
    item.evidence_object_id = record.pk
    reference = reference_of(record)
    label = str(record)
    item.evidence_reference = (label if label.startswith(reference) else f"{reference} · {label}")[:255]
    if not item.incident_severity and link_kind_of(record) == LinkKind.INCIDENT:
        # A corrective item carries the severity of the incident it corrects.
        severity = str(getattr(record, "severity", "") or "").lower()
        if severity in IncidentSeverity.values:
            item.incident_severity = severity


@transaction.atomic
def backlog_item_create(
    *,
    capability,
    by,
    title: str,
    item_class: str,
    expected_metric,
    expected_direction: str,
    expected_movement: str = "",
    description: str = "",
    evidence=None,
    outcome_impact: int = 0,
    risk_reduction: int = 0,
    adoption_unblock: int = 0,
    cost_capacity_relief: int = 0,
    evidence_need: int = 0,
    platform_reuse: int = 0,
    delivery_effort: int = 0,
    change_saturation: int = 0,
    risk_override: bool = False,
    override_reason: str = "",
    incident_severity: str = "",
    problem_key: str = "",
) -> BacklogItem:
    """Raise a backlog item on ``capability``.

    - ``by`` needs A or R on the weekly ops review for the capability (see ``BacklogItem``).
    - ``expected_metric`` (a ``MetricContract`` of the same capability, or its metric id) and
      ``expected_direction`` ("up"/"down") are required: 16.3.
    - ``evidence``: a typed reference (``INC-0003``, ``SIG-12``, a metric id) or a record; it
      must be of the kind the class requires (16.1), else DomainError on ``evidence``. It may be
      left out: the item then never enters the top band.
    - Score parts are 0-5; ``risk_override`` needs an ``override_reason``.
    - An incident link fills ``incident_severity`` from the incident when it is not given.
    """
    if capability is None:
        raise DomainError(_("Choose the capability the item belongs to."), field="capability")
    if by is not None:
        require_change(by, BACKLOG_ACTIVITY, capability)
    item = BacklogItem(
        capability=capability,
        title=title,
        description=(description or "").strip(),
        item_class=item_class,
        expected_direction=expected_direction,
        expected_movement=expected_movement,
        outcome_impact=outcome_impact,
        risk_reduction=risk_reduction,
        adoption_unblock=adoption_unblock,
        cost_capacity_relief=cost_capacity_relief,
        evidence_need=evidence_need,
        platform_reuse=platform_reuse,
        delivery_effort=delivery_effort,
        change_saturation=change_saturation,
        risk_override=bool(risk_override),
        override_reason=override_reason,
        incident_severity=incident_severity or "",
        problem_key=problem_key,
    )
    item.expected_metric = _expected_metric(expected_metric, capability)
    _validate(item)
    _link(item, _evidence_record(evidence, by=by))
    item._history_user = by
    item._change_reason = _("Backlog item raised")
    item.save()
    return item


@transaction.atomic
def backlog_item_update(*, item: BacklogItem, by, fields: dict, evidence=_UNSET) -> BacklogItem:
    """Change an item's details (its status changes through ``BacklogItem.move``).

    ``fields`` maps names of EDITABLE_FIELDS to new values. ``evidence`` replaces the evidence
    link (a reference, a record, or None/"" to remove it); leaving it out keeps the link, which is
    checked again against the class if the class changes.
    """
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            _("These fields are not edited here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    row = BacklogItem.objects.select_for_update().select_related("capability").get(pk=item.pk)
    if by is not None:
        require_change(by, BACKLOG_ACTIVITY, row.capability)
    for name, value in fields.items():
        if name == "expected_metric":
            row.expected_metric = _expected_metric(value, row.capability)
        else:
            setattr(row, name, value)
    _validate(row)
    if evidence is not _UNSET:
        _link(row, _evidence_record(evidence, by=by))
    elif row.has_evidence_link:
        record = row.evidence
        if record is not None:
            check_link_for_class(row.item_class, record)
    row._history_user = by
    row._change_reason = _("Details edited")
    row.save()
    for field in BacklogItem._meta.concrete_fields:
        setattr(item, field.attname, getattr(row, field.attname))
    for cached in ("expected_metric", "evidence_content_type"):
        field = BacklogItem._meta.get_field(cached)
        if field.is_cached(item):
            field.delete_cached_value(item)
    return item
