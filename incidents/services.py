"""Reporting incidents and the work around them that touches other registers: corrective actions
(the action register), learning items (backlog, release calendar, metric contracts). The moves
of the incident itself are its model methods; these functions call them for pages and the API."""

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext

from incidents.choices import (
    LEARNING_RECORD_MODELS,
    ComplaintSignal,
    IncidentSeverity,
    IncidentSource,
    LearningKind,
)
from incidents.models import Incident, LearningItem
from productops.errors import DomainError
from productops.models import RoleAssignment, User
from productops.notifications import notify
from productops.permissions import require_change
from productops.roles import Activity, Role
from webhooks.choices import EventType
from webhooks.events import absolute_url, emit

REPORT_FIELDS = [
    "title",
    "source",
    "occurred_on",
    "severity",
    "complaint_signal",
    "affected_population",
    "affected_versions",
    "impact_customer",
    "impact_operations",
    "impact_risk",
    "impact_cost",
    "next_review_on",
]


def sev1_recipients(capability):
    """Executive and Risk / Compliance role holders of the capability and organisation-wide."""
    holders = RoleAssignment.objects.filter(
        Q(capability=capability) | Q(capability__isnull=True),
        role__in=[Role.EXECUTIVE, Role.RISK_COMPLIANCE],
    ).values("user_id")
    return list(User.objects.filter(is_active=True, pk__in=holders))


@transaction.atomic
def incident_report(*, capability, by, affected_releases=(), **fields) -> Incident:
    """Record an incident (15.2). A Sev1 tells the executive and risk roles at once."""
    if capability is None:
        raise DomainError(gettext("Choose the capability the incident belongs to."), field="capability")
    if by is not None:
        require_change(by, Activity.INCIDENT_LEARNING, capability)
    unknown = set(fields) - set(REPORT_FIELDS)
    if unknown:
        raise DomainError(gettext("Unknown fields: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    incident = Incident(capability=capability, reported_by=by, **fields)
    incident.title = (incident.title or "").strip()
    if not incident.title:
        raise DomainError(gettext("Give the incident a title."), field="title")
    if incident.source not in IncidentSource.values:
        raise DomainError(gettext("Choose where the incident was seen."), field="source")
    if incident.severity not in IncidentSeverity.values:
        raise DomainError(gettext("Choose Sev1, Sev2, Sev3 or Sev4."), field="severity")
    if incident.occurred_on is None:
        raise DomainError(gettext("Give the date of the incident."), field="occurred_on")
    if incident.complaint_signal:
        if incident.source != IncidentSource.COMPLAINT:
            raise DomainError(
                gettext("Only a complaint-sourced incident is classified by complaint signal."),
                field="complaint_signal",
            )
        if incident.complaint_signal not in ComplaintSignal.values:
            raise DomainError(gettext("Choose a complaint signal of 15.3."), field="complaint_signal")
    releases = list(affected_releases or [])
    if any(release.capability_id != capability.pk for release in releases):
        raise DomainError(
            gettext("Choose releases of this incident's capability."), field="affected_releases"
        )
    incident._history_user = by
    incident._change_reason = gettext("Incident reported")
    incident.save()
    if releases:
        incident.affected_releases.set(releases)
    incident.detect_recurrence()
    if incident.is_recurrence:
        incident.save(update_fields=["is_recurrence", "recurrence_of"])
    if incident.severity == IncidentSeverity.SEV1:
        notify(
            recipients=sev1_recipients(capability),
            subject=gettext("Sev1 incident %(id)s on %(capability)s")
            % {"id": incident.readable_id, "capability": capability.name},
            body=gettext("%(title)s\n\nContain it at once: rollback or restriction.")
            % {"title": incident.title},
            url=incident.get_absolute_url(),
        )
        emit(
            event_type=EventType.INCIDENT_SEV1,
            key=f"incident.sev1:{incident.pk}",
            data=lambda: sev1_webhook_data(incident),
        )
    return incident


def sev1_webhook_data(incident: Incident) -> dict:
    """What the "Sev1 incident" webhook says: the incident, where it was seen, its impact and the
    link to contain it."""
    return {
        "incident": {
            "id": incident.readable_id,
            "title": incident.title,
            "severity": incident.severity,
            "source": incident.source,
            "occurred_on": str(incident.occurred_on),
            "affected_population": incident.affected_population,
            "affected_versions": incident.affected_versions,
            "impact_customer": incident.impact_customer,
            "is_recurrence": incident.is_recurrence,
            "url": absolute_url(incident.get_absolute_url()),
        },
        "capability": {"slug": incident.capability.slug, "name": incident.capability.name},
        "reported_by": incident.reported_by.get_username() if incident.reported_by else None,
    }


def incident_contain(
    *,
    incident,
    by,
    immediate_action,
    rollback_release=None,
    rollback_reason="",
    restriction="",
    communication="",
) -> Incident:
    incident.contain(
        by=by,
        immediate_action=immediate_action,
        rollback_release=rollback_release,
        rollback_reason=rollback_reason,
        restriction=restriction,
        communication=communication,
    )
    return incident


def incident_record_root_causes(*, incident, by, causes) -> Incident:
    incident.record_root_causes(by=by, causes=causes)
    return incident


@transaction.atomic
def incident_add_corrective_action(
    *, incident, by, action, owner, due_date, closure_criterion, reopen_trigger, reviewer=None
):
    """A corrective action in the register, raised by the incident, with a reopen trigger."""
    from actions.services import action_create

    incident.require_open()
    incident.require_contained()
    if by is not None:
        require_change(by, Activity.INCIDENT_LEARNING, incident.capability_id)
    if not reopen_trigger or not reopen_trigger.get("kind"):
        raise DomainError(
            gettext("A corrective action needs a reopen trigger: when its closure no longer holds."),
            field="trigger_kind",
        )
    return action_create(
        capability=incident.capability,
        by=by,
        action=action,
        owner=owner,
        due_date=due_date,
        closure_criterion=closure_criterion,
        reviewer=reviewer,
        source=incident,
        source_kind="incident",
        source_signal=incident.title,
        reopen_trigger=reopen_trigger,
    )


@transaction.atomic
def incident_add_learning_item(
    *, incident, by, kind, record=None, text="", link="", backlog=None
) -> LearningItem:
    """Record what the incident created or updated on the roadmap. For a backlog item, ``backlog``
    (the keyword arguments of ``backlog_item_create`` without capability/by/evidence) raises a
    new corrective item resting on this incident."""
    incident.require_open()
    incident.require_contained()
    if by is not None:
        require_change(by, Activity.INCIDENT_LEARNING, incident.capability_id)
    if kind not in LearningKind.values:
        raise DomainError(gettext("Choose a kind of learning item."), field="kind")
    if kind == LearningKind.BACKLOG_ITEM and record is None and backlog:
        from portfolio.services import backlog_item_create

        record = backlog_item_create(capability=incident.capability, by=by, evidence=incident, **backlog)
    text = (text or "").strip()
    expected = LEARNING_RECORD_MODELS.get(kind)
    if record is not None:
        content_type = ContentType.objects.get_for_model(record)
        if expected is None or f"{content_type.app_label}.{content_type.model}" != expected:
            raise DomainError(gettext("This record does not fit the kind of learning item."), field="record")
        if getattr(record, "capability_id", incident.capability_id) != incident.capability_id:
            raise DomainError(gettext("Choose a record of this incident's capability."), field="record")
    elif not text:
        raise DomainError(gettext("Say what was created or updated (or link the record)."), field="text")
    item = LearningItem(incident=incident, kind=kind, text=text, link=(link or "").strip(), created_by=by)
    if record is not None:
        item.record = record
    item.save()
    return item


def incident_close(*, incident, by) -> Incident:
    incident.close(by=by)
    return incident
