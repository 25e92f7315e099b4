"""The demo backlog: 8-15 items per capability linked to the demo records, the stories the
ranking shows, and an idempotent re-run.

It runs after the builders it reads (as ``seed_demo`` orders them): capabilities, decisions,
assumptions and the contracts themselves (without their telemetry, which only adds signals).
"""

from collections import Counter
from importlib import import_module

import pytest
from django.db.models import F
from django.utils import timezone

from portfolio import demo as portfolio_demo
from portfolio import demo_backlog
from portfolio.choices import BacklogBand, BacklogClass
from portfolio.models import BacklogItem
from productops.demo_people import DemoContext

pytestmark = pytest.mark.django_db


def load_registers():
    # The builders this one reads, imported by name as seed_demo does (portfolio imports no app).
    context = DemoContext(seed=20260701, password="demo")
    portfolio_demo.seed(context)
    import_module("decisions.demo").seed(context)
    import_module("assumptions.demo").seed(context)
    import_module("contracts.demo").contracts_upsert(context, timezone.localdate())
    return context


def test_the_demo_backlog_tells_its_stories_and_loads_twice_without_duplicates():
    context = load_registers()
    demo_backlog.seed(context)
    count, history = BacklogItem.objects.count(), BacklogItem.history.count()
    demo_backlog.seed(context)
    assert BacklogItem.objects.count() == count
    assert BacklogItem.history.count() == history

    per_capability = Counter(BacklogItem.objects.values_list("capability__slug", flat=True))
    assert set(per_capability) == set(context.capabilities)
    assert all(8 <= n <= 15 for n in per_capability.values()), per_capability

    ranked = BacklogItem.objects.ranked()
    by_title = {entry.item.title: entry for entry in ranked}
    # Platform reuse: one problem named on three capabilities.
    citation = {
        entry.item.capability.slug for entry in ranked if entry.item.problem_key == "evidence-citation"
    }
    assert citation == {"cc-agent-assist", "complaint-intelligence", "aml-triage"}
    assert by_title["Evidence citation in drafted case narratives"].shared_capabilities == 3
    # Retirement candidates are on their own list, resting on the decision log.
    retire = by_title["Retire the overdraft repricing model"]
    assert retire.band == BacklogBand.RETIREMENT
    assert retire.item.evidence_kind == "decision"
    # The harm override and the Sev2 correction lead their capabilities.
    assert BacklogItem.objects.filter(risk_override=True).count() >= 1
    sev2 = by_title["Regression eval cases for tiered overdraft fees"]
    assert sev2.band == BacklogBand.TOP and sev2.position == 1
    # The fairness dashboard is first by score, but has no evidence link: never in the top band.
    dashboard = by_title["Fairness dashboard for the pricing committee"]
    assert not dashboard.item.has_evidence_link
    assert dashboard.position == 1 and dashboard.band == BacklogBand.NEXT
    # Evidence gaps rest on the assumption ledger and hold their capability's scale items down.
    gap = by_title["Fairness signal coverage across protected-class proxies"]
    assert gap.item.evidence_kind == "assumption"
    assert by_title["Lift the north-region restriction on personal loans"].position > gap.position
    # Every item states its expected metric movement, on a contract of its own capability.
    assert not BacklogItem.objects.exclude(expected_metric__capability=F("capability")).exists()
    assert set(BacklogItem.objects.values_list("item_class", flat=True)) == set(BacklogClass.values)
    assert set(BacklogItem.objects.values_list("status", flat=True)) == {
        "proposed",
        "ready",
        "in_progress",
        "done",
        "dropped",
    }
