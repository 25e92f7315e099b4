"""An experiment's readout, computed from the telemetry (playbook 13.3): the observations of the
primary metric, the guardrails and the capability's cost contracts, inside the experiment's
window, whose version set tags the arm (``{"arm": "control"}`` / ``{"arm": "treatment"}``).

Each contract's control and treatment rows go through ``contracts.stats.compare`` (ratio
contracts pooled from numerator and denominator with the delta-method variance, others as the
sample-weighted mean): the difference treatment - control with its 95% interval, or the reason
there is too little data, in which case no number is shown at all. The primary metric is also
compared within each value of each of its required cuts.

One query reads the observations of every contract the readout needs; the rest is arithmetic.
``Readout.as_dict()`` is what the page, the API and the frozen snapshot of a decision show.
"""

import dataclasses
import datetime
import math

from django.utils import timezone
from django.utils.translation import gettext as _

from contracts.choices import Category, ContractStatus, Direction, SignalLevel
from contracts.models import MetricContract, Observation
from contracts.stats import MIN_ROWS, Z_95, Comparison, Row, compare
from experiments.choices import GuardrailStatus, Verdict


@dataclasses.dataclass
class Arm:
    """One arm of one comparison: its pooled value (only when the comparison has enough data),
    how many observation rows and cases it rests on, and the contract's level at that value."""

    value: float | None
    display: str
    rows: int
    sample_size: int
    level: str


@dataclasses.dataclass
class Effect:
    """Treatment against control on one contract (or one cohort of it)."""

    metric_id: str
    name: str
    unit: str
    category: str
    direction: str
    is_ratio: bool
    control: Arm
    treatment: Arm
    sufficient: bool
    reason: str
    difference: float | None
    ci_low: float | None
    ci_high: float | None
    relative_change: float | None
    significant: bool
    verdict: str
    verdict_display: str
    difference_display: str
    ci_display: str
    relative_display: str
    label: str = ""
    status: str = ""
    status_display: str = ""


@dataclasses.dataclass
class CohortGroup:
    """The primary metric's effect in each value of one required cut."""

    dimension: str
    effects: list[Effect]
    differs: bool


@dataclasses.dataclass
class Readout:
    experiment: str
    window_start: datetime.date
    window_end: datetime.date
    arm_key: str
    control_value: str
    treatment_value: str
    primary: Effect
    guardrails: list[Effect]
    cohorts: list[CohortGroup]
    costs: list[Effect]
    computed_at: datetime.datetime

    @property
    def sufficient(self) -> bool:
        return self.primary.sufficient

    @property
    def guardrails_held(self) -> bool | None:
        """True when every guardrail held, False when one did not, None when none could be read."""
        statuses = [effect.status for effect in self.guardrails]
        if any(status in _NOT_HELD for status in statuses):
            return False
        if any(status == GuardrailStatus.OK for status in statuses):
            return True
        return None

    @property
    def cohorts_differ(self) -> bool:
        return any(group.differs for group in self.cohorts)

    @property
    def cohorts_readable(self) -> bool:
        """At least one cohort has enough data for a figure."""
        return any(effect.sufficient for group in self.cohorts for effect in group.effects)

    def summary(self) -> str:
        """The result line of the registry (13.1): the figures the decision rests on, in words."""
        return readout_summary(self.as_dict())

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["window_start"] = self.window_start.isoformat()
        data["window_end"] = self.window_end.isoformat()
        data["computed_at"] = self.computed_at.isoformat()
        data["guardrails_held"] = self.guardrails_held
        data["cohorts_differ"] = self.cohorts_differ
        data["cohorts_readable"] = self.cohorts_readable
        return data


_NOT_HELD = {GuardrailStatus.WORSE_PAST_WARNING, GuardrailStatus.PAST_WARNING_IN_BOTH}


# Formatting ------------------------------------------------------------------------------------


def format_difference(contract: MetricContract, value: float | None) -> str:
    """A difference as people read it: shares in percentage points, other units after the number."""
    if value is None:
        return "—"
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    size = abs(value)
    if contract.unit.startswith("share") or contract.unit == "%":
        points = size * 100 if contract.unit.startswith("share") else size
        # "pp": percentage points, the difference of two percentages.
        return _("%(sign)s%(points).2f pp") % {"sign": sign, "points": points}
    return f"{sign}{contract.format_value(size)}"


def _relative(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:+.1f}%"


def _reason(comparison: Comparison, contract: MetricContract) -> str:
    """Why there is no number, in the reader's language (the order of ``stats.compare``'s checks)."""
    control, treatment = comparison.before, comparison.after
    if control.rows == 0 and treatment.rows == 0:
        return _("No observation in the window carries the arm tags.")
    if control.rows < MIN_ROWS or treatment.rows < MIN_ROWS:
        return _(
            "Too few observations: %(control)d in control and %(treatment)d in treatment; "
            "at least %(min)d each."
        ) % {"control": control.rows, "treatment": treatment.rows, "min": MIN_ROWS}
    minimum = contract.min_sample_size
    if control.sample_size < minimum or treatment.sample_size < minimum:
        return _(
            "Sample below the contract's minimum of %(min)s: %(control)s in control and "
            "%(treatment)s in treatment."
        ) % {
            "min": f"{minimum:,}",
            "control": f"{control.sample_size:,}",
            "treatment": f"{treatment.sample_size:,}",
        }
    return _("The observations do not vary enough to estimate an interval.")


def _verdict(contract: MetricContract, comparison: Comparison) -> str:
    if not comparison.sufficient:
        return Verdict.INSUFFICIENT
    if not comparison.significant:
        return Verdict.NO_CLEAR_CHANGE
    lower_is_better = contract.direction == Direction.LOWER_IS_BETTER
    return Verdict.BETTER if (comparison.difference < 0) == lower_is_better else Verdict.WORSE


def _arm(contract: MetricContract, estimate, sufficient: bool) -> Arm:
    value = estimate.value if sufficient else None
    return Arm(
        value=value,
        display=contract.format_value(value),
        rows=estimate.rows,
        sample_size=estimate.sample_size,
        level=contract.level_of(value) if value is not None else "",
    )


def guardrail_status(contract: MetricContract, effect: Effect) -> str:
    """Held, or not: the treatment's value at warning or worse (``level_of``, which knows the
    contract's direction) is flagged; "worse, past warning" when the treatment is also no better
    than control, "past warning in both arms" when control was there too and did worse."""
    if not effect.sufficient:
        return GuardrailStatus.INSUFFICIENT
    if effect.treatment.level in ("", SignalLevel.OK):
        return GuardrailStatus.OK
    lower_is_better = contract.direction == Direction.LOWER_IS_BETTER
    better = effect.difference < 0 if lower_is_better else effect.difference > 0
    return GuardrailStatus.PAST_WARNING_IN_BOTH if better else GuardrailStatus.WORSE_PAST_WARNING


def effect_of(
    contract: MetricContract, control: list[Row], treatment: list[Row], *, label: str = "", status=False
) -> Effect:
    """Compare the two arms' rows of one contract."""
    comparison = compare(
        control, treatment, is_ratio=contract.is_ratio, min_sample_size=contract.min_sample_size
    )
    sufficient = comparison.sufficient
    verdict = _verdict(contract, comparison)
    effect = Effect(
        metric_id=contract.metric_id,
        name=contract.name,
        unit=contract.unit,
        category=contract.category,
        direction=contract.direction,
        is_ratio=contract.is_ratio,
        control=_arm(contract, comparison.before, sufficient),
        treatment=_arm(contract, comparison.after, sufficient),
        sufficient=sufficient,
        reason="" if sufficient else _reason(comparison, contract),
        difference=comparison.difference,
        ci_low=comparison.ci_low,
        ci_high=comparison.ci_high,
        relative_change=comparison.relative_change,
        significant=comparison.significant,
        verdict=verdict,
        verdict_display=str(Verdict(verdict).label),
        difference_display=format_difference(contract, comparison.difference),
        ci_display=(
            _("%(low)s to %(high)s")
            % {
                "low": format_difference(contract, comparison.ci_low),
                "high": format_difference(contract, comparison.ci_high),
            }
            if sufficient
            else "—"
        ),
        relative_display=_relative(comparison.relative_change),
        label=label,
    )
    if status:
        effect.status = guardrail_status(contract, effect)
        effect.status_display = str(GuardrailStatus(effect.status).label)
    return effect


def _differs(effects: list[Effect]) -> bool:
    """Cohorts responded differently when the effects of two of them differ by more than 1.96
    standard errors of their difference (each effect's standard error read off its interval)."""
    readable = [effect for effect in effects if effect.sufficient]
    for index, first in enumerate(readable):
        for second in readable[index + 1 :]:
            se_first = (first.ci_high - first.ci_low) / (2 * Z_95)
            se_second = (second.ci_high - second.ci_low) / (2 * Z_95)
            if abs(first.difference - second.difference) > Z_95 * math.sqrt(se_first**2 + se_second**2):
                return True
    return False


def cost_contracts(experiment, guardrails=None) -> list[MetricContract]:
    """The contracts that answer "did cost or capacity change?": the experiment's cost guardrails
    and the capability's active cost contracts (other than the primary metric)."""
    if guardrails is None:
        guardrails = experiment.guardrails.all()
    guardrails = [contract for contract in guardrails if contract.category == Category.COST]
    others = MetricContract.objects.filter(
        capability_id=experiment.capability_id, category=Category.COST, status=ContractStatus.ACTIVE
    ).exclude(pk__in=[experiment.primary_metric_id, *(contract.pk for contract in guardrails)])
    return sorted([*guardrails, *others], key=lambda contract: contract.metric_id)


def arm_rows(experiment, contracts, window) -> dict[int, dict[str, list[tuple[dict, Row]]]]:
    """{contract id: {"control": [(cohort, Row)], "treatment": [...]}} of the window's
    observations that carry the experiment's arm tag (one query)."""
    start, end = window
    key = experiment.arm_key
    arms = {experiment.control_value: "control", experiment.treatment_value: "treatment"}
    rows = {contract.pk: {"control": [], "treatment": []} for contract in contracts}
    observations = Observation.objects.filter(
        contract_id__in=list(rows),
        period_start__gte=start,
        period_start__lte=end,
        version_set__has_key=key,
    ).values_list("contract_id", "cohort", "version_set", "value", "numerator", "denominator", "sample_size")
    for contract_id, cohort, version_set, value, numerator, denominator, sample_size in observations.iterator(
        chunk_size=5000
    ):
        arm = arms.get(str(version_set.get(key)))
        if arm is None:
            continue
        rows[contract_id][arm].append((cohort or {}, Row(value, numerator, denominator, sample_size)))
    return rows


def experiment_readout(experiment, *, today: datetime.date | None = None) -> Readout:
    """The experiment's readout as of now: primary metric, guardrails per arm, effect per cohort,
    cost. A plain function: the page, the API, the decision and the tests all call it."""
    window = experiment.window(today)
    primary = experiment.primary_metric
    guardrails = sorted(experiment.guardrails.all(), key=lambda contract: contract.metric_id)
    costs = cost_contracts(experiment, guardrails)
    contracts = {contract.pk: contract for contract in [primary, *guardrails, *costs]}
    rows = arm_rows(experiment, contracts.values(), window)

    def plain(contract_id, arm):
        return [row for _cohort, row in rows[contract_id][arm]]

    def effect(contract, **kwargs):
        return effect_of(contract, plain(contract.pk, "control"), plain(contract.pk, "treatment"), **kwargs)

    cohorts = []
    for dimension in primary.required_cuts or []:
        values = sorted(
            {
                str(cohort[dimension])
                for arm in ("control", "treatment")
                for cohort, _row in rows[primary.pk][arm]
                if cohort.get(dimension) is not None
            }
        )
        effects = []
        for value in values:

            def within(arm, dimension=dimension, value=value):
                return [row for cohort, row in rows[primary.pk][arm] if str(cohort.get(dimension)) == value]

            effects.append(
                effect_of(primary, within("control"), within("treatment"), label=f"{dimension}={value}")
            )
        cohorts.append(CohortGroup(dimension=dimension, effects=effects, differs=_differs(effects)))

    return Readout(
        experiment=experiment.readable_id,
        window_start=window[0],
        window_end=window[1],
        arm_key=experiment.arm_key,
        control_value=experiment.control_value,
        treatment_value=experiment.treatment_value,
        primary=effect(primary),
        guardrails=[effect(contract, status=True) for contract in guardrails],
        cohorts=cohorts,
        costs=[effect(contract, status=True) for contract in costs],
        computed_at=timezone.now(),
    )


def _effect_sentence(effect: dict) -> str:
    if not effect["sufficient"]:
        return _("%(name)s: too little data (%(reason)s)") % {
            "name": effect["name"],
            "reason": effect["reason"].rstrip("."),
        }
    return _(
        "%(name)s: %(verdict)s; control %(control)s (n=%(n_control)s), treatment %(treatment)s "
        "(n=%(n_treatment)s), difference %(difference)s (%(relative)s), 95%% CI %(ci)s"
    ) % {
        "name": effect["name"],
        "verdict": effect["verdict_display"].lower(),
        "control": effect["control"]["display"],
        "n_control": f"{effect['control']['sample_size']:,}",
        "treatment": effect["treatment"]["display"],
        "n_treatment": f"{effect['treatment']['sample_size']:,}",
        "difference": effect["difference_display"],
        "relative": effect["relative_display"],
        "ci": effect["ci_display"],
    }


def readout_summary(readout: dict) -> str:
    """A readout (as a dict, live or frozen) in a few lines of words and figures."""
    lines = [
        _("Readout %(start)s to %(end)s, %(key)s=%(treatment)s against %(key)s=%(control)s.")
        % {
            "start": readout["window_start"],
            "end": readout["window_end"],
            "key": readout["arm_key"],
            "treatment": readout["treatment_value"],
            "control": readout["control_value"],
        },
        _("Primary metric — %(effect)s.") % {"effect": _effect_sentence(readout["primary"])},
    ]
    if readout["guardrails"]:
        lines.append(
            _("Guardrails: %(list)s.")
            % {
                "list": "; ".join(
                    f"{effect['name']} {effect['status_display'].lower()}" for effect in readout["guardrails"]
                )
            }
        )
    differing = [group["dimension"] for group in readout["cohorts"] if group["differs"]]
    if differing:
        lines.append(
            _("Cohorts responded differently by %(dimensions)s.") % {"dimensions": ", ".join(differing)}
        )
    for effect in readout["costs"]:
        lines.append(_("Cost — %(effect)s.") % {"effect": _effect_sentence(effect)})
    return "\n".join(lines)
