"""The figures of the month behind the memo: every contract's baseline, month and previous
month with the movement and trend between them (``contracts.stats.compare``, 95% CI), the words
the memo cites a figure in (metric id and evidence level, below E3 marked), and the plain
figures of the 8.3 matrix reduced from them (outcome movement, adoption level, trends, the
low-risk-cohort-only improvement)."""

import datetime
from collections import defaultdict

from django.utils.translation import gettext

from contracts.choices import below_decision_grade
from forums.memos.matrix import (
    FALLING,
    FLAT,
    HIGH,
    IMPROVED,
    LOW,
    MIXED,
    MODERATE,
    RISING,
    STABLE,
    UNKNOWN,
    WORDS,
    WORSE,
)
from forums.memos.sections import BASELINE_PERIODS, PAST_WARNING, line_of, month_after, month_before
from forums.memos.sums import Window, cut_sums, estimate_of, total, window_sums

# --- figures of the month ----------------------------------------------------------------------


def _comparison(contract, before, after) -> dict:
    """contracts.stats.compare of two groups (their estimates), as the memo shows it."""
    from contracts.stats import MIN_ROWS, compare_estimates
    from forums.meeting import delta_text

    result = compare_estimates(before, after, min_sample_size=contract.min_sample_size)
    moved = ""
    if result.sufficient:
        if not result.significant:
            moved = FLAT
        else:
            worse = (result.difference > 0) == (contract.direction == "lower")
            moved = WORSE if worse else IMPROVED
    thin = ""
    if not result.sufficient:
        if result.before.rows < MIN_ROWS or result.after.rows < MIN_ROWS:
            thin = gettext(
                "too little data: %(before)s and %(after)s observations (at least %(min)s each)"
            ) % {
                "before": result.before.rows,
                "after": result.after.rows,
                "min": MIN_ROWS,
            }
        elif (
            result.before.sample_size < contract.min_sample_size
            or result.after.sample_size < contract.min_sample_size
        ):
            thin = gettext(
                "too little data: samples of %(before)s and %(after)s, below the contract's minimum of %(min)s"
            ) % {
                "before": result.before.sample_size,
                "after": result.after.sample_size,
                "min": contract.min_sample_size,
            }
        else:
            thin = gettext("too little data: the observations do not vary enough to estimate an interval")
    return {
        "before": result.before.value,
        "after": result.after.value,
        "difference": result.difference,
        "ci_low": result.ci_low,
        "ci_high": result.ci_high,
        "sufficient": result.sufficient,
        "significant": result.significant,
        "moved": moved,
        "before_rows": result.before.rows,
        "after_rows": result.after.rows,
        "text": delta_text(contract, result.difference) if result.sufficient else "—",
        "ci_text": (
            f"{delta_text(contract, result.ci_low)} … {delta_text(contract, result.ci_high)}"
            if result.sufficient
            else ""
        ),
        "thin": thin,
    }


def _baseline_window(history: list[tuple], grain: str, month_start: datetime.date):
    """The first periods with enough data, before the month: (start, end exclusive, periods) or
    None. The same "first four periods" the "improvement not net" guardrail reads."""
    from contracts.periods import shift_period

    periods = [
        period
        for period, value, raw_level, _level in history
        if value is not None and raw_level != "insufficient" and period < month_start
    ][:BASELINE_PERIODS]
    if not periods:
        return None
    end = min(shift_period(periods[-1], grain, 1), month_start)
    return periods[0], end, len(periods)


def _grain_word(grain: str, count: int) -> str:
    if grain == "day":
        return gettext("day") if count == 1 else gettext("days")
    if grain == "week":
        return gettext("week") if count == 1 else gettext("weeks")
    if grain == "month":
        return gettext("month") if count == 1 else gettext("months")
    return grain


def contract_figures(contracts, *, month_start: datetime.date, today: datetime.date) -> dict[int, dict]:
    """Every contract's figures for the month, by contract id: the baseline (its first periods
    with enough data, before the month), the month, the previous month, the movement baseline →
    month and the trend previous month → month (both ``contracts.stats.compare``, 95% CI), the
    month's levels, the cohort cuts of outcome contracts, its evidence level and its "not net"
    flag. Three queries whatever the number of contracts: whole-population evaluations, the
    month's cut evaluations, and the observations of the three windows."""
    from contracts.choices import LEVEL_RANK
    from contracts.models import Evaluation
    from contracts.periods import FEEDING_GRAINS

    contracts = list(contracts)
    if not contracts:
        return {}
    month_end = month_after(month_start)
    previous_start = month_before(month_start)
    by_id = {contract.pk: contract for contract in contracts}

    history: dict[int, list[tuple]] = defaultdict(list)
    for contract_id, period, value, raw_level, level in (
        Evaluation.objects.at_own_grain(contracts)
        .whole_population()
        .filter(period_start__lt=month_end)
        .order_by("contract_id", "period_start")
        .values_list("contract_id", "period_start", "value", "raw_level", "level")
    ):
        history[contract_id].append((period, value, raw_level, level))

    cut_levels: dict[int, list[tuple]] = defaultdict(list)
    for contract_id, period, cut, level in (
        Evaluation.objects.at_own_grain(contracts)
        .filter(period_start__gte=month_start, period_start__lt=month_end)
        .exclude(cut="")
        .order_by("contract_id", "period_start", "cut")
        .values_list("contract_id", "period_start", "cut", "level")
    ):
        cut_levels[contract_id].append((period, cut, level))

    baselines = {pk: _baseline_window(history[pk], by_id[pk].grain, month_start) for pk in by_id}
    # The observations are summed in the database by window and cohort (``forums.memos.sums``):
    # one window per distinct (grains, dates), not per contract (most contracts share last month
    # and this month, and many their baseline).
    windows: dict[Window, set[int]] = defaultdict(set)
    months_of: dict[int, Window] = {}
    baseline_of: dict[int, Window] = {}
    for pk, contract in by_id.items():
        feeding = FEEDING_GRAINS[contract.grain]
        months_of[pk] = Window.split(feeding, previous_start, month_end, month_start)
        windows[months_of[pk]].add(pk)
        if baselines[pk] is not None:
            start, end, _n = baselines[pk]
            # A window may overlap another (a young contract's baseline runs into last month):
            # a row counts in every window it falls in.
            baseline_of[pk] = Window.whole(feeding, start, end)
            windows[baseline_of[pk]].add(pk)
    found = window_sums(windows)

    figures = {}
    for pk, contract in by_id.items():
        months = found[(months_of[pk], pk)]
        group = {
            "baseline": found[(baseline_of[pk], pk)].before if pk in baseline_of else [],
            "previous": months.before,
            "month": months.after,
        }
        plain = {name: total(sums for _cohort, sums in rows) for name, rows in group.items()}
        baseline = baselines[pk]
        month_estimate = estimate_of(plain["month"], is_ratio=contract.is_ratio)
        previous_estimate = estimate_of(plain["previous"], is_ratio=contract.is_ratio)
        baseline_estimate = estimate_of(plain["baseline"], is_ratio=contract.is_ratio)
        in_month = [row for row in history[pk] if month_start <= row[0] < month_end]
        levels = [level for _p, _v, _r, level in in_month]
        evaluated = [level for level in levels if level != "insufficient"]
        latest_level = evaluated[-1] if evaluated else "insufficient"
        worst_level = max(evaluated, key=lambda level: LEVEL_RANK.get(level, -1), default="insufficient")
        current = month_estimate.value
        if current is None and in_month and in_month[-1][1] is not None:
            current = in_month[-1][1]
        place = line_of(contract)
        last_period = max((row[0] for row in cut_levels[pk]), default=None)
        figure = {
            "metric_id": contract.metric_id,
            "name": contract.name,
            "category": contract.category,
            "section": place[0] if place else "",
            "line": place[1] if place else "",
            "unit": contract.unit,
            "direction": contract.direction,
            "grain": contract.grain,
            "evidence_level": contract.evidence_level,
            "below_e3": below_decision_grade(contract.evidence_level),
            "url": contract.get_absolute_url(),
            "baseline": baseline_estimate.value,
            "baseline_text": contract.format_value(baseline_estimate.value),
            "baseline_periods": (
                gettext("first %(n)s %(grain)s from %(start)s")
                % {"n": baseline[2], "grain": _grain_word(contract.grain, baseline[2]), "start": baseline[0]}
                if baseline
                else ""
            ),
            "current": current,
            "current_text": contract.format_value(current),
            "previous": previous_estimate.value,
            "previous_text": contract.format_value(previous_estimate.value),
            "month_rows": month_estimate.rows,
            "month_sample": month_estimate.sample_size,
            "movement": _comparison(contract, baseline_estimate, month_estimate),
            "trend": _comparison(contract, previous_estimate, month_estimate),
            "level": latest_level,
            "worst_level": worst_level,
            "worst_level_label": _level_word(worst_level),
            "warning_text": contract.format_value(contract.warning),
            "target_text": contract.format_value(contract.target),
            "at_target": (
                current is not None
                and (
                    current <= contract.target
                    if contract.direction == "lower"
                    else current >= contract.target
                )
            ),
            "not_net": contract.improvement_not_net,
            "not_net_reason": contract.improvement_not_net_reason,
            "cuts_past_warning": sorted(
                {cut for period, cut, level in cut_levels[pk] if level in PAST_WARNING}
            ),
            "cuts_past_warning_last": sorted(
                {
                    cut
                    for period, cut, level in cut_levels[pk]
                    if level in PAST_WARNING and period == last_period
                }
            ),
            "cuts": [],
        }
        if contract.category == "outcome":
            for dimension in contract.required_cuts or []:
                for value, baseline_sums, month_sums in cut_sums(
                    dimension, group["baseline"], group["month"]
                ):
                    comparison = _comparison(
                        contract,
                        estimate_of(baseline_sums, is_ratio=contract.is_ratio),
                        estimate_of(month_sums, is_ratio=contract.is_ratio),
                    )
                    figure["cuts"].append(
                        {"cut": f"{dimension}={value}", "dimension": dimension, **comparison}
                    )
        figures[pk] = figure
    return figures


# --- the words of a figure -------------------------------------------------------------------


def _ref(figure: dict) -> str:
    """A contract as the memo cites it: metric id and evidence level, marked below E3."""
    level = figure["evidence_level"] or "—"
    if figure["below_e3"]:
        return gettext("%(metric)s (%(level)s, below E3)") % {"metric": figure["metric_id"], "level": level}
    return f"{figure['metric_id']} ({level})"


def _level_word(level: str) -> str:
    from contracts.choices import SignalLevel

    try:
        return str(SignalLevel(level).label).lower()
    except ValueError:
        return level


def _movement_words(comparison: dict, *, against: str) -> str:
    """ "+2.1 pts vs baseline (95% CI +1.0 … +3.2 pts, worse)" or the reason there is no figure."""
    if not comparison["sufficient"]:
        return comparison["thin"]
    return gettext("%(difference)s vs %(against)s (95%% CI %(ci)s, %(moved)s)") % {
        "difference": comparison["text"],
        "against": against,
        "ci": comparison["ci_text"],
        "moved": WORDS[comparison["moved"]],
    }


def _trend_sentence(figure: dict, month_label: str) -> str:
    """A figure of the month with its change since the previous month."""
    text = gettext("%(ref)s: %(current)s in %(month)s (%(level)s); %(trend)s") % {
        "ref": _ref(figure),
        "current": figure["current_text"],
        "month": month_label,
        "level": _level_word(figure["level"]),
        "trend": _movement_words(figure["trend"], against=gettext("previous month")),
    }
    return text


def _join(parts, empty: str) -> str:
    parts = [part for part in parts if part]
    return "\n".join(parts) if parts else empty


def _no_contract(what) -> str:
    return gettext("No metric contract measures %(what)s: an evidence gap.") % {"what": str(what).lower()}


# --- the plain figures the matrix reads ------------------------------------------------------


def _direction_word(comparisons: list[dict], *, rising_is: str) -> str:
    """Rising / stable / falling from significant changes; ``rising_is`` names which way a
    worsening goes for these contracts ("worse" means the count or cost went up)."""
    sufficient = [c for c in comparisons if c["sufficient"]]
    if not sufficient:
        return UNKNOWN
    if any(c["moved"] == rising_is for c in sufficient):
        return RISING
    if any(c["moved"] not in (FLAT, rising_is) for c in sufficient):
        return FALLING
    return STABLE


def _outcome_movement(outcomes: list[dict]) -> str:
    moved = {f["movement"]["moved"] for f in outcomes if f["movement"]["sufficient"]}
    if not moved:
        return UNKNOWN
    if IMPROVED in moved and WORSE in moved:
        return MIXED
    if IMPROVED in moved:
        return IMPROVED
    if WORSE in moved:
        return WORSE
    return FLAT


def _primary_adoption(adoption: list[dict]) -> dict | None:
    """The adoption contract that says whether people use the capability: qualified use first,
    then any use or coverage rate, then the first adoption contract."""
    for words in (("qualified_use", "qualified use"), ("use", "usage", "coverage")):
        for figure in adoption:
            text = f"{figure['metric_id']} {figure['name']}".lower()
            if any(word in text for word in words):
                return figure
    return adoption[0] if adoption else None


def _adoption_level(figure: dict | None) -> str:
    if figure is None or figure["current"] is None:
        return UNKNOWN
    if figure["at_target"]:
        return HIGH
    if figure["level"] in PAST_WARNING:
        return LOW
    if figure["level"] == "insufficient":
        return UNKNOWN
    return MODERATE


def _low_risk_cohort_only(outcomes: list[dict], risky_cuts: set[str]) -> tuple[bool, str]:
    """Does an outcome improve in some cohorts of a cut, all of them low-risk, and not in a
    high-risk cohort of the same cut? A high-risk cohort is one where a risk or quality
    contract of the capability stood at warning or worse during the month."""
    for figure in outcomes:
        by_dimension: dict[str, list[dict]] = defaultdict(list)
        for cut in figure["cuts"]:
            by_dimension[cut["dimension"]].append(cut)
        for cuts in by_dimension.values():
            improving = [c for c in cuts if c["moved"] == IMPROVED]
            high_risk_not_improving = [
                c for c in cuts if c["cut"] in risky_cuts and c["moved"] != IMPROVED and c["after_rows"]
            ]
            if improving and high_risk_not_improving and not any(c["cut"] in risky_cuts for c in improving):
                return True, gettext(
                    "%(ref)s improves in %(good)s; not in %(bad)s, where a risk or quality contract is at "
                    "warning or worse"
                ) % {
                    "ref": _ref(figure),
                    "good": ", ".join(f"{c['cut']} ({c['text']}, 95% CI {c['ci_text']})" for c in improving),
                    "bad": ", ".join(
                        f"{c['cut']} ({c['text'] if c['sufficient'] else c['thin']})"
                        for c in high_risk_not_improving
                    ),
                }
    return False, ""
