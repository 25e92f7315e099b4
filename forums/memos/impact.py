"""The observed effect of many releases at once: ``releases.services.impact_figures`` for each
release given, read in three queries however many releases and contracts there are (the
capabilities' active contracts with their latest level, their guardrails, and the observations of
every release's windows). The monthly memo reads it for the live releases that have no impact
review yet, and the boards read it for the same releases: one reading, the same figures."""

from collections import defaultdict

from django.db.models import Q
from django.utils import timezone


def impact_figures_many(releases, *, periods: int | None = None) -> dict[int, dict]:
    """{release pk: the dict ``releases.services.impact_figures(release)`` returns} for every
    release given, built by the same figure function (``releases.services._figure``) from the
    same windows, so a release's figures here equal its figures there."""
    from contracts.choices import ContractStatus, SignalLevel
    from contracts.models import MetricContract, Observation
    from contracts.periods import FEEDING_GRAINS
    from contracts.stats import Row
    from releases.choices import DEFAULT_IMPACT_PERIODS
    from releases.services import _figure, _latest_level, impact_windows

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

    windows = {}
    wanted = Q()
    for release in deployed:
        for contract in contracts_of[release.capability_id]:
            window = impact_windows(release.deployed_date, contract.grain, periods)
            windows[(release.pk, contract.pk)] = window
            wanted |= Q(
                contract_id=contract.pk,
                grain__in=FEEDING_GRAINS[contract.grain],
                period_start__gte=window["before_start"],
                period_start__lt=window["after_end"],
            )
    rows_of: dict[int, list[tuple]] = defaultdict(list)
    if windows:
        for contract_id, period, cohort, value, numerator, denominator, sample in Observation.objects.filter(
            wanted
        ).values_list(
            "contract_id", "period_start", "cohort", "value", "numerator", "denominator", "sample_size"
        ):
            rows_of[contract_id].append((period, cohort or {}, Row(value, numerator, denominator, sample)))

    for release in deployed:
        result = results[release.pk]
        contracts = contracts_of[release.capability_id]
        guards: dict[int, list[str]] = {}
        for contract in contracts:
            for guardrail in contract.guardrails.all():
                guards.setdefault(guardrail.pk, []).append(contract.metric_id)
        for contract in contracts:
            window = windows[(release.pk, contract.pk)]
            before, after = [], []
            for period, cohort, row in rows_of[contract.pk]:
                if not (window["before_start"] <= period < window["after_end"]):
                    continue
                if period < window["before_end"]:
                    before.append((cohort, row))
                elif period >= window["after_start"]:
                    after.append((cohort, row))
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
                    "cuts": cuts,
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
