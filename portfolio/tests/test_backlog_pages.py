"""The backlog pages: ranked per capability and across the portfolio with why each item stands
where it stands, the platform-reuse groups, the retirement list, the forms and the status moves."""

import pytest
from django.urls import reverse

from portfolio.models import BacklogItem
from portfolio.tests.backlog_factories import (
    AssumptionFactory,
    BacklogItemFactory,
    ContractFactory,
    DecisionFactory,
    parts_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(capability):
    return ContractFactory(
        capability=capability, metric_id="cc_agent_assist.repeat_contact_7d", category="outcome"
    )


def linked(capability, contract, score, **fields):
    """An item resting on the contract, with the given priority score."""
    return BacklogItemFactory(
        capability=capability,
        expected_metric=contract,
        evidence=contract,
        evidence_reference=contract.metric_id,
        item_class=fields.pop("item_class", "outcome_improvement"),
        **parts_for(score),
        **fields,
    )


def form_data(**overrides):
    data = {
        "title": "Citation UI beside each billing suggestion",
        "item_class": "outcome_improvement",
        "description": "",
        "evidence": "cc_agent_assist.repeat_contact_7d",
        "expected_metric": "cc_agent_assist.repeat_contact_7d",
        "expected_direction": "down",
        "expected_movement": "−2 points",
        "outcome_impact": "4",
        "risk_reduction": "1",
        "adoption_unblock": "2",
        "cost_capacity_relief": "0",
        "evidence_need": "0",
        "platform_reuse": "1",
        "delivery_effort": "3",
        "change_saturation": "1",
        "incident_severity": "",
        "problem_key": "evidence-citation",
        "override_reason": "",
    }
    data.update(overrides)
    return data


def test_the_capability_backlog_shows_bands_score_parts_the_formula_and_the_reasons(
    client_for, pm, capability, contract
):
    top = linked(capability, contract, 9, title="Net AHT of repeat contact")
    unlinked = BacklogItemFactory(
        capability=capability, expected_metric=contract, title="Fairness dashboard", **parts_for(14)
    )
    response = client_for(pm).get(reverse("portfolio:capability-backlog", args=[capability.slug]))
    page = response.content.decode()
    assert response.status_code == 200
    assert f'data-item="{top.readable_id}" data-band="top"' in page
    assert f'data-item="{unlinked.readable_id}" data-band="next"' in page
    assert "Why it stands here" in page
    assert "No evidence link: by rank it would stand in the top band" in page
    assert "Top band: #1 of this capability&#x27;s top 5." in page
    assert 'data-score="9"' in page and 'data-part="delivery_effort"' in page
    assert "Priority score 9 = benefits 9" in page


def test_the_portfolio_backlog_ranks_every_visible_capability_with_a_portfolio_top_list(
    client_for, viewer, capability, other_capability, contract
):
    kyc = ContractFactory(capability=other_capability, metric_id="kyc_ai.rework_rate", category="outcome")
    first = linked(other_capability, kyc, 12)
    second = linked(capability, contract, 8)
    response = client_for(viewer).get(reverse("portfolio:backlog"))
    page = response.content.decode()
    assert "Portfolio top list" in page
    assert [entry.item for entry in response.context["portfolio_top"]] == [first, second]
    assert other_capability.name in page and capability.name in page
    assert "Portfolio top list: #1 across the portfolio." in page


def test_a_pm_sees_only_their_capabilities_backlog_in_the_portfolio_view(
    client_for, pm, capability, other_capability, contract
):
    hidden = linked(
        other_capability, ContractFactory(capability=other_capability), 20, title="Hidden KYC item"
    )
    linked(capability, contract, 3)
    page = client_for(pm).get(reverse("portfolio:backlog")).content.decode()
    assert hidden.title not in page


def test_filters_narrow_the_list_without_changing_bands(client_for, pm, capability, contract):
    items = [linked(capability, contract, 20 - n, item_class="quality_fix") for n in range(6)]
    cost = linked(capability, contract, 1, item_class="cost_capacity")
    url = reverse("portfolio:capability-backlog", args=[capability.slug])
    client = client_for(pm)
    by_class = client.get(url, {"item_class": "cost_capacity"}).context["ranked"]
    assert [(entry.item, entry.band) for entry in by_class] == [(cost, "next")]
    by_band = client.get(url, {"band": "top"}).context["ranked"]
    assert [entry.item for entry in by_band] == items[:5]
    by_status = client.get(url, {"status": "done"}).context["ranked"]
    assert by_status == []


def test_the_list_answers_htmx_with_the_rows_only(client_for, pm, capability, contract):
    linked(capability, contract, 3, title="Only the rows")
    response = client_for(pm).get(
        reverse("portfolio:capability-backlog", args=[capability.slug]), HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert "Only the rows" in body and "<html" not in body


def test_the_backlog_exports_csv_in_rank_order_with_the_reasons(client_for, pm, capability, contract):
    low = linked(capability, contract, 2, title="Low")
    high = linked(capability, contract, 9, title="High")
    response = client_for(pm).get(
        reverse("portfolio:capability-backlog", args=[capability.slug]), {"format": "csv"}
    )
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert response["Content-Type"].startswith("text/csv")
    assert lines[0].startswith("Id,Capability,Title,Class,Status,Band")
    assert lines[1].startswith(f"{high.readable_id},") and lines[2].startswith(f"{low.readable_id},")
    assert "Top band: #1" in lines[1]


def test_the_platform_page_groups_a_problem_raised_on_several_capabilities(
    client_for, viewer, capability, other_capability, contract
):
    kyc = ContractFactory(capability=other_capability)
    a = linked(capability, contract, 4, problem_key="evidence-citation")
    b = linked(other_capability, kyc, 3, problem_key="evidence-citation")
    alone = linked(capability, contract, 5, problem_key="local-problem")
    linked(capability, contract, 12, title="Unkeyed work ranked above them")
    response = client_for(viewer).get(reverse("portfolio:backlog-platform"))
    (group,) = response.context["shared"]
    assert group["key"] == "evidence-citation" and group["capabilities"] == 2
    assert {entry.item for entry in group["entries"]} == {a, b}
    # Ranks and reasons are those of the whole backlog, not of the grouped items alone.
    assert next(entry.position for entry in group["entries"] if entry.item == a) == 3
    assert [group["key"] for group in response.context["single"]] == ["local-problem"]
    page = response.content.decode()
    assert 'data-problem="evidence-citation"' in page and alone.title in page


def test_the_platform_page_counts_capabilities_the_reader_cannot_see(
    client_for, pm, capability, other_capability, contract
):
    linked(capability, contract, 4, problem_key="evidence-citation")
    linked(other_capability, ContractFactory(capability=other_capability), 3, problem_key="evidence-citation")
    response = client_for(pm).get(reverse("portfolio:backlog-platform"))
    (group,) = response.context["shared"]
    assert group["capabilities"] == 2 and group["hidden"] == 1
    assert "KYC" not in response.content.decode()


def test_the_retirement_list_holds_retirement_candidates_only(client_for, pm, capability, contract):
    decision = DecisionFactory(capability=capability)
    candidate = BacklogItemFactory(
        capability=capability,
        expected_metric=contract,
        item_class="retirement",
        evidence=decision,
        evidence_reference=decision.readable_id,
        title="Retire the legacy keyword classifier",
    )
    linked(capability, contract, 9, title="Delivery work")
    response = client_for(pm).get(reverse("portfolio:backlog-retirement"))
    assert [entry.item for entry in response.context["entries"]] == [candidate]
    page = response.content.decode()
    assert "quarterly portfolio review" in page and "Delivery work" not in page
    capability_page = client_for(pm).get(reverse("portfolio:capability-backlog", args=[capability.slug]))
    assert [entry.item for entry in capability_page.context["retirement"]] == [candidate]
    assert [
        entry.item for _band, _label, entries in capability_page.context["bands"] for entry in entries
    ] == [BacklogItem.objects.get(title="Delivery work")]


def test_the_item_page_shows_why_it_stands_there_and_its_history(client_for, pm, capability, contract):
    item = linked(capability, contract, 4)
    page = client_for(pm).get(item.get_absolute_url()).content.decode()
    assert "Why it stands here" in page and "Top band: #1" in page
    assert "History" in page and 'id="item-band"' in page


def test_the_pm_raises_an_item_with_a_typed_evidence_reference(client_for, pm, capability, contract):
    response = client_for(pm).post(reverse("portfolio:backlog-create", args=[capability.slug]), form_data())
    item = BacklogItem.objects.get()
    assert response.status_code == 302 and response["Location"] == item.get_absolute_url()
    assert item.evidence == contract and item.priority_score == 4
    assert item.history.latest().history_user == pm


def test_the_form_explains_the_required_links_and_puts_a_wrong_link_on_its_field(
    client_for, pm, capability, contract
):
    assumption = AssumptionFactory(capability=capability)
    client = client_for(pm)
    url = reverse("portfolio:backlog-create", args=[capability.slug])
    page = client.get(url).content.decode()
    assert "What each class requires (16.1)" in page and "release calendar" in page
    response = client.post(url, form_data(evidence=assumption.readable_id))
    assert response.status_code == 200
    assert "outcome improvement item rests on" in response.context["form"].errors["evidence"][0]
    assert not BacklogItem.objects.exists()


def test_the_form_requires_the_expected_metric(client_for, pm, capability, contract):
    response = client_for(pm).post(
        reverse("portfolio:backlog-create", args=[capability.slug]), form_data(expected_metric="")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["expected_metric"]
    assert not BacklogItem.objects.exists()


def test_the_pm_edits_an_item_and_moves_it(client_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    client = client_for(pm)
    response = client.post(
        reverse("portfolio:backlog-edit", args=[item.readable_id]),
        form_data(title="Renamed", outcome_impact="5"),
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.title == "Renamed" and item.priority_score == 5
    response = client.post(reverse("portfolio:backlog-move", args=[item.readable_id]), {"status": "ready"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "ready"
    client.post(reverse("portfolio:backlog-move", args=[item.readable_id]), {"status": "dropped"})
    item.refresh_from_db()
    assert item.status == "ready"  # dropping without a reason is refused


def test_a_viewer_reads_but_cannot_raise_edit_or_move(client_for, viewer, capability, contract):
    item = linked(capability, contract, 2)
    client = client_for(viewer)
    page = client.get(item.get_absolute_url()).content.decode()
    assert "Edit details" not in page and "Move to" not in page
    assert (
        client.post(reverse("portfolio:backlog-create", args=[capability.slug]), form_data()).status_code
        == 403
    )
    assert (
        client.post(reverse("portfolio:backlog-edit", args=[item.readable_id]), form_data()).status_code
        == 403
    )
    response = client.post(reverse("portfolio:backlog-move", args=[item.readable_id]), {"status": "ready"})
    assert response.status_code == 403
    item.refresh_from_db()
    assert item.status == "proposed" and BacklogItem.objects.count() == 1


def test_an_outsider_gets_404_everywhere_on_another_capabilitys_backlog(
    client_for, outsider, capability, contract
):
    item = linked(capability, contract, 2)
    client = client_for(outsider)
    for url in [
        reverse("portfolio:capability-backlog", args=[capability.slug]),
        reverse("portfolio:backlog-create", args=[capability.slug]),
        item.get_absolute_url(),
        reverse("portfolio:backlog-edit", args=[item.readable_id]),
    ]:
        assert client.get(url).status_code == 404, url
    assert (
        client.post(
            reverse("portfolio:backlog-move", args=[item.readable_id]), {"status": "ready"}
        ).status_code
        == 404
    )
    assert item.readable_id not in client.get(reverse("portfolio:backlog")).content.decode()


def test_the_move_url_refuses_get(client_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    assert client_for(pm).get(reverse("portfolio:backlog-move", args=[item.readable_id])).status_code == 405


def test_the_capability_page_and_the_navigation_link_to_the_backlog(client_for, pm, capability):
    page = client_for(pm).get(capability.get_absolute_url()).content.decode()
    assert reverse("portfolio:capability-backlog", args=[capability.slug]) in page
    assert f'href="{reverse("portfolio:backlog")}"' in page


@pytest.mark.parametrize("url_name", ["portfolio:backlog", "portfolio:capability-backlog"])
def test_the_list_query_count_does_not_grow_with_ten_times_the_items(
    client_for, viewer, capability, contract, django_assert_max_num_queries, url_name
):
    assumption = AssumptionFactory(capability=capability)

    def add(count):
        for n in range(count):
            linked(capability, contract, n % 12, problem_key="evidence-citation" if n % 3 else "")
            BacklogItemFactory(
                capability=capability,
                expected_metric=contract,
                item_class="evidence_gap",
                evidence=assumption,
                **parts_for(n % 7),
            )
            BacklogItemFactory(capability=capability, expected_metric=contract, item_class="retirement")

    client = client_for(viewer)
    url = reverse(url_name, args=[capability.slug] if url_name.endswith("capability-backlog") else [])
    add(3)
    client.get(url)  # warm the content-type cache
    with django_assert_max_num_queries(25) as small:
        client.get(url)
    add(30)
    with django_assert_max_num_queries(25) as large:
        response = client.get(url)
    assert len(response.context["ranked"]) == 99
    assert len(large.captured_queries) == len(small.captured_queries)
