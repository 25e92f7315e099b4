"""``/api/v1/backlog-items/``: the list in rank order with band and reasons, creation and edits
through the services (errors naming the field), status moves, no deletion, permissions."""

import pytest

from portfolio.models import BacklogItem
from portfolio.tests.backlog_factories import BacklogItemFactory, ContractFactory, SignalFactory, parts_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/backlog-items/"


@pytest.fixture
def contract(capability):
    return ContractFactory(
        capability=capability, metric_id="cc_agent_assist.repeat_contact_7d", category="outcome"
    )


def linked(capability, contract, score, **fields):
    return BacklogItemFactory(
        capability=capability,
        expected_metric=contract,
        evidence=contract,
        evidence_reference=contract.metric_id,
        item_class=fields.pop("item_class", "outcome_improvement"),
        **parts_for(score),
        **fields,
    )


def body(**overrides):
    data = {
        "capability": "cc-agent-assist",
        "title": "Citation UI beside each billing suggestion",
        "item_class": "outcome_improvement",
        "evidence": "cc_agent_assist.repeat_contact_7d",
        "expected_metric": "cc_agent_assist.repeat_contact_7d",
        "expected_direction": "down",
        "outcome_impact": 4,
        "delivery_effort": 1,
    }
    data.update(overrides)
    return data


def test_the_list_answers_in_rank_order_with_band_and_reasons(api_for, pm, capability, contract):
    low = linked(capability, contract, 3)
    unlinked = BacklogItemFactory(capability=capability, expected_metric=contract, **parts_for(20))
    override = linked(
        capability, contract, -4, item_class="risk_control", risk_override=True, override_reason="Harm"
    )
    high = linked(capability, contract, 9)
    rows = api_for(pm).get(URL).json()["results"]
    assert [row["readable_id"] for row in rows] == [
        override.readable_id,
        high.readable_id,
        low.readable_id,
        unlinked.readable_id,
    ]
    assert [row["band"] for row in rows] == ["top", "top", "top", "next"]
    assert rows[0]["reasons"][0].startswith("Risk/customer-harm override")
    assert any("no evidence link" in reason.lower() for reason in rows[3]["reasons"])
    assert rows[3]["rank"] == 2 and rows[3]["evidence_link"] is None  # second by rank, capped
    assert rows[1]["evidence_link"]["reference"] == contract.metric_id


def test_the_list_filters_by_band_and_class_like_the_page(api_for, pm, capability, contract):
    linked(capability, contract, 9)
    unlinked = BacklogItemFactory(capability=capability, expected_metric=contract, item_class="cost_capacity")
    api = api_for(pm)
    assert [row["readable_id"] for row in api.get(URL, {"band": "next"}).json()["results"]] == [
        unlinked.readable_id
    ]
    assert [
        row["readable_id"] for row in api.get(URL, {"item_class": "cost_capacity"}).json()["results"]
    ] == [unlinked.readable_id]
    assert api.get(URL, {"band": "nowhere"}).status_code == 400


def test_the_list_shows_only_visible_capabilities(api_for, pm, capability, other_capability, contract):
    mine = linked(capability, contract, 1)
    linked(other_capability, ContractFactory(capability=other_capability), 9)
    assert [row["readable_id"] for row in api_for(pm).get(URL).json()["results"]] == [mine.readable_id]


def test_the_detail_carries_its_band_and_reasons(api_for, pm, capability, contract):
    item = linked(capability, contract, 5)
    row = api_for(pm).get(f"{URL}{item.readable_id}/").json()
    assert row["band"] == "top" and row["rank"] == 1
    assert row["priority_score"] == 5 and row["allowed_moves"] == ["ready", "dropped"]


def test_the_pm_creates_an_item_through_the_service(api_for, pm, capability, contract):
    response = api_for(pm).post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    item = BacklogItem.objects.get()
    assert response.json()["readable_id"] == item.readable_id
    assert response.json()["band"] == "top"
    assert item.evidence == contract and item.priority_score == 3
    assert item.history.latest().history_user == pm


@pytest.mark.parametrize(
    "overrides, field",
    [
        ({"expected_metric": None}, "expected_metric"),
        ({"expected_direction": "sideways"}, "expected_direction"),
        ({"outcome_impact": 6}, "outcome_impact"),
        ({"item_class": "release_dependency"}, "evidence"),
        ({"evidence": "INC-0404"}, "evidence"),
        ({"risk_override": True}, "override_reason"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(api_for, pm, capability, contract, overrides, field):
    response = api_for(pm).post(URL, body(**overrides), format="json")
    assert response.status_code == 400
    assert field in response.json(), response.json()
    assert not BacklogItem.objects.exists()


def test_the_pm_edits_the_evidence_link_and_the_class_together(api_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    risk = SignalFactory(contract=ContractFactory(capability=capability, category="risk"))
    response = api_for(pm).patch(
        f"{URL}{item.readable_id}/",
        {"item_class": "risk_control", "evidence": f"SIG-{risk.pk}"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    item.refresh_from_db()
    assert item.item_class == "risk_control" and item.evidence == risk
    assert response.json()["evidence_link"]["kind"] == "signal"


def test_status_moves_go_through_the_move_action(api_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    api = api_for(pm)
    response = api.post(f"{URL}{item.readable_id}/move/", {"status": "ready"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "ready"
    assert api.post(f"{URL}{item.readable_id}/move/", {"status": "done"}, format="json").status_code == 409
    response = api.post(f"{URL}{item.readable_id}/move/", {"status": "dropped"}, format="json")
    assert response.status_code == 400 and "reason" in response.json()
    item.refresh_from_db()
    assert item.status == "ready"


def test_the_status_cannot_be_typed_in_an_edit(api_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    api_for(pm).patch(f"{URL}{item.readable_id}/", {"status": "done", "priority_score": 30}, format="json")
    item.refresh_from_db()
    assert item.status == "proposed" and item.priority_score == 2


def test_items_are_never_deleted(api_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    assert api_for(pm).delete(f"{URL}{item.readable_id}/").status_code == 405
    assert BacklogItem.objects.filter(pk=item.pk).exists()


def test_a_viewer_reads_but_cannot_create_edit_or_move(api_for, viewer, capability, contract):
    item = linked(capability, contract, 2)
    api = api_for(viewer)
    assert api.get(f"{URL}{item.readable_id}/").status_code == 200
    assert api.post(URL, body(), format="json").status_code == 403
    assert api.patch(f"{URL}{item.readable_id}/", {"title": "x"}, format="json").status_code == 403
    assert api.post(f"{URL}{item.readable_id}/move/", {"status": "ready"}, format="json").status_code == 403
    item.refresh_from_db()
    assert item.status == "proposed" and item.title != "x"


def test_an_outsider_gets_404_on_another_capabilitys_item(api_for, outsider, capability, contract):
    item = linked(capability, contract, 2)
    api = api_for(outsider)
    assert api.get(f"{URL}{item.readable_id}/").status_code == 404
    assert api.patch(f"{URL}{item.readable_id}/", {"title": "x"}, format="json").status_code == 404
    assert api.post(f"{URL}{item.readable_id}/move/", {"status": "ready"}, format="json").status_code == 404


def test_the_move_action_refuses_get(api_for, pm, capability, contract):
    item = linked(capability, contract, 2)
    assert api_for(pm).get(f"{URL}{item.readable_id}/move/").status_code == 405


def test_anonymous_requests_are_refused(client, capability):
    assert client.get(URL).status_code == 403


def test_the_list_query_count_does_not_grow_with_ten_times_the_items(
    api_for, viewer, capability, contract, django_assert_max_num_queries
):
    def add(count):
        for n in range(count):
            linked(capability, contract, n % 10, problem_key="reason-codes" if n % 2 else "")
            BacklogItemFactory(capability=capability, expected_metric=contract, item_class="retirement")

    api = api_for(viewer)
    add(3)
    api.get(URL)  # warm the content-type cache
    with django_assert_max_num_queries(20) as small:
        api.get(URL, {"limit": 100})
    add(30)
    with django_assert_max_num_queries(20) as large:
        response = api.get(URL, {"limit": 100})
    assert response.json()["count"] == 66
    assert len(large.captured_queries) == len(small.captured_queries)
