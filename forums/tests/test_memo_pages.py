"""The monthly value review's pages and API: what each person may do (GET refused on the moves,
a viewer refused, another capability's PM told nothing exists, the PM allowed, an executive
reading), what the memo page shows, the memo panel of a monthly session, and a query count that
does not grow with the memo or the list."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from assumptions.models import AssumptionReview
from decisions.models import Decision
from forums.memos import MemoDecision, memo_decide, memo_send
from forums.models import Session, ValueMemo
from forums.tests.test_memos import (
    MONTH,
    NOW,
    OUTCOME,
    SESSION_AT,
    build_world,
    contract,
    days,
    evaluate,
    generate,
    plant_ratio,
)
from portfolio.tests.factories import CapabilityFactory, RoleAssignmentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _april_first():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(capability, pm, executive):
    """March 2026 where scaling holds on every figure (see ``test_memos.build_world``)."""
    return build_world(capability, pm, executive)


@pytest.fixture
def memo(world, pm):
    return generate(world, pm)


@pytest.fixture
def sent(memo, pm):
    memo_send(memo=memo, by=pm)
    memo.refresh_from_db()
    return memo


def url(name, memo):
    return reverse(f"forums:{name}", kwargs={"pk": memo.pk})


DECIDE_BODY = {
    "decision": "scale",
    "type": "",
    "text": "Scale agent assist to the card intents.",
    "review_trigger": "Repeat contact past warning two weeks running.",
    "options": "",
}


def decide_body(memo, pm, **changes):
    body = {**DECIDE_BODY, "owner": pm.pk}
    for proposal in memo.fields["assumption_update"]:
        body[f"assumption_{proposal['pk']}_status"] = proposal["proposed"]
        body[f"assumption_{proposal['pk']}_evidence"] = proposal["evidence"]
    body.update(changes)
    return body


# --- who may do what ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["memo-send", "memo-regenerate"])
def test_the_moves_refuse_get(client_for, pm, memo, name):
    assert client_for(pm).get(url(name, memo)).status_code == 405


def test_the_api_moves_refuse_get(api_for, pm, memo):
    api = api_for(pm)
    assert api.get("/api/v1/value-memos/generate/").status_code == 405
    for move in ("send", "decide", "edit"):
        assert api.get(f"/api/v1/value-memos/{memo.pk}/{move}/").status_code == 405


def test_a_viewer_reads_the_memo_but_every_change_is_refused(client_for, viewer, memo, world):
    client = client_for(viewer)
    assert client.get(url("memo-detail", memo)).status_code == 200
    assert client.get(url("memo-edit", memo)).status_code == 403
    assert client.post(url("memo-edit", memo), {"adoption__work_as_done": "x"}).status_code == 403
    assert client.post(url("memo-send", memo)).status_code == 403
    assert client.post(url("memo-regenerate", memo)).status_code == 403
    assert client.get(url("memo-decide", memo)).status_code == 403
    generate_body = {"capability": world["capability"].slug, "month": "2026-03"}
    assert client.post(reverse("forums:memo-generate"), generate_body).status_code == 403
    memo.refresh_from_db()
    assert memo.state == "draft"
    assert not memo.fields["meta"].get("edited_at")


def test_a_viewer_is_refused_by_the_api(api_for, viewer, memo, world):
    api = api_for(viewer)
    assert api.post(f"/api/v1/value-memos/{memo.pk}/send/").status_code == 403
    assert api.post(f"/api/v1/value-memos/{memo.pk}/edit/", {"lines": {}}, format="json").status_code == 403
    body = {"capability": world["capability"].slug, "month": "2026-03"}
    assert api.post("/api/v1/value-memos/generate/", body, format="json").status_code == 403
    memo.refresh_from_db()
    assert memo.state == "draft"


def test_another_capabilitys_pm_is_told_nothing_exists(client_for, api_for, outsider, sent, world):
    client = client_for(outsider)
    for name in ("memo-detail", "memo-edit", "memo-decide", "memo-export"):
        assert client.get(url(name, sent)).status_code == 404
    for name in ("memo-send", "memo-regenerate", "memo-decide"):
        assert client.post(url(name, sent)).status_code == 404
    assert client.get(reverse("forums:session-memos", kwargs={"pk": world["session"].pk})).status_code == 404
    api = api_for(outsider)
    assert api.get(f"/api/v1/value-memos/{sent.pk}/").status_code == 404
    assert api.post(f"/api/v1/value-memos/{sent.pk}/decide/", {}, format="json").status_code == 404
    body = {"capability": world["capability"].slug, "month": "2026-03"}
    refused = api.post("/api/v1/value-memos/generate/", body, format="json")
    assert refused.status_code == 400 and "does not exist" in refused.json()["capability"][0]
    assert api.get("/api/v1/value-memos/").json()["results"] == []
    assert not Decision.objects.exists()


def test_an_executive_reads_the_memo_and_the_list(client_for, api_for, executive, sent):
    client = client_for(executive)
    page = client.get(url("memo-detail", sent))
    assert page.status_code == 200
    assert "Monthly AI Value Review Decision Memo" in page.content.decode()
    assert sent.capability.name in client.get(reverse("forums:memo-list")).content.decode()
    [row] = api_for(executive).get("/api/v1/value-memos/").json()["results"]
    assert row["id"] == sent.pk
    assert row["recommendation_label"] == "Scale"


# --- the PM's path through the pages ------------------------------------------------------------


def test_the_pm_generates_edits_sends_and_decides_through_the_pages(client_for, pm, world):
    client = client_for(pm)
    response = client.post(
        reverse("forums:memo-generate"),
        {"capability": world["capability"].slug, "month": "2026-03", "session": world["session"].pk},
    )
    memo = ValueMemo.objects.get()
    assert response.status_code == 302
    assert response["Location"] == memo.get_absolute_url()

    form = client.get(url("memo-edit", memo))
    assert form.status_code == 200
    assert "recommendation" not in {name.split("__")[-1] for name in form.context["form"].fields}
    body = {name: field.initial for name, field in form.context["form"].fields.items()}
    body = {name: value or "" for name, value in body.items()}
    body["adoption__work_as_done"] = "坐席先把建议粘贴进小结，再逐句修改。"
    assert client.post(url("memo-edit", memo), body).status_code == 302
    memo.refresh_from_db()
    assert memo.fields["adoption"]["work_as_done"] == "坐席先把建议粘贴进小结，再逐句修改。"
    assert "坐席先把建议粘贴进小结，再逐句修改。" in client.get(url("memo-detail", memo)).content.decode()

    assert client.post(url("memo-send", memo)).status_code == 302
    memo.refresh_from_db()
    assert memo.is_sent

    decide = client.get(url("memo-decide", memo))
    assert decide.status_code == 200
    assert decide.context["form"]["decision"].initial == "scale"
    response = client.post(url("memo-decide", memo), decide_body(memo, pm))
    assert response.status_code == 302
    memo.refresh_from_db()
    assert memo.decision.type == "scale"
    assert memo.decision.review_trigger == "Repeat contact past warning two weeks running."
    assert AssumptionReview.objects.count() == 2


def test_the_forum_changes_a_proposed_status_on_the_decide_page(client_for, pm, sent, world):
    asm = world["value_assumption"]
    untested = world["untested_assumption"]
    body = decide_body(
        sent,
        pm,
        **{
            f"assumption_{asm.pk}_status": "weakened",
            f"assumption_{asm.pk}_evidence": "QA found fee errors on billing.",
            f"assumption_{untested.pk}_status": "",
        },
    )
    assert client_for(pm).post(url("memo-decide", sent), body).status_code == 302
    [review] = AssumptionReview.objects.all()
    assert (review.assumption, review.new_status, review.new_evidence) == (
        asm,
        "weakened",
        "QA found fee errors on billing.",
    )


def test_leaving_every_assumption_out_is_refused_on_the_page(client_for, pm, sent):
    body = decide_body(sent, pm)
    for proposal in sent.fields["assumption_update"]:
        body[f"assumption_{proposal['pk']}_status"] = ""
    response = client_for(pm).post(url("memo-decide", sent), body)
    assert response.status_code == 400
    assert "Every monthly value review updates the assumption ledger" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_sent_memo_refuses_edits_and_regeneration_on_the_pages(client_for, pm, sent):
    client = client_for(pm)
    kept = (sent.fields, sent.matrix, sent.generated_at)
    response = client.post(url("memo-edit", sent), {"adoption__work_as_done": "Changed afterwards"})
    assert response.status_code == 409
    assert "kept as sent" in response.content.decode()
    assert client.post(url("memo-regenerate", sent)).status_code == 409
    assert client.post(url("memo-send", sent)).status_code == 409
    sent.refresh_from_db()
    assert (sent.fields, sent.matrix, sent.generated_at) == kept


def test_a_sent_memo_refuses_edits_and_regeneration_over_the_api(api_for, pm, sent, world):
    api = api_for(pm)
    edit = api.post(
        f"/api/v1/value-memos/{sent.pk}/edit/", {"lines": {"adoption": {"work_as_done": "x"}}}, format="json"
    )
    assert edit.status_code == 409
    assert "state" in edit.json()
    body = {"capability": world["capability"].slug, "month": "2026-03"}
    assert api.post("/api/v1/value-memos/generate/", body, format="json").status_code == 409


def test_the_api_generates_and_decides_through_the_same_services(api_for, pm, world):
    api = api_for(pm)
    body = {"capability": world["capability"].slug, "month": "2026-03", "session": world["session"].pk}
    created = api.post("/api/v1/value-memos/generate/", body, format="json")
    assert created.status_code == 201
    data = created.json()
    assert data["recommendation"] == "scale"
    assert data["month"] == "2026-03"
    assert data["matrix"]["pattern"] == "Outcome improves, adoption durable, risk stable, cost acceptable"
    memo_id = data["id"]
    assert api.post(f"/api/v1/value-memos/{memo_id}/send/").json()["state"] == "sent"
    asm = world["value_assumption"]
    decided = api.post(
        f"/api/v1/value-memos/{memo_id}/decide/",
        {
            "decision": "scale",
            "text": "Scale to card intents.",
            "owner": pm.pk,
            "assumption_reviews": [
                {"assumption": asm.pk, "status": "confirmed", "evidence": "March figures."}
            ],
        },
        format="json",
    )
    assert decided.status_code == 200
    assert decided.json()["decision"] == Decision.objects.get().readable_id
    assert AssumptionReview.objects.get().new_evidence == "March figures."
    again = api.post(
        f"/api/v1/value-memos/{memo_id}/decide/",
        {"decision": "scale", "text": "Again.", "owner": pm.pk},
        format="json",
    )
    assert again.status_code == 409
    assert api.get("/api/v1/value-memos/?month=2026-02").json()["results"] == []
    assert len(api.get("/api/v1/value-memos/?month=2026-03").json()["results"]) == 1


def test_a_bad_month_over_the_api_names_the_field(api_for, pm, world):
    body = {"capability": world["capability"].slug, "month": "March"}
    response = api_for(pm).post("/api/v1/value-memos/generate/", body, format="json")
    assert response.status_code == 400
    assert "month" in response.json()


# --- what the memo page shows --------------------------------------------------------------------


def test_the_memo_page_reads_like_the_8_4_memo_with_the_matrix_box(client_for, pm, memo):
    html = client_for(pm).get(url("memo-detail", memo)).content.decode()
    headings = [
        "Capability",
        "Decision Requested",
        "Outcome Evidence",
        "Adoption Evidence",
        "Risk / Control Evidence",
        "Cost / Capacity Evidence",
        "Release / Experiment Evidence",
        "Assumption Ledger Update",
        "Decision and Actions",
    ]
    positions = [html.index(f'<h3 class="h5 po-memo-heading">{heading}</h3>') for heading in headings]
    assert positions == sorted(positions)
    assert 'id="matrix-decision">Scale</div>' in html
    assert "Outcome improves, adoption durable, risk stable, cost acceptable" in html
    assert f"{OUTCOME} (E3): -2.0 pts vs baseline (95% CI -2.5 pts … -1.5 pts, improved)" in html
    assert "below E3" in html
    assert 'id="not-net"' not in html


def test_a_not_net_warning_stands_at_the_top_and_in_the_matrix_box(client_for, pm, world):
    from contracts.models import MetricContract

    MetricContract.objects.filter(pk=world["outcome"].pk).update(
        improvement_not_net=True, improvement_not_net_reason="Repeat contact improved while AHT breached."
    )
    memo = generate(world, pm)
    html = client_for(pm).get(url("memo-detail", memo)).content.decode()
    assert html.index('id="not-net"') < html.index('id="matrix"')
    assert "Repeat contact improved while AHT breached." in html
    assert 'id="matrix-blocked-scale"' in html
    assert "Scale blocked." in html


def test_the_markdown_export_downloads_the_memo(client_for, executive, memo):
    response = client_for(executive).get(url("memo-export", memo))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert "value-memo-cc-agent-assist-2026-03.md" in response["Content-Disposition"]
    assert response.content.decode().startswith("# Monthly AI Value Review Decision Memo")


# --- the panel of a monthly session --------------------------------------------------------------


def test_a_monthly_session_page_carries_the_memo_panel(client_for, pm, world):
    html = client_for(pm).get(world["session"].get_absolute_url()).content.decode()
    assert 'id="memo-panel"' in html
    assert reverse("forums:session-memos", kwargs={"pk": world["session"].pk}) in html


def test_the_panel_lists_each_capability_in_scope_with_its_memo_and_a_generate_button(client_for, pm, world):
    client = client_for(pm)
    panel_url = reverse("forums:session-memos", kwargs={"pk": world["session"].pk})
    answer = client.get(panel_url, headers={"HX-Request": "true"})
    assert "HX-Request" in answer["Vary"]
    fragment = answer.content.decode()
    assert "<html" not in fragment
    assert world["capability"].name in fragment
    assert "not generated" in fragment
    assert 'name="month" value="2026-03"' in fragment
    generate(world, pm)
    page = client.get(panel_url).content.decode()
    assert "<html" in page
    assert "Draft" in page and "Scale" in page


def test_a_weekly_session_has_no_memo_panel(client_for, pm, world):
    from forums.choices import Cadence, Frequency
    from forums.services import forum_create

    weekly = forum_create(
        by=pm,
        scope=[world["capability"]],
        name="Weekly ops review",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=pm,
        decision_types=["continue"],
        frequency=Frequency.WEEKLY,
        time_of_day=datetime.time(10, 0),
    )
    session = Session.objects.create(forum=weekly, scheduled_at=SESSION_AT)
    client = client_for(pm)
    assert 'id="memo-panel"' not in client.get(session.get_absolute_url()).content.decode()
    assert client.get(reverse("forums:session-memos", kwargs={"pk": session.pk})).status_code == 404


# --- queries do not grow with the data -------------------------------------------------------------


def _more_contracts(capability, count):
    for n in range(count):
        row = contract(
            capability,
            f"cc_agent_assist.extra_{n}",
            "quality",
            direction="lower",
            target=0.1,
            warning=0.2,
            breach=0.3,
        )
        plant_ratio(row, days(MONTH, 31), [5, 7])
        evaluate(row, [datetime.date(2026, 3, 2)], 0.06)


def test_the_memo_page_costs_the_same_queries_for_a_small_and_a_large_memo(
    client_for, pm, world, django_assert_num_queries
):
    client = client_for(pm)
    small = generate(world, pm)
    client.get(url("memo-detail", small))  # warm the session and the role cache
    with CaptureQueriesContext(connection) as captured:
        client.get(url("memo-detail", small))
    queries = len(captured)
    _more_contracts(world["capability"], 10)
    large = generate(world, pm)
    assert len(large.fields["figures"]["risk"]) == len(small.fields["figures"]["risk"]) + 10
    with django_assert_num_queries(queries):
        assert client.get(url("memo-detail", large)).status_code == 200


def test_the_memo_list_costs_the_same_queries_for_two_and_twelve_memos(
    client_for, org_pm, django_assert_num_queries
):
    from forums.choices import MemoState

    def add_memos(count, start):
        for n in range(count):
            capability = CapabilityFactory()
            RoleAssignmentFactory(user=org_pm, role="ai_pm", capability=capability)
            ValueMemo.objects.create(
                capability=capability,
                month=datetime.date(2026, 1 + (start + n) % 3, 1),
                fields={"not_net": []},
                matrix={"label": "Scale", "evidence": {"not_net": ["x.y"] if n % 3 == 0 else []}},
                recommendation="scale",
                state=MemoState.SENT if n % 2 else MemoState.DRAFT,
                generated_at=datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC),
                sent_by=org_pm if n % 2 else None,
            )

    client = client_for(org_pm)
    add_memos(2, 0)
    client.get(reverse("forums:memo-list"))
    with CaptureQueriesContext(connection) as captured:
        assert client.get(reverse("forums:memo-list")).status_code == 200
    queries = len(captured)
    add_memos(10, 2)
    with django_assert_num_queries(queries):
        response = client.get(reverse("forums:memo-list"))
    assert len(response.context["page"].object_list) == 12
    assert (
        response.content.decode().count(">not net</span>") == 5
    )  # n = 0 of the first batch, 0, 3, 6, 9 of the second


def test_deciding_by_service_then_the_page_shows_the_decision(client_for, pm, sent):
    record = memo_decide(memo=sent, by=pm, decision=MemoDecision.SCALE, text="Scale.", owner=pm)
    html = client_for(pm).get(url("memo-detail", sent)).content.decode()
    assert f"Decided: {record.readable_id}" in html
    assert reverse("forums:memo-decide", kwargs={"pk": sent.pk}) not in html


def test_generating_without_a_session_from_the_page(client_for, pm, world):
    response = client_for(pm).post(
        reverse("forums:memo-generate"), {"capability": world["capability"].slug, "month": "2026-03"}
    )
    assert response.status_code == 302
    assert ValueMemo.objects.get().session is None


def test_generating_with_a_session_that_does_not_exist_is_a_400_naming_it(api_for, pm, world):
    # Found by the API fuzzer: an unknown session id in the body answered an undocumented 404.
    body = {"capability": world["capability"].slug, "month": "2026-03", "session": 999_999}
    answer = api_for(pm).post("/api/v1/value-memos/generate/", body, format="json")
    assert answer.status_code == 400 and "does not exist" in answer.json()["session"][0]
    assert not ValueMemo.objects.exists()
