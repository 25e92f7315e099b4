"""The scaled demo's metric contracts and telemetry: one region's copy of every demo contract,
a year of daily observations for it, and the evaluation job over them (``seed_demo --scale``).

Why regions with a year of history, rather than more cohorts on the six home capabilities: a
big bank's boards meet many capabilities and hundreds of contracts (the same products run per
region or business line, each with its owners and stories), and a longer memory (the monthly
value board's baseline and the year's trend). Both grow what the boards read; the regions also
grow the number of capabilities and contracts, which is what a board's query count must not
follow. The cohorts stay those of the demo (at most eight per contract, by its ``cross``
dimensions), so a region's evaluation reads like the home capability's: one region is about
165,000 observations (63 active contracts x 364 days x their cohorts and version sets).

Each region's copy of a contract is the home contract with its metric id suffixed by the region
(``cc_agent_assist_ie.repeat_contact_7d``), its owners from the region's owner map, and its
guardrails mapped to the region's copies. The telemetry comes from the home contract's generator
parameters (``contracts/demo_data``) with the region's own random source and volume, so the
planted stories (the contact-centre prompt release hurting billing repeat contact, KYC false
passes past the stop level, AML cost per alert creeping) happen in every region, each with its
own noise.

Rows go through the ingest path (``observations_ingest``: validation, then on PostgreSQL a COPY
into a staging table and one upsert), in batches of ``BATCH``; identical rows are left alone, so
a second run the same day writes nothing and evaluates nothing. Contracts whose observations
changed (or that were never evaluated) are evaluated in-process, as the task would.
"""

import datetime
import math
import random
import time
from collections.abc import Iterator

from django.utils import timezone

from contracts.choices import ContractStatus
from contracts.demo import (
    MODEL,
    PROMPTS,
    REVIEW_EVERY,
    VOLUME_NOISE,
    WEEKDAY_VOLUME,
    WEEKEND_WORSE,
    _cohorts,
    _shifted,
    _worse,
    release_day,
)
from contracts.demo_data import CAPABILITIES
from contracts.ingest import gc_paused, observations_ingest
from contracts.models import Evaluation, MetricContract
from productops.demo_people import upsert

SEED = 20260703
WEEKS = 52
DAYS = WEEKS * 7
BATCH = 50_000
SOURCE = "demo-telemetry-scale"
# A region's volume against the home market's: regions and business lines differ in size.
VOLUME_RANGE = (0.6, 1.4)


def seed(region) -> dict:
    """Upsert the region's contracts, ingest their year of observations, evaluate what changed.
    Returns (and adds to ``region.summary``) contracts, observations, written, evaluated."""
    started = time.monotonic()
    today = timezone.localdate()
    contracts = contracts_upsert(region, today)
    rows = written = 0
    since: dict[int, datetime.date] = {}
    with gc_paused():
        for batch in _batches(observations_generate(contracts, today, region), BATCH):
            result = observations_ingest(batch, source=SOURCE, evaluate=False)
            rows += len(batch)
            written += result.written
            for contract_id in result.touched_contract_ids:
                since[contract_id] = min(since.get(contract_id, result.since), result.since)
    evaluated = evaluate([contract for contract, _gen in contracts], since)
    summary = {
        "contracts": len(contracts),
        "observations": rows,
        "written": written,
        "evaluated": evaluated,
        "contracts_seconds": round(time.monotonic() - started, 1),
    }
    region.summary.update(summary)
    return summary


def contracts_upsert(region, today: datetime.date) -> list[tuple[MetricContract, dict]]:
    """The region's copy of every demo contract, by its metric id, then its guardrails.

    As ``contracts.demo.contracts_upsert`` does for the home capabilities, with the region's
    metric ids, capabilities and owners."""
    made = []
    guardrails = {}
    for slug, definitions in CAPABILITIES.items():
        capability = region.capabilities[slug]
        for index, definition in enumerate(definitions):
            values = dict(definition)
            metric_id = region.metric_id(values.pop("metric_id"))
            guardrails[metric_id] = [region.metric_id(home) for home in values.pop("guardrails")]
            gen = values.pop("gen")
            last_reviewed = today - datetime.timedelta(days=7 + 9 * index)
            values.update(
                capability=capability,
                business_owner=region.owners[(slug, "ai_pm")],
                analytics_owner=region.owners[(slug, "analytics")],
                risk_reviewer=region.owners[(slug, "risk_compliance")],
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


def observations_generate(contracts, today: datetime.date, region) -> Iterator[dict]:
    """Daily rows for the ``WEEKS`` weeks ending yesterday, per contract, cohort and version set,
    as ``contracts.demo.observations_generate`` makes them for 26 weeks, from the region's own
    random source and volume (drafts have no telemetry yet)."""
    rng = random.Random(f"{SEED}-{region.code}")
    volume_factor = rng.uniform(*VOLUME_RANGE)
    first = today - datetime.timedelta(days=DAYS)
    release = release_day(today)
    days = [first + datetime.timedelta(days=offset) for offset in range(DAYS)]
    for contract, gen in contracts:
        if contract.status == ContractStatus.DRAFT:
            continue
        cohorts = _cohorts(gen, rng)
        lower = contract.direction == "lower"
        prompts = PROMPTS.get(gen["slug"])
        shifts = gen.get("shifts", [])
        for offset, day in enumerate(days):
            weekday = day.weekday()
            volume = volume_factor * (WEEKDAY_VOLUME[weekday] if weekday < 5 else gen.get("weekend", 0.35))
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
                yield row


def _batches(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def evaluate(contracts, since: dict) -> int:
    """Run the evaluation job in-process for the active contracts whose observations changed
    (from the earliest period that changed) or that were never evaluated; how many it ran."""
    from contracts.evaluation import evaluate_contract

    active = [contract.pk for contract in contracts if contract.status == ContractStatus.ACTIVE]
    evaluated_before = set(
        Evaluation.objects.filter(contract_id__in=active).values_list("contract_id", flat=True).distinct()
    )
    evaluated = 0
    for contract_id in active:
        if contract_id in since or contract_id not in evaluated_before:
            evaluate_contract(
                contract_id, since=since.get(contract_id) if contract_id in evaluated_before else None
            )
            evaluated += 1
    return evaluated
