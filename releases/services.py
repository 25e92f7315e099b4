"""Work on the release calendar that spans models: creating and editing releases with their
evidence checklist, the capability's current version set, the computed observed effect of the
post-release impact review, calendar feed tokens and review reminders. Keyword-only, atomic;
``by=None`` means the system. The moves of one release are its model methods."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from contracts.choices import ContractStatus, Direction, SignalLevel
from contracts.models import Evaluation, MetricContract, Observation
from contracts.periods import FEEDING_GRAINS, period_start_of, shift_period
from contracts.stats import MIN_ROWS, Row, compare
from productops.errors import DomainError, TransitionNotAllowed
from productops.notifications import notify
from productops.permissions import require_change, roles_of
from productops.roles import Activity, Role
from releases.choices import (
    DEFAULT_IMPACT_PERIODS,
    EDITABLE_STATES,
    ObjectType,
    evidence_required,
)
from releases.models import CalendarToken, EvidenceItem, Release

# Fields a person sets; the state, dates of deployment and rollback move through the methods.
EDITABLE_FIELDS = [
    "planned_date",
    "object_type",
    "change",
    "version_from",
    "version_to",
    "affected_population",
    "risk_tier",
    "owner",
    "canary_plan",
    "rollback_plan",
    "post_release_review_date",
]
_TEXT_FIELDS = {"change", "version_from", "version_to", "affected_population", "canary_plan", "rollback_plan"}


def _clean_text(fields: dict) -> dict:
    return {
        name: (value or "").replace("\r\n", "\n").strip() if name in _TEXT_FIELDS else value
        for name, value in fields.items()
    }


def _validate(release: Release) -> None:
    """The model's field rules plus the release's own, each error under its field's name."""
    errors: dict[str, list] = {}
    try:
        release.full_clean(exclude=["readable_id"])
    except ValidationError as error:
        errors.update(error.message_dict)
    owner = release.owner if release.owner_id else None
    if owner is not None and not (
        owner.is_active and (owner.is_superuser or roles_of(owner, release.capability_id) - {Role.VIEWER})
    ):
        errors.setdefault("owner", []).append(
            gettext("%(person)s holds no role on %(capability)s that lets them own a release.")
            % {"person": owner, "capability": release.capability}
        )
    if release.version_from and release.version_from == release.version_to:
        errors.setdefault("version_to", []).append(
            gettext("The new version must differ from the current one.")
        )
    if (
        release.planned_date
        and release.post_release_review_date
        and release.post_release_review_date < release.planned_date
    ):
        errors.setdefault("post_release_review_date", []).append(
            gettext("The post-release review date cannot be before the planned date.")
        )
    if errors:
        raise ValidationError(errors)


def evidence_checklist_sync(release: Release) -> None:
    """Make the checklist what the object type and risk tier require: missing items are added,
    items no longer required are dropped, attestations of the items that stay are kept."""
    wanted = evidence_required(release.object_type, release.risk_tier)
    existing = {item.key: item for item in release.evidence_items.all()}
    for key, item in existing.items():
        if key not in wanted:
            item.delete()
    for position, key in enumerate(wanted):
        item = existing.get(key)
        if item is None:
            EvidenceItem.objects.create(release=release, key=key, position=position)
        elif item.position != position:
            EvidenceItem.objects.filter(pk=item.pk).update(position=position)


@transaction.atomic
def release_create(*, by, capability, **fields) -> Release:
    """Put a release on the calendar as a draft, with the evidence checklist of its object type.

    The risk tier defaults to the capability's; the version from defaults to the capability's
    current version of the object type. Raises ValidationError naming the fields, or
    PermissionDenied when ``by`` may not keep the capability's release calendar.
    """
    if capability is None:
        raise ValidationError({"capability": [gettext("Choose the capability the release changes.")]})
    if by is not None:
        require_change(by, Activity.RELEASE_CALENDAR, capability)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            gettext("These fields are not set here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    fields = _clean_text(fields)
    if not fields.get("risk_tier"):
        fields["risk_tier"] = capability.risk_tier
    if not fields.get("version_from") and fields.get("object_type"):
        fields["version_from"] = (capability.current_version_set or {}).get(fields["object_type"], "")
    release = Release(capability=capability, **fields)
    _validate(release)
    release._history_user = by
    release._change_reason = gettext("Put on the release calendar")
    release.save()
    evidence_checklist_sync(release)
    return release


@transaction.atomic
def release_update(*, release: Release, by, fields: dict) -> Release:
    """Change a draft release (or one sent back with changes requested). A change of object
    type or risk tier changes the evidence checklist with it."""
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(
            gettext("These fields are not edited here: %(names)s.") % {"names": ", ".join(sorted(unknown))}
        )
    row = Release.objects.select_for_update().select_related("capability").get(pk=release.pk)
    if by is not None:
        require_change(by, Activity.RELEASE_CALENDAR, row.capability)
    if row.state not in EDITABLE_STATES:
        raise TransitionNotAllowed(
            gettext("A %(state)s release is not edited: only drafts and releases sent back for changes are.")
            % {"state": row.get_state_display().lower()},
            field="state",
        )
    fields = _clean_text(fields)
    if "risk_tier" in fields and not fields["risk_tier"]:
        fields["risk_tier"] = row.capability.risk_tier
    changed = [name for name, value in fields.items() if getattr(row, name) != value]
    if not changed:
        return row
    for name in changed:
        setattr(row, name, fields[name])
    _validate(row)
    row._history_user = by
    row._change_reason = gettext("Edited")
    row.save()
    if {"object_type", "risk_tier"} & set(changed):
        evidence_checklist_sync(row)
    release.refresh_from_db()
    return row


# --- the capability's current version set --------------------------------------------------


@transaction.atomic
def capability_version_set_apply(*, capability, object_type: str, version: str, by, reason: str) -> dict:
    """Write ``object_type: version`` into the capability's current version set (an empty
    version removes the entry). The release calendar is its only writer; the capability's
    history row says which release did it."""
    from portfolio.models import Capability

    if object_type not in ObjectType.values:
        raise DomainError(gettext("Not an object type a release changes."), field="object_type")
    row = Capability.objects.select_for_update().get(pk=capability.pk)
    versions = dict(row.current_version_set or {})
    if version:
        versions[object_type] = version
    else:
        versions.pop(object_type, None)
    if versions != (row.current_version_set or {}):
        row.current_version_set = versions
        row._history_user = by
        row._change_reason = reason
        row.save(update_fields=["current_version_set", "updated_at"])
    capability.current_version_set = versions
    return versions


# --- the observed effect of a post-release impact review (playbook 21.3) -----------------------


def impact_windows(deployed: datetime.date, grain: str, periods: int) -> dict:
    """The ``periods`` whole periods of the contract's grain before the deployed date and the
    ``periods`` after it. The period the release landed in mixes both versions, so it belongs to
    neither (unless the release landed on its first day). Ends are exclusive."""
    landing = period_start_of(deployed, grain)
    after_start = landing if deployed == landing else shift_period(landing, grain, 1)
    return {
        "before_start": shift_period(landing, grain, -periods),
        "before_end": landing,
        "after_start": after_start,
        "after_end": shift_period(after_start, grain, periods),
    }


def _signed(text: str) -> str:
    # A difference that rounds to nothing reads as no change, not as "-0.0".
    return "±" + text[1:] if text.strip("+-0.,") == "" else text


def _delta_text(contract: MetricContract, value: float | None) -> str:
    """A difference as people say it: points for shares and percentages, units otherwise."""
    if value is None:
        return "—"
    if contract.unit.startswith("share"):
        return gettext("%(value)s pts") % {"value": _signed(f"{value * 100:+.1f}")}
    if contract.unit == "%":
        return gettext("%(value)s pts") % {"value": _signed(f"{value:+.1f}")}
    size = abs(value)
    number = f"{value:+,.0f}" if size >= 100 else f"{value:+.1f}" if size >= 10 else f"{value:+.3g}"
    return f"{_signed(number)} {contract.unit}".strip()


def _thin_reason(result, contract: MetricContract) -> str:
    before, after = result.before, result.after
    if before.rows < MIN_ROWS or after.rows < MIN_ROWS:
        return gettext("Too little data: %(before)s and %(after)s observations (at least %(min)s each).") % {
            "before": before.rows,
            "after": after.rows,
            "min": MIN_ROWS,
        }
    if before.sample_size < contract.min_sample_size or after.sample_size < contract.min_sample_size:
        return gettext(
            "Too little data: samples of %(before)s and %(after)s, below the contract's minimum of %(min)s."
        ) % {"before": before.sample_size, "after": after.sample_size, "min": contract.min_sample_size}
    return gettext("Too little data: the observations do not vary enough to estimate an interval.")


def _figure(contract: MetricContract, before: list[Row], after: list[Row], cut: str) -> dict:
    """Before and after of one contract for one cut: the comparison of ``contracts.stats`` and
    what it means for the contract (worse by its direction, past its warning)."""
    return figure_of(
        contract,
        compare(before, after, is_ratio=contract.is_ratio, min_sample_size=contract.min_sample_size),
        cut,
    )


def figure_of(contract: MetricContract, result, cut: str) -> dict:
    """``_figure`` of a comparison already made (``contracts.stats.Comparison``)."""
    after_value = result.after.value
    after_level = contract.level_of(after_value) if after_value is not None else SignalLevel.INSUFFICIENT_DATA
    moved = ""
    if result.difference is not None:
        if result.difference == 0:
            moved = "unchanged"
        else:
            worse = (
                result.difference > 0
                if contract.direction == Direction.LOWER_IS_BETTER
                else result.difference < 0
            )
            moved = "worse" if worse else "better"
    regression = bool(
        result.sufficient
        and moved == "worse"
        and after_level in (SignalLevel.WARNING, SignalLevel.BREACH, SignalLevel.STOP)
    )
    return {
        "cut": cut,
        "before": result.before.value,
        "after": after_value,
        "difference": result.difference,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "sufficient": result.sufficient,
        "significant": result.significant,
        "before_rows": result.before.rows,
        "after_rows": result.after.rows,
        "before_sample": result.before.sample_size,
        "after_sample": result.after.sample_size,
        "moved": moved,
        "after_level": str(after_level),
        "regression": regression,
        "thin": "" if result.sufficient else _thin_reason(result, contract),
        "display": {
            "before": contract.format_value(result.before.value),
            "after": contract.format_value(after_value),
            "difference": _delta_text(contract, result.difference),
            "ci": (
                f"{_delta_text(contract, result.ci_low)} … {_delta_text(contract, result.ci_high)}"
                if result.sufficient
                else ""
            ),
            "after_level": str(SignalLevel(after_level).label),
        },
    }


def _latest_level():
    latest = Evaluation.objects.filter(contract=OuterRef("pk"), cut="").order_by("-period_start")
    return Subquery(latest.values("level")[:1]), Subquery(latest.values("period_start")[:1])


def impact_figures(release: Release, *, periods: int = DEFAULT_IMPACT_PERIODS) -> dict:
    """The observed effect of a release, computed, not typed (playbook 21.3).

    For each active contract of the capability: the observations of the ``periods`` periods (the
    contract's grain) before and after the deployed date (``impact_windows``), whole population
    and each value of each required cut, compared by ``contracts.stats.compare``: the value
    before and after, the difference after - before and its 95% interval. A regression is a
    contract that moved the wrong way (by its direction) and whose value after is past its
    warning level; thin data says so instead of a number. Guardrail status is the latest level
    of each contract that guards another. JSON-ready: the impact review stores it as the
    reviewer saw it.
    """
    periods = max(1, min(int(periods or DEFAULT_IMPACT_PERIODS), 52))
    result = {
        "release": release.readable_id,
        "object_type": release.object_type,
        "periods": periods,
        "deployed_date": release.deployed_date.isoformat() if release.deployed_date else None,
        "computed_at": timezone.now().isoformat(),
        "contracts": [],
        "guardrails": [],
        "regressions": [],
        "thin": 0,
        "incomplete": False,
    }
    if release.deployed_date is None:
        return result
    today = timezone.localdate()
    level, level_period = _latest_level()
    contracts = list(
        MetricContract.objects.filter(capability_id=release.capability_id, status=ContractStatus.ACTIVE)
        .annotate(latest_level=level, latest_period=level_period)
        .prefetch_related("guardrails")
        .order_by("category", "metric_id")
    )
    guards: dict[int, list[str]] = {}
    for contract in contracts:
        for guardrail in contract.guardrails.all():
            guards.setdefault(guardrail.pk, []).append(contract.metric_id)
    for contract in contracts:
        window = impact_windows(release.deployed_date, contract.grain, periods)
        rows = Observation.objects.filter(
            contract=contract,
            grain__in=FEEDING_GRAINS[contract.grain],
            period_start__gte=window["before_start"],
            period_start__lt=window["after_end"],
        ).values_list("period_start", "cohort", "value", "numerator", "denominator", "sample_size")
        before, after = [], []
        for period, cohort, value, numerator, denominator, sample in rows:
            row = (cohort or {}, Row(value, numerator, denominator, sample))
            if period < window["before_end"]:
                before.append(row)
            elif period >= window["after_start"]:
                after.append(row)
        whole = _figure(contract, [r for _c, r in before], [r for _c, r in after], "")
        cuts = []
        for dimension in contract.required_cuts or []:
            values = sorted({str(c[dimension]) for c, _r in before + after if dimension in c})
            for value in values:
                cuts.append(
                    _figure(
                        contract,
                        [r for c, r in before if str(c.get(dimension)) == value],
                        [r for c, r in after if str(c.get(dimension)) == value],
                        f"{dimension}={value}",
                    )
                )
        figures = [whole, *cuts]
        regressions = [f["cut"] for f in figures if f["regression"]]
        incomplete = window["after_end"] > today
        result["incomplete"] = result["incomplete"] or incomplete
        entry = {
            "metric_id": contract.metric_id,
            "name": contract.name,
            "category": contract.category,
            "direction": contract.direction,
            "unit": contract.unit,
            "grain": contract.grain,
            "warning": contract.warning,
            "warning_display": contract.format_value(contract.warning),
            "window": {name: day.isoformat() for name, day in window.items()},
            "after_complete": not incomplete,
            "is_guardrail": contract.pk in guards,
            "whole": whole,
            "cuts": cuts,
            "regression": bool(regressions),
        }
        result["contracts"].append(entry)
        result["thin"] += sum(1 for f in figures if not f["sufficient"])
        for cut in regressions:
            result["regressions"].append(f"{contract.metric_id} [{cut}]" if cut else contract.metric_id)
        if contract.pk in guards:
            latest = contract.latest_level or SignalLevel.INSUFFICIENT_DATA
            result["guardrails"].append(
                {
                    "metric_id": contract.metric_id,
                    "name": contract.name,
                    "guards": sorted(guards[contract.pk]),
                    "level": latest,
                    "level_display": str(SignalLevel(latest).label),
                    "period": contract.latest_period.isoformat() if contract.latest_period else None,
                    "holding": latest in (SignalLevel.OK, SignalLevel.INSUFFICIENT_DATA),
                }
            )
    return result


# --- iCal feed tokens ---------------------------------------------------------------------------


def calendar_token_for(user) -> CalendarToken:
    """The person's feed token, made on first use."""
    token, _created = CalendarToken.objects.get_or_create(user=user)
    return token


@transaction.atomic
def calendar_token_regenerate(*, user) -> CalendarToken:
    """A new secret: every copy of the old feed URL stops working."""
    from releases.models import _new_token

    token, _created = CalendarToken.objects.select_for_update().get_or_create(user=user)
    token.token = _new_token()
    token.save(update_fields=["token", "created_at"])
    return token


def user_for_calendar_token(token: str):
    """The active person a feed token belongs to, or None."""
    row = CalendarToken.objects.select_related("user").filter(token=token or "").first()
    if row is None or not row.user.is_active:
        return None
    return row.user


# --- reminders ------------------------------------------------------------------------------------


def impact_reviews_due_notify(today: datetime.date | None = None) -> list[str]:
    """Tell each deployed release's owner once that its post-release impact review is due
    (at or after the review date). Safe to run twice: the reminder is remembered per date."""
    today = today or timezone.localdate()
    told = []
    due = Release.objects.review_due(today).select_related("owner", "capability")
    for release in due:
        if release.review_reminder_sent_for == release.post_release_review_date:
            continue
        with transaction.atomic():
            claimed = (
                Release.objects.filter(pk=release.pk)
                .exclude(review_reminder_sent_for=release.post_release_review_date)
                .update(review_reminder_sent_for=release.post_release_review_date)
            )
            if not claimed:
                continue
            notify(
                recipients=[release.owner],
                subject=gettext("%(id)s: post-release impact review due") % {"id": release.readable_id},
                body=gettext(
                    "The impact review of %(id)s (%(change)s on %(capability)s) was due on %(date)s. "
                    "The observed effect is computed on its impact page."
                )
                % {
                    "id": release.readable_id,
                    "change": release.change,
                    "capability": release.capability,
                    "date": release.post_release_review_date.isoformat(),
                },
                url=release.get_absolute_url() + "impact/",
            )
        told.append(release.readable_id)
    return told


def releases_visible_for_feed(user):
    """Releases whose dates go into the person's calendar feed: those of capabilities they can
    see, except rejected ones."""
    return (
        Release.objects.visible_to(user)
        .exclude(state="rejected")
        .select_related("capability", "owner")
        .order_by("planned_date", "id")
    )
