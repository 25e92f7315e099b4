"""The observed effect of many releases at once: ``releases.services.impact_figures`` for each
release given, read in three queries however many releases and contracts there are (the
capabilities' active contracts with their latest level, their guardrails, and the observations of
every release's windows, summed by cohort in the database: ``forums.memos.sums``). The monthly
memo reads it for the live releases that have no impact review yet, and the boards read it for
the same releases: one reading, the same figures."""

from collections import defaultdict

from django.utils import timezone

from forums.memos.sums import Sums, Window, cut_sums, estimate_of, total, window_sums


def _window_of(window: dict, grain: str) -> Window:
    """A release's impact window (``releases.services.impact_windows``) at a contract's grain, as
    the observations are summed: the periods before, the landing period left out, the periods
    after."""
    from contracts.periods import FEEDING_GRAINS

    return Window(
        tuple(sorted(FEEDING_GRAINS[grain])),
        window["before_start"],
        window["after_end"],
        window["before_end"],
        window["after_start"],
    )


def _compared(contract, before: Sums, after: Sums, cut: str) -> dict:
    """``releases.services._figure`` of two groups summed: the same figure of the same comparison."""
    from contracts.stats import compare_estimates
    from releases.services import figure_of

    result = compare_estimates(
        estimate_of(before, is_ratio=contract.is_ratio),
        estimate_of(after, is_ratio=contract.is_ratio),
        min_sample_size=contract.min_sample_size,
    )
    return figure_of(contract, result, cut)


def impact_figures_many(releases, *, periods: int | None = None) -> dict[int, dict]:
    """{release pk: the dict ``releases.services.impact_figures(release)`` returns} for every
    release given, built by the same figure function (``releases.services.figure_of``) from the
    same windows, so a release's figures here equal its figures there."""
    from contracts.choices import ContractStatus, SignalLevel
    from contracts.models import MetricContract
    from releases.choices import DEFAULT_IMPACT_PERIODS
    from releases.services import _latest_level, impact_windows

    releases = list(releases)
    periods = max(1, min(int(periods or DEFAULT_IMPACT_PERIODS), 52))
    now = timezone.now().isoformat()
    today = timezone.localdate()
    results = {
        release.pk: {
            "release": release.readable_id,
            "object_type": release.object_type,
            "periods": periods,
            "deployed_date": release.deployed_date.isoformat() if release.deployed_date else None,
            "computed_at": now,
            "contracts": [],
            "guardrails": [],
            "regressions": [],
            "thin": 0,
            "incomplete": False,
        }
        for release in releases
    }
    deployed = [release for release in releases if release.deployed_date is not None]
    if not deployed:
        return results
    level, level_period = _latest_level()
    contracts_of: dict[int, list] = defaultdict(list)
    for contract in (
        MetricContract.objects.filter(
            capability_id__in={release.capability_id for release in deployed}, status=ContractStatus.ACTIVE
        )
        .annotate(latest_level=level, latest_period=level_period)
        .prefetch_related("guardrails")
        .order_by("category", "metric_id")
    ):
        contracts_of[contract.capability_id].append(contract)

    # {capability id: {guardrail pk: metric ids of the contracts it guards}}
    guards_of: dict[int, dict[int, list[str]]] = defaultdict(dict)
    for capability_id, contracts in contracts_of.items():
        for contract in contracts:
            for guardrail in contract.guardrails.all():
                guards_of[capability_id].setdefault(guardrail.pk, []).append(contract.metric_id)

    windows: dict[tuple[int, int], dict] = {}
    summed: dict[Window, set[int]] = defaultdict(set)
    for release in deployed:
        for contract in contracts_of[release.capability_id]:
            window = impact_windows(release.deployed_date, contract.grain, periods)
            windows[(release.pk, contract.pk)] = window
            summed[_window_of(window, contract.grain)].add(contract.pk)
    found = window_sums(summed)

    for release in deployed:
        result = results[release.pk]
        contracts = contracts_of[release.capability_id]
        guards = guards_of[release.capability_id]
        for contract in contracts:
            window = windows[(release.pk, contract.pk)]
            parts = found[(_window_of(window, contract.grain), contract.pk)]
            before, after = parts.before, parts.after
            whole = _compared(contract, total(s for _c, s in before), total(s for _c, s in after), "")
            found_cuts = []
            for dimension in contract.required_cuts or []:
                for value, sums_before, sums_after in cut_sums(dimension, before, after):
                    found_cuts.append(_compared(contract, sums_before, sums_after, f"{dimension}={value}"))
            figures = [whole, *found_cuts]
            regressions = [f["cut"] for f in figures if f["regression"]]
            incomplete = window["after_end"] > today
            result["incomplete"] = result["incomplete"] or incomplete
            result["contracts"].append(
                {
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
                    "cuts": found_cuts,
                    "regression": bool(regressions),
                }
            )
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
    return results
