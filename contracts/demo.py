"""Demo metric contracts and their telemetry: per capability 10-14 contracts across the seven
categories (contracts/demo_data), 26 weeks of daily observations by cohort and version ending
yesterday, then the evaluation job run in-process so that signals, actions and holds exist.

Planted stories, relative to today:

* the contact-centre prompt release (v11 -> v12, ``RELEASE_DAYS_AGO`` days ago) drives billing
  repeat contact from under warning to past breach while the other intents stay fine, and AHT
  falls: AHT is flagged "improvement not net" (its guardrail is repeat contact);
* KYC document false passes for complex entities pass the stop level in the last weeks (hold);
* AML cost per alert creeps past warning over the last eight weeks.

Idempotent: contracts are upserted by metric id, observations go through the idempotent ingest
(identical rows are left alone), and the evaluation is safe to run twice. The numbers come from
the module's own random source, so a second run the same day writes nothing.
"""

import datetime
import itertools
import math
import random
import time

from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.demo_data import CAPABILITIES
from contracts.ingest import observations_ingest
from contracts.models import MetricContract
from productops.demo_people import upsert

SEED = 20260702
WEEKS = 26
DAYS = WEEKS * 7
BATCH = 5_000
MAX_COHORTS = 8
MODEL = "m-2026-05"
SOURCE = "demo-telemetry"
# The contact-centre prompt release: prompt v11 before this many days ago, v12 from that day.
RELEASE_DAYS_AGO = 42
PROMPTS = {"cc-agent-assist": ("v11", "v12")}
# Weekday volume (Monday to Friday); the weekend factor comes from each contract's parameters.
WEEKDAY_VOLUME = (1.15, 1.05, 1.0, 1.0, 0.95)
# Weekends run a little worse (thinner staffing, harder cases).
WEEKEND_WORSE = 0.03
VOLUME_NOISE = 0.08
# Days between a contract's last review and its next one.
REVIEW_EVERY = 90


def release_day(today: datetime.date) -> datetime.date:
    return today - datetime.timedelta(days=RELEASE_DAYS_AGO)


def seed(context) -> dict:
    """Upsert the demo contracts, ingest their observations, evaluate them. Returns (and keeps
    on ``context.contracts_demo``) what it did: contracts, rows, rows written, seconds."""
    started = time.monotonic()
    today = timezone.localdate()
    contracts = contracts_upsert(context, today)
    rows = observations_generate(contracts, today)
    written = 0
    for start in range(0, len(rows), BATCH):
        written += observations_ingest(rows[start : start + BATCH], source=SOURCE, evaluate=False).written
    evaluated = evaluate([contract for contract, _gen in contracts])
    summary = {
        "contracts": len(contracts),
        "rows": len(rows),
        "written": written,
        "evaluated": evaluated,
        "seconds": round(time.monotonic() - started, 1),
    }
    context.contracts_demo = summary
    print(
        "Contracts demo: {contracts} contracts, {rows} observations ({written} written), "
        "{evaluated} evaluated in {seconds} s.".format(**summary)
    )
    return summary


# Contracts -------------------------------------------------------------------------------------


def contracts_upsert(context, today: datetime.date) -> list[tuple[MetricContract, dict]]:
    """Create or update every demo contract by metric id, then its guardrails."""
    made = []
    guardrails = {}
    for slug, definitions in CAPABILITIES.items():
        capability = context.capabilities[slug]
        for index, definition in enumerate(definitions):
            values = dict(definition)
            metric_id = values.pop("metric_id")
            guardrails[metric_id] = values.pop("guardrails")
            gen = values.pop("gen")
            last_reviewed = today - datetime.timedelta(days=7 + 9 * index)
            values.update(
                capability=capability,
                business_owner=context.owners[(slug, "ai_pm")],
                analytics_owner=context.owners[(slug, "analytics")],
                risk_reviewer=context.owners[(slug, "risk_compliance")],
                last_reviewed=last_reviewed,
                next_review=last_reviewed + datetime.timedelta(days=REVIEW_EVERY),
            )
            contract = upsert(MetricContract, {"metric_id": metric_id}, values)
            made.append((contract, {**gen, "slug": slug}))
    by_id = {contract.metric_id: contract for contract, _gen in made}
    for contract, _gen in made:
        wanted = {by_id[metric_id].pk for metric_id in guardrails[contract.metric_id]}
        if set(contract.guardrails.values_list("pk", flat=True)) != wanted:
            contract.guardrails.set(wanted)
    return made


# Observations ----------------------------------------------------------------------------------


def _cohorts(gen: dict, rng: random.Random) -> list[tuple[dict, float, float]]:
    """(cohort, level factor, volume per weekday) for each cohort of a contract: the
    combinations of the ``cross`` dimensions, the other dimensions spread over them, and the
    ``thin`` cohort (one case a day) when asked for."""
    values = gen["values"]
    dims = list(values)
    cross = [dim for dim in gen.get("cross", ()) if dim in values] or dims[:2]
    combos = list(itertools.product(*(values[dim] for dim in cross)))[:MAX_COHORTS]
    cohorts = [dict(zip(cross, combo, strict=True)) for combo in combos]
    for dim in dims:
        if dim in cross:
            continue
        pool = [values[dim][j % len(values[dim])] for j in range(len(cohorts))]
        rng.shuffle(pool)
        for cohort, value in zip(cohorts, pool, strict=True):
            cohort[dim] = value
    spread = gen.get("spread", 0.04)
    result = []
    for cohort in cohorts:
        level = 1 + rng.uniform(-spread, spread)
        weight = 1.0
        for dim, factors in gen.get("levels", {}).items():
            level *= factors.get(cohort[dim], 1.0)
        for dim, factors in gen.get("weights", {}).items():
            weight *= factors.get(cohort[dim], 1.0)
        result.append((cohort, level, gen["n"] * weight))
    if gen.get("thin"):
        result.append(({**cohorts[0], **gen["thin"]}, 1.0, 1.0))
    return result


def _worse(level: float, by: float, *, lower: bool, ratio: bool) -> float:
    """``level`` made worse by the relative amount ``by``; a high share (above one half) is
    made worse through its complement, so that 99.5% does not fall to 96.5%."""
    if lower:
        return level * (1 + by)
    if ratio and level > 0.5:
        return 1 - (1 - level) * (1 + by)
    return level * (1 - by)


def _shifted(level: float, shifts: list, day: datetime.date, today: datetime.date, cohort: dict) -> float:
    for shift in shifts:
        if any(cohort.get(dim) != value for dim, value in shift.get("match", {}).items()):
            continue
        start = shift["start"]
        start = release_day(today) if start == "release" else today - datetime.timedelta(days=start)
        if day < start:
            continue
        fraction = min(1.0, ((day - start).days + 1) / shift.get("ramp", 1))
        goal = shift["to"] if "to" in shift else level * (1 + shift["by"])
        level += fraction * (goal - level)
    return level


def observations_generate(contracts, today: datetime.date) -> list[dict]:
    """Daily observation rows for the 26 weeks ending yesterday, per contract, cohort and
    version set (drafts have no telemetry yet), from the module's own random source."""
    rng = random.Random(SEED)
    first = today - datetime.timedelta(days=DAYS)
    release = release_day(today)
    rows = []
    for contract, gen in contracts:
        if contract.status == ContractStatus.DRAFT:
            continue
        cohorts = _cohorts(gen, rng)
        lower = contract.direction == "lower"
        prompts = PROMPTS.get(gen["slug"])
        shifts = gen.get("shifts", [])
        for offset in range(DAYS):
            day = first + datetime.timedelta(days=offset)
            weekday = day.weekday()
            volume = WEEKDAY_VOLUME[weekday] if weekday < 5 else gen.get("weekend", 0.35)
            versions = {"model": MODEL}
            if prompts:
                versions["prompt"] = prompts[day >= release]
            trend = 1 + gen.get("trend", 0.0) * offset / (DAYS - 1)
            period = day.isoformat()
            for cohort, factor, per_day in cohorts:
                if "prompt_version" in cohort:
                    cohort = {**cohort, "prompt_version": versions.get("prompt", "none")}
                level = gen["base"] * trend * factor
                if weekday >= 5:
                    level = _worse(level, WEEKEND_WORSE, lower=lower, ratio=contract.is_ratio)
                level = _shifted(level, shifts, day, today, cohort)
                level *= 1 + rng.gauss(0, gen.get("noise", 0.04))
                size = max(1, round(per_day * volume * (1 + rng.gauss(0, VOLUME_NOISE))))
                jitter = rng.random()
                row = {
                    "contract": contract.metric_id,
                    "period_start": period,
                    "grain": "day",
                    "cohort": cohort,
                    "version_set": versions,
                    "sample_size": size,
                }
                if not contract.is_ratio:
                    row["value"] = round(level, 3)
                elif gen.get("money"):
                    amount = round(size * level, 2)
                    row.update(value=amount / size, numerator=amount, denominator=size)
                else:
                    share = min(1.0, max(0.0, level))
                    count = min(size, math.floor(size * share + jitter))
                    row.update(value=count / size, numerator=count, denominator=size)
                rows.append(row)
    return rows


# Evaluation ------------------------------------------------------------------------------------


def evaluate(contracts) -> int:
    """Run the evaluation job in-process for the active demo contracts; how many it evaluated."""
    try:
        from contracts.evaluation import evaluate_contract
    except ImportError as error:  # the evaluation job is not installed (yet)
        print(f"Contracts demo: evaluation skipped ({error}).")
        return 0
    evaluated = 0
    for contract in contracts:
        if contract.status == ContractStatus.ACTIVE:
            evaluate_contract(contract.pk)
            evaluated += 1
    return evaluated
