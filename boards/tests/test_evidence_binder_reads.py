"""The evidence binder's reads around a contract (issue 8): the releases on its trend and those
whose impact review named it a regression, the experiments and incidents that name it, and its
guardrail contracts. The binder reads them with hand-written SQL (``boards/binder.py``), so each
filter is pinned here: what must be listed, what must not (a look-alike metric id, another
contract, another capability the reader cannot see), in which order, with what the page shows."""

import datetime
import html
import re

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from boards.binder import evidence_binder
from contracts.tests.evaluation_helpers import TODAY, make_contract
from contracts.tests.factories import MetricContractFactory
from decisions.choices import DecisionType
from decisions.services import decision_record
from experiments.models import Experiment
from incidents.choices import LearningKind
from incidents.models import Incident, LearningItem
from releases.models import ImpactReview, Release

pytestmark = pytest.mark.django_db

DAY = TODAY.date()
LONG_AGO = DAY - datetime.timedelta(days=400)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


def release(capability, owner, readable_id, *, deployed, change="Shorter billing suggestions"):
    return Release.objects.create(
        capability=capability,
        readable_id=readable_id,
        planned_date=deployed,
        deployed_date=deployed,
        object_type="prompt",
        change=change,
        version_from="v11",
        version_to="v12",
        affected_population="Billing intents, all sites",
        risk_tier="medium",
        owner=owner,
        state="impact_reviewed",
        post_release_review_date=deployed + datetime.timedelta(days=10),
    )


def review(release_, reviewer, *, regressions, decision="hotfix", at=None, figures=None):
    return ImpactReview.objects.create(
        release=release_,
        reviewer=reviewer,
        periods=2,
        expected_effect="Fewer repeat calls",
        decision=decision,
        comment="",
        figures=figures or {},
        regressions=regressions,
        reviewed_at=at or timezone.now(),
    )


def page(client, user, contract) -> str:
    client.force_login(user)
    response = client.get(reverse("boards:evidence", kwargs={"metric_id": contract.metric_id}))
    assert response.status_code == 200
    # What a reader sees: the text without its tags.
    return html.unescape(re.sub(r"<[^>]+>", "", response.content.decode()))


def test_releases_on_the_trend_and_those_whose_review_named_the_contract_a_regression(
    client, capability, pm, executive
):
    contract = make_contract(capability, business_owner=pm)
    metric = contract.metric_id
    recent = release(capability, pm, "REL-2026-010", deployed=DAY - datetime.timedelta(days=20))
    regressed = release(capability, pm, "REL-2025-003", deployed=LONG_AGO, change="Fee article rewrite")
    review(
        regressed, pm, regressions=[metric], decision="keep", at=timezone.now() - datetime.timedelta(days=30)
    )
    review(
        regressed,
        executive,
        regressions=[f"{metric} [intent=billing]"],
        figures={"contracts": [{"metric_id": metric, "whole": {"before": 0.1, "after": 0.2}}]},
    )
    # Named by its look-alike (the "_" of the metric id is not a wildcard), by another contract,
    # or not at all: old releases that are not shown.
    look_alike = release(capability, pm, "REL-2025-004", deployed=LONG_AGO)
    review(look_alike, pm, regressions=[metric.replace("_", "x", 1)])
    other = release(capability, pm, "REL-2025-005", deployed=LONG_AGO)
    review(other, pm, regressions=["cc_agent_assist.aht_seconds"])
    release(capability, pm, "REL-2025-006", deployed=LONG_AGO)

    binder = evidence_binder(contract, user=executive)

    assert [trace.release.readable_id for trace in binder.releases] == ["REL-2026-010", "REL-2025-003"]
    trace = binder.releases[1]
    assert (trace.review.decision, trace.review.reviewer, trace.regressed) == ("hotfix", executive, True)
    assert trace.figure == {"metric_id": metric, "whole": {"before": 0.1, "after": 0.2}}
    assert binder.releases[0].review is None and not binder.releases[0].regressed
    text = page(client, executive, contract)
    assert "Fee article rewrite" in text and "REL-2025-004" not in text and "REL-2025-005" not in text
    assert recent.readable_id in text and "regression" in text


def test_experiments_that_name_the_contract_as_primary_metric_or_guardrail_visible_to_the_reader(
    client, capability, other_capability, pm, executive
):
    contract = make_contract(capability, business_owner=pm)
    elsewhere = MetricContractFactory(capability=capability, metric_id="cc_agent_assist.aht_seconds")

    def experiment(title, cap, primary, start):
        return Experiment.objects.create(
            capability=cap,
            title=title,
            hypothesis="h",
            population="p",
            treatment="t",
            control_or_baseline="c",
            primary_metric=primary,
            start_date=start,
            state="running",
            planned_end_date=start + datetime.timedelta(days=28),
            owner=pm,
        )

    primary = experiment("Shorter suggestions", capability, contract, DAY - datetime.timedelta(days=40))
    guarded = experiment("Faster wrap-up", capability, elsewhere, DAY - datetime.timedelta(days=10))
    guarded.guardrails.add(contract)
    experiment("Unrelated", capability, elsewhere, DAY)
    hidden = experiment("KYC reuse", other_capability, contract, DAY - datetime.timedelta(days=5))

    assert evidence_binder(contract, user=executive).experiments == [hidden, guarded, primary]
    assert evidence_binder(contract, user=pm).experiments == [guarded, primary]
    text = page(client, pm, contract)
    assert "Faster wrap-up" in text and "guardrail" in text and "primary metric" in text
    assert "KYC reuse" not in text and "Unrelated" not in text


def test_incidents_whose_learning_changed_the_contract_or_that_its_decisions_cite(
    client, capability, other_capability, pm, executive
):
    contract = make_contract(capability, business_owner=pm)

    def incident(title, cap, days_ago):
        return Incident.objects.create(
            capability=cap,
            title=title,
            source="monitoring",
            occurred_on=DAY - datetime.timedelta(days=days_ago),
            severity="sev2",
        )

    learned = incident("Fee article wrong", capability, 30)
    LearningItem.objects.create(
        incident=learned, kind=LearningKind.METRIC_CONTRACT, record=contract, text="Threshold lowered"
    )
    cited = incident("Billing outage", capability, 10)
    decision_record(
        capability=capability,
        by=pm,
        type=DecisionType.RESTRICT,
        decision="Hold billing prompts",
        owner=pm,
        evidence=[contract, cited],
    )
    incident("Unrelated outage", capability, 1)
    hidden = incident("KYC lesson", other_capability, 2)
    LearningItem.objects.create(
        incident=hidden, kind=LearningKind.METRIC_CONTRACT, record=contract, text="Reused"
    )

    assert evidence_binder(contract, user=executive).incidents == [hidden, cited, learned]
    assert evidence_binder(contract, user=pm).incidents == [cited, learned]
    text = page(client, pm, contract)
    assert "Fee article wrong" in text and "Billing outage" in text
    assert "Unrelated outage" not in text and "KYC lesson" not in text


def test_guardrail_contracts_at_either_end_are_listed_by_metric_id(client, capability, pm, executive):
    contract = make_contract(capability, business_owner=pm)
    aht = MetricContractFactory(capability=capability, metric_id="cc_agent_assist.aht_seconds", name="AHT")
    csat = MetricContractFactory(capability=capability, metric_id="cc_agent_assist.csat", name="CSAT")
    uses = MetricContractFactory(
        capability=capability, metric_id="cc_agent_assist.acceptance", name="Acceptance"
    )
    MetricContractFactory(capability=capability, metric_id="cc_agent_assist.unlinked", name="Unlinked")
    contract.guardrails.add(csat, aht)
    uses.guardrails.add(contract)

    binder = evidence_binder(contract, user=executive)

    assert [(item.pk, item.metric_id, item.name) for item in binder.guardrails] == [
        (aht.pk, aht.metric_id, "AHT"),
        (csat.pk, csat.metric_id, "CSAT"),
    ]
    assert [item.metric_id for item in binder.guarded] == [uses.metric_id]
    text = page(client, pm, contract)
    assert "Guarded by AHT cc_agent_assist.aht_seconds" in text
    assert "Guardrail of Acceptance" in text and "Unlinked" not in text
