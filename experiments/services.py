"""Registering, editing and deciding experiments: the functions the pages, the API and the demo
call. ``by=None`` means the system (no RACI check)."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from contracts.choices import ContractStatus
from decisions.services import decision_record
from experiments.choices import DECISION_TYPES, AssumptionOutcome, ExperimentDecision, ExperimentState
from experiments.models import ARM_KEY, Experiment
from experiments.readout import experiment_readout, readout_summary
from productops.errors import DomainError
from productops.permissions import can_change, require_change
from productops.roles import Activity
from productops.transitions import lock

__all__ = [
    "EDITABLE_FIELDS",
    "experiment_create",
    "experiment_decide",
    "experiment_readout",
    "experiment_update",
]

TEXT_FIELDS = ["title", "hypothesis", "population", "treatment", "control_or_baseline"]
EDITABLE_FIELDS = [
    *TEXT_FIELDS,
    "primary_metric",
    "guardrails",
    "start_date",
    "planned_end_date",
    "owner",
    "arm_key",
    "treatment_value",
    "control_value",
    "tested_assumption",
]
# Fixed once the experiment runs: changing them would change what the running test measures.
FIXED_ONCE_RUNNING = {
    "hypothesis",
    "primary_metric",
    "start_date",
    "arm_key",
    "treatment_value",
    "control_value",
    "tested_assumption",
}
# What may still change in each state (a decided experiment is a record: nothing).
EDITABLE_IN_STATE = {
    ExperimentState.PROPOSED: set(EDITABLE_FIELDS),
    ExperimentState.RUNNING: set(EDITABLE_FIELDS) - FIXED_ONCE_RUNNING,
    ExperimentState.READOUT: {"title", "owner"},
    ExperimentState.DECIDED: set(),
}

_REQUIRED_TEXT = {
    "title": lambda: gettext("Give the experiment a short title."),
    "hypothesis": lambda: gettext("State the hypothesis: what the treatment should change, and for whom."),
    "population": lambda: gettext("Say who is in the experiment."),
    "treatment": lambda: gettext("Say what the treatment is."),
    "control_or_baseline": lambda: gettext("Say what the treatment is compared with."),
}


def _check(capability, values: dict, stored: dict | None = None) -> dict:
    """Every rule on the details in ``values``, the field at fault named; rules that tie two
    fields together read the other one from ``stored`` when it is not changing. Returns the
    cleaned values."""
    cleaned = dict(values)
    stored = stored or {}

    def other(name):
        return cleaned[name] if name in cleaned else stored.get(name)

    for name in TEXT_FIELDS:
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
            if not cleaned[name]:
                raise DomainError(_REQUIRED_TEXT[name](), field=name)
    primary = other("primary_metric")
    if "primary_metric" in cleaned:
        if primary is None:
            raise DomainError(
                gettext("Choose the primary metric: one of the capability's metric contracts."),
                field="primary_metric",
            )
        if primary.capability_id != capability.pk:
            raise DomainError(
                gettext("%(metric)s is not a contract of %(capability)s.")
                % {"metric": primary.metric_id, "capability": capability},
                field="primary_metric",
            )
        if primary.status != ContractStatus.ACTIVE:
            raise DomainError(
                gettext("%(metric)s is not active: an experiment is read from an active contract.")
                % {"metric": primary.metric_id},
                field="primary_metric",
            )
    if "guardrails" in cleaned:
        guardrails = list(cleaned["guardrails"] or [])
        for contract in guardrails:
            if contract.capability_id != capability.pk:
                raise DomainError(
                    gettext("%(metric)s is not a contract of %(capability)s.")
                    % {"metric": contract.metric_id, "capability": capability},
                    field="guardrails",
                )
            if contract.status != ContractStatus.ACTIVE:
                raise DomainError(
                    gettext("%(metric)s is not active.") % {"metric": contract.metric_id}, field="guardrails"
                )
        cleaned["guardrails"] = guardrails
    if ("guardrails" in cleaned or "primary_metric" in cleaned) and primary is not None:
        if primary.pk in {contract.pk for contract in other("guardrails") or []}:
            raise DomainError(gettext("The primary metric is not its own guardrail."), field="guardrails")
    for name, message in (
        ("start_date", gettext("Give the start date.")),
        ("planned_end_date", gettext("Give the planned end date.")),
    ):
        if name in cleaned and cleaned[name] is None:
            raise DomainError(message, field=name)
    start, end = other("start_date"), other("planned_end_date")
    if (
        ("start_date" in cleaned or "planned_end_date" in cleaned)
        and start is not None
        and end is not None
        and end <= start
    ):
        raise DomainError(gettext("The planned end must be after the start."), field="planned_end_date")
    if "owner" in cleaned:
        owner = cleaned["owner"]
        if owner is None:
            raise DomainError(gettext("An experiment needs an owner."), field="owner")
        if not can_change(owner, Activity.EXPERIMENT_REGISTRY, capability):
            raise DomainError(
                gettext("%(person)s holds no role on %(capability)s that lets them run experiments.")
                % {"person": owner, "capability": capability},
                field="owner",
            )
    if "arm_key" in cleaned:
        cleaned["arm_key"] = (cleaned["arm_key"] or "").strip()
        if not ARM_KEY.match(cleaned["arm_key"]):
            raise DomainError(
                gettext("The arm tag is a version-set key in lower case, e.g. arm."), field="arm_key"
            )
    for name in ("treatment_value", "control_value"):
        if name in cleaned:
            cleaned[name] = (cleaned[name] or "").strip()
            if not cleaned[name]:
                raise DomainError(gettext("Give the tag value of this arm."), field=name)
    treatment, control = other("treatment_value"), other("control_value")
    changed_arms = "treatment_value" in cleaned or "control_value" in cleaned
    if changed_arms and treatment is not None and treatment == control:
        raise DomainError(gettext("Treatment and control need different tag values."), field="control_value")
    if cleaned.get("tested_assumption") is not None:
        assumption = cleaned["tested_assumption"]
        if assumption.capability_id != capability.pk:
            raise DomainError(
                gettext("%(assumption)s is not an assumption of %(capability)s.")
                % {"assumption": assumption.readable_id, "capability": capability},
                field="tested_assumption",
            )
        if not assumption.is_live:
            raise DomainError(
                gettext("%(assumption)s is %(status)s: an experiment tests a live assumption.")
                % {"assumption": assumption.readable_id, "status": assumption.get_status_display().lower()},
                field="tested_assumption",
            )
    return cleaned


@transaction.atomic
def experiment_create(
    *,
    capability,
    by,
    title: str,
    hypothesis: str,
    population: str,
    treatment: str,
    control_or_baseline: str,
    primary_metric,
    start_date: datetime.date | None,
    planned_end_date: datetime.date | None,
    owner,
    guardrails=(),
    arm_key: str = "arm",
    treatment_value: str = "treatment",
    control_value: str = "control",
    tested_assumption=None,
) -> Experiment:
    """Register a proposed experiment (playbook 13.1). The primary metric and the guardrails are
    active contracts of the capability; the tested assumption is a live one of the capability."""
    if capability is None:
        raise DomainError(gettext("Choose the capability the experiment belongs to."), field="capability")
    if by is not None:
        require_change(by, Activity.EXPERIMENT_REGISTRY, capability)
    values = _check(
        capability,
        {
            "title": title,
            "hypothesis": hypothesis,
            "population": population,
            "treatment": treatment,
            "control_or_baseline": control_or_baseline,
            "primary_metric": primary_metric,
            "guardrails": guardrails,
            "start_date": start_date,
            "planned_end_date": planned_end_date,
            "owner": owner,
            "arm_key": arm_key,
            "treatment_value": treatment_value,
            "control_value": control_value,
            "tested_assumption": tested_assumption,
        },
    )
    guardrails = values.pop("guardrails")
    experiment = Experiment(capability=capability, **values)
    experiment._history_user = by
    experiment._change_reason = gettext("Experiment registered")
    experiment.save()
    experiment.guardrails.set(guardrails)
    return experiment


@transaction.atomic
def experiment_update(*, experiment: Experiment, by, fields: dict) -> Experiment:
    """Change an experiment's details. What the running test measures (hypothesis, primary
    metric, arm tags, start, tested assumption) is fixed once it runs; in readout only the title
    and owner change; a decided experiment not at all."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            gettext("These fields are not edited here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    row = Experiment.objects.select_for_update().select_related("capability").get(pk=experiment.pk)
    if by is not None:
        require_change(by, Activity.EXPERIMENT_REGISTRY, row.capability)
    current_guardrails = list(row.guardrails.order_by("pk"))
    changes = {}
    for name, value in fields.items():
        if name == "guardrails":
            if sorted(contract.pk for contract in value or []) != [c.pk for c in current_guardrails]:
                changes[name] = value
        elif getattr(row, name) != value:
            changes[name] = value
    allowed = EDITABLE_IN_STATE[row.state]
    for name in changes:
        if name not in allowed:
            raise DomainError(
                gettext("%(field)s cannot change while the experiment is %(state)s.")
                % {
                    "field": str(Experiment._meta.get_field(name).verbose_name).capitalize(),
                    "state": row.get_state_display().lower(),
                },
                field=name,
            )
    if not changes:
        return experiment
    stored = {
        name: getattr(row, name)
        for name in ("primary_metric", "start_date", "planned_end_date", "treatment_value", "control_value")
    }
    stored["guardrails"] = current_guardrails
    cleaned = _check(row.capability, changes, stored)
    guardrails = cleaned.pop("guardrails", None)
    for name in changes:
        if name != "guardrails":
            setattr(row, name, cleaned[name])
    reason = gettext("Details edited")
    if guardrails is not None:
        reason = gettext("Details edited; guardrails now %(metrics)s") % {
            "metrics": ", ".join(contract.metric_id for contract in guardrails) or "—"
        }
    row._history_user = by
    row._change_reason = reason
    row.save()
    if guardrails is not None:
        row.guardrails.set(guardrails)
    experiment._sync_from(row)
    experiment._prefetched_objects_cache = {}
    return experiment


def _decision_text(experiment: Experiment, decision: str, comment: str) -> str:
    return gettext("%(id)s %(title)s: %(decision)s. %(comment)s") % {
        "id": experiment.readable_id,
        "title": experiment.title,
        "decision": ExperimentDecision(decision).label,
        "comment": comment,
    }


@transaction.atomic
def experiment_decide(
    *,
    experiment: Experiment,
    by,
    decision: str,
    comment: str,
    assumption_status: str | None = None,
    assumption_evidence: str = "",
    decided_on: datetime.date | None = None,
) -> Experiment:
    """The experiment review decides (playbook 13.3): continue, scale, stop or redesign.

    In one transaction: the readout is computed and frozen on the experiment with its summary as
    the result; the decision log records the decision (evidence: the experiment and its primary
    metric; details: the frozen readout); the tested assumption, if any, is reviewed into
    ``assumption_status`` (confirmed, weakened or invalidated, required then) with the readout as
    evidence and the decision as its source. Scaling needs a readout with enough data.
    """
    row = lock(experiment)
    row.check_move("decide", by)
    if decision not in ExperimentDecision.values:
        raise DomainError(gettext("Choose continue, scale, stop or redesign."), field="decision")
    comment = (comment or "").strip()
    if not comment:
        raise DomainError(
            gettext("Say why: the comment is what the decision log and the next forum read."), field="comment"
        )
    assumption = row.tested_assumption
    if assumption is not None:
        if assumption_status not in AssumptionOutcome.values:
            raise DomainError(
                gettext("Say what the readout did to %(assumption)s: confirmed, weakened or invalidated.")
                % {"assumption": assumption.readable_id},
                field="assumption_status",
            )
        if not assumption.is_live or assumption.expires_on < timezone.localdate():
            raise DomainError(
                gettext(
                    "%(assumption)s is %(status)s or past its expiry: review it in the assumption ledger "
                    "with a new expiry date first."
                )
                % {"assumption": assumption.readable_id, "status": assumption.get_status_display().lower()},
                field="assumption_status",
            )
    elif assumption_status:
        raise DomainError(
            gettext("This experiment tests no assumption: leave the assumption status empty."),
            field="assumption_status",
        )
    readout = experiment_readout(row)
    if decision == ExperimentDecision.SCALE and not readout.sufficient:
        raise DomainError(
            gettext(
                "Scaling needs a readout with enough data on the primary metric (%(reason)s). "
                "Extend the experiment, continue, stop or redesign instead."
            )
            % {"reason": readout.primary.reason.rstrip(".")},
            field="decision",
        )
    snapshot = readout.as_dict()
    result = readout_summary(snapshot)
    record = decision_record(
        capability=row.capability,
        by=by,
        type=DECISION_TYPES[decision],
        decision=_decision_text(row, decision, comment),
        options_considered=gettext("Continue, scale, stop or redesign (experiment review)."),
        owner=row.owner,
        evidence=[row.readable_id, row.primary_metric],
        decided_on=decided_on,
        details=snapshot,
    )
    review = None
    if assumption is not None:
        evidence = gettext("%(id)s readout: %(result)s") % {"id": row.readable_id, "result": result}
        extra = (assumption_evidence or "").strip()
        if extra:
            evidence = f"{evidence}\n\n{extra}"
        review = assumption.review(
            by=by,
            new_status=assumption_status,
            new_evidence=evidence,
            roadmap_impact=gettext("%(decision)s: %(comment)s")
            % {"decision": ExperimentDecision(decision).label, "comment": comment},
            source=record,
        )
    row.state = ExperimentState.DECIDED
    row.decision = decision
    row.decision_comment = comment
    row.result = result
    row.readout_snapshot = snapshot
    row.decision_record = record
    row.assumption_review = review
    row.decided_at = timezone.now()
    row.decided_by = by
    row._record(
        by,
        gettext("Decided: %(decision)s (%(record)s)")
        % {"decision": ExperimentDecision(decision).label, "record": record.readable_id},
    )
    experiment._sync_from(row)
    return experiment
