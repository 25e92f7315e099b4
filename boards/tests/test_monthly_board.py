"""The monthly value board (playbook 18.3) on planted data: its figures are the memo's for the
same capability and month (read from the memo where one exists, built the same way where none
does), cohorts, net value parts with evidence gaps never shown as zero, "improvement not net",
who may read it, and a query count that does not grow with the portfolio."""

import datetime
import math

import pytest
import time_machine
from django.urls import reverse

from boards.monthly import monthly_board
from boards.tests.sizes import build_portfolio
from contracts.models import Observation
from contracts.stats import Z_95
from forums.memos import memo_generate
from forums.memos.build import memo_build
from forums.tests.test_memos import LONDON, MONTH, OUTCOME, build_world, days, plant_ratio

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 4, 1, 15, 0, tzinfo=LONDON)
URL = reverse("boards:monthly")


@pytest.fixture(autouse=True)
def _april_first():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(capability, pm, executive):
    return build_world(capability, pm, executive)


def board_row(client, capability_slug="cc-agent-assist", **params):
    response = client.get(URL, {"capability": capability_slug, "month": "2026-03", **params})
    assert response.status_code == 200
    (row,) = response.context["monthly"].rows
    return response, row


def outcome_of(row):
    return next(f for f in row.outcomes if f["metric_id"] == OUTCOME)


def test_the_board_shows_the_memos_outcome_movement_and_decision_for_the_month(
    world, client_for, pm, executive
):
    memo = generate(world, pm)
    response, row = board_row(client_for(executive))
    assert row.memo == memo and row.source == "draft"
    shown = outcome_of(row)
    kept = next(f for f in memo.fields["figures"]["outcome"] if f["metric_id"] == OUTCOME)
    assert shown["movement"] == kept["movement"]
    assert (shown["baseline"], shown["current"]) == (kept["baseline"], kept["current"])
    # The planted data: 12% over January's first four weeks, 10% in March (ratio of sums).
    assert shown["movement"]["difference"] == pytest.approx(-0.02)
    half = Z_95 * math.sqrt(1 / 270_000 + 1 / 310_000)
    assert shown["movement"]["ci_low"] == pytest.approx(-0.02 - half)
    assert row.recommendation == memo.recommendation == memo.matrix["decision"]
    page = response.content.decode()
    assert "12.0% → <strong>10.0%</strong>" in page
    assert "-2.0 pts" in page and "(95% CI -2.5 pts … -1.5 pts)" in page
    assert memo.matrix["pattern"] in page
    assert row.recommendation_label in page


def test_a_sent_memo_is_shown_as_sent_even_after_the_data_changes(world, client_for, pm, executive):
    from forums.memos import memo_send

    memo = memo_send(memo=generate(world, pm), by=pm)
    # A late batch moves March's outcome: the memo was sent, so the board keeps its figures.
    Observation.objects.filter(contract=world["outcome"], period_start__gte=MONTH).update(
        value=0.3, numerator=30
    )
    _response, row = board_row(client_for(executive))
    assert row.source == "sent"
    assert outcome_of(row)["current"] == pytest.approx(0.10)
    assert outcome_of(row)["movement"] == memo.fields["figures"]["outcome"][0]["movement"]


def test_without_a_memo_the_board_shows_what_the_memo_will_show(world, client_for, pm, executive):
    _response, row = board_row(client_for(executive))
    assert row.memo is None and row.source == "live"
    draft = memo_build(capability=world["capability"], month=MONTH, by=pm)
    assert row.matrix["decision"] == draft.result.decision
    assert row.matrix["pattern"] == draft.result.pattern
    memo = generate(world, pm)
    kept = memo.fields["figures"]["outcome"][0]
    assert outcome_of(row)["movement"] == kept["movement"]
    assert outcome_of(row)["current"] == kept["current"]
    assert row.matrix["decision"] == memo.recommendation


def test_cohort_figures_are_baseline_and_month_of_each_cohort(world, client_for, pm, executive):
    outcome = world["outcome"]
    outcome.required_cuts = ["intent"]
    outcome.cohort_dimensions = ["intent"]
    outcome.save()
    january = days(datetime.date(2026, 1, 5), 28)
    plant_ratio(outcome, january, [20], cohort={"intent": "billing"})
    plant_ratio(outcome, days(MONTH, 31), [10], cohort={"intent": "billing"})
    plant_ratio(outcome, january, [8, 10], cohort={"intent": "card"})
    plant_ratio(outcome, days(MONTH, 31), [9, 9], cohort={"intent": "card"})
    response, row = board_row(client_for(executive))
    cuts = {cut["cut"]: cut for cut in outcome_of(row)["cuts"]}
    assert cuts["intent=billing"]["before"] == pytest.approx(0.20)
    assert cuts["intent=billing"]["after"] == pytest.approx(0.10)
    assert cuts["intent=card"]["before"] == pytest.approx(0.09)
    assert cuts["intent=card"]["after"] == pytest.approx(0.09)
    assert cuts["intent=card"]["moved"] == "flat"
    page = response.content.decode()
    assert 'data-cut="intent=billing"' in page
    assert "20.0%" in page and "?cut=intent%3Dbilling" in page


def test_net_value_parts_come_from_their_contracts_and_a_missing_one_is_an_evidence_gap(
    world, client_for, executive
):
    response, row = board_row(client_for(executive))
    parts = {part.key: part for part in row.net_value}
    assert [f["metric_id"] for f in parts["benefit"].figures] == [OUTCOME]
    assert [f["metric_id"] for f in parts["cost"].figures] == ["cc_agent_assist.cost_per_case"]
    assert parts["cost"].figures[0]["current"] == pytest.approx((16 * 0.9 + 15 * 1.1) / 31)
    assert [f["metric_id"] for f in parts["risk_adjustment"].figures] == ["cc_agent_assist.complaint_rate"]
    for key in ("human_review", "support", "rework"):
        assert parts[key].gap and parts[key].figures == []
    page = response.content.decode()
    assert page.count("Evidence gap: no contract measures it (not zero).") == 3
    assert "0.997 GBP" in page
    assert set(row.evidence_gaps) == {"Human review", "Support", "Rework"}


def test_an_improvement_a_guardrail_blocks_is_shown_not_net(world, client_for, executive):
    outcome = world["outcome"]
    outcome.improvement_not_net = True
    outcome.improvement_not_net_reason = "repeat contact improved while complaints breached"
    outcome.save()
    response, row = board_row(client_for(executive))
    assert row.not_net[0]["metric_id"] == OUTCOME
    assert row.recommendation != "scale"
    assert any("Scale" in blocked["label"] for blocked in row.matrix["blocked"])
    page = response.content.decode()
    assert "improvement not net" in page
    assert "repeat contact improved while complaints breached" in page


def test_the_movement_and_cohort_rows_built_in_python_escape_what_people_typed(world, client_for, executive):
    """The outcome's movement and its cohort table are built once in Python (format_html), not
    per cohort in the template: a reason or cohort value someone typed is escaped all the same."""
    outcome = world["outcome"]
    outcome.improvement_not_net = True
    outcome.improvement_not_net_reason = 'complaints <b>breached</b> & "more"'
    outcome.required_cuts = ["intent"]
    outcome.save()
    plant_ratio(outcome, days(datetime.date(2026, 1, 5), 28), [20], cohort={"intent": "<i>billing</i>"})
    plant_ratio(outcome, days(MONTH, 31), [10], cohort={"intent": "<i>billing</i>"})
    response, row = board_row(client_for(executive))
    page = response.content.decode()
    assert "<b>breached</b>" not in page and "<i>billing</i>" not in page
    assert 'title="complaints &lt;b&gt;breached&lt;/b&gt; &amp; &quot;more&quot;"' in page
    assert 'data-cut="intent=&lt;i&gt;billing&lt;/i&gt;"' in page
    assert "?cut=intent%3D%3Ci%3Ebilling%3C/i%3E&amp;period=2026-03-01&amp;span=month" in page
    assert page.count('class="po-movement') == 2  # the decision table's and the capability's


def test_trend_cards_past_the_first_few_load_when_scrolled_to(client, monkeypatch):
    """Organisation-wide the board has a trend card per outcome contract: the first
    ``EAGER_CARDS`` are drawn with the page, the others are placeholders that fetch the same
    card from the chart endpoint when revealed (a plain link without JavaScript)."""
    from boards import monthly

    with time_machine.travel(datetime.datetime(2026, 4, 20, 12, 0, tzinfo=LONDON), tick=False):
        portfolio = build_portfolio(3)
        client.force_login(portfolio.reader)
        monkeypatch.setattr(monthly, "EAGER_CARDS", 1)
        response = client.get(URL)
        page = response.content.decode()
        cards = [card for _row, cards in response.context["trend_groups"] for card in cards]
        assert len(cards) == 3
        drawn, pending = cards[0], cards[1:]
        assert not getattr(drawn, "pending", False) and "plotly-graph-div" in page
        for card in pending:
            chart = reverse("boards:chart", kwargs={"metric_id": card.contract.metric_id})
            assert f'hx-get="{chart}" hx-trigger="revealed"' in page
            drawn_later = client.get(chart, headers={"HX-Request": "true"})
            assert drawn_later.status_code == 200
            assert f'data-metric="{card.contract.metric_id}"' in drawn_later.content.decode()
        assert page.count('hx-trigger="revealed"') == 2


def test_an_outsider_gets_404_for_a_capability_they_may_not_read_and_sees_only_their_own(
    world, client_for, outsider, other_capability
):
    client = client_for(outsider)
    assert client.get(URL, {"capability": "cc-agent-assist", "month": "2026-03"}).status_code == 404
    response = client.get(URL, {"month": "2026-03"})
    assert [row.capability for row in response.context["monthly"].rows] == [other_capability]
    assert "Contact-centre agent assist" not in response.content.decode()


def test_the_board_answers_get_only_and_refuses_a_month_to_come(world, client_for, executive):
    client = client_for(executive)
    assert client.post(URL).status_code == 405
    assert client.get(URL, {"month": "2026-06"}).status_code == 404
    assert client.get(URL, {"month": "march"}).status_code == 404


def test_the_board_defaults_to_the_last_whole_month_and_the_navbar_capability(world, client_for, executive):
    client = client_for(executive)
    session = client.session
    session["current_capability"] = "cc-agent-assist"
    session.save()
    response = client.get(URL)
    assert response.context["monthly"].month == datetime.date(2026, 3, 1)
    assert response.context["capability"] == world["capability"]


def test_monthly_board_queries_do_not_grow_with_the_portfolio(client, django_assert_num_queries):
    with time_machine.travel(datetime.datetime(2026, 4, 20, 12, 0, tzinfo=LONDON), tick=False):
        small = build_portfolio(2)
        client.force_login(small.reader)
        client.get(URL)
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            client.get(URL)
        count = len(queries.captured_queries)
        build_portfolio(4, prefix="more")
        with django_assert_num_queries(count):
            response = client.get(URL)
        rows = response.context["monthly"].rows
        assert len(rows) == 6
        # The live path (no memo): each row carries its computed matrix and outcome.
        assert all(row.source == "live" and row.matrix.get("decision") for row in rows)
        assert all(row.outcomes for row in rows)


def test_monthly_board_function_reads_every_capability_in_a_fixed_number_of_queries(
    django_assert_num_queries,
):
    with time_machine.travel(datetime.datetime(2026, 4, 20, 12, 0, tzinfo=LONDON), tick=False):
        small = build_portfolio(2)
        caps = [sized.capability for sized in small.capabilities]
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            monthly_board(caps, month=datetime.date(2026, 3, 1))
        large = build_portfolio(4, prefix="more")
        caps += [sized.capability for sized in large.capabilities]
        with django_assert_num_queries(len(queries.captured_queries)):
            board = monthly_board(caps, month=datetime.date(2026, 3, 1))
        assert len(board.rows) == 6


def generate(world, by):
    return memo_generate(capability=world["capability"], month=MONTH, session=world["session"], by=by)


def test_the_navbar_switcher_names_the_capability_the_board_is_cut_to(
    world, client_for, executive, other_capability
):
    """A board cut by ?capability= says so in the header's switcher too, not "All capabilities";
    ?capability=all selects none, whatever the switcher held before."""
    client = client_for(executive)
    session = client.session
    session["current_capability"] = "cc-agent-assist"
    session.save()

    def switcher(params) -> str:
        page = client.get(URL, params).content.decode()
        start = page.index('id="capability-switcher"')
        return page[start : page.index("</select>", start)]

    assert f'<option value="{other_capability.slug}" selected>' in switcher(
        {"capability": other_capability.slug}
    )
    assert " selected>" not in switcher({"capability": "all"})
    assert '<option value="cc-agent-assist" selected>' in switcher({})
