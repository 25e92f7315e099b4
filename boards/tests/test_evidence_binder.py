"""The evidence binder (issue 8, playbook 18.1): from a figure to its trace. A chain is planted
through the models' own services — observations ingested, the contract evaluated, the signal and
the action its rule raised, closure evidence submitted and verified, a decision citing the
contract — and every link must be in the binder's data and on its page, for the figure the cut
and period name; bad parameters get a message, outsiders a 404, and the page reads a fixed number
of statements whatever the size of the history."""

import datetime
import html
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, ClosureEvidence
from actions.services import action_create
from boards.binder import evidence_binder
from boards.tests.sizes import build_portfolio
from contracts.evaluation import evaluate_contract
from contracts.ingest import observations_ingest
from contracts.models import Evaluation, ImportJob, Signal, StopHold
from contracts.tests.evaluation_helpers import TODAY, W1, W2, W3, make_contract
from decisions.choices import DecisionType
from decisions.services import decision_record

pytestmark = pytest.mark.django_db

SOURCE = "crm-export-2026-06"
QA_SOURCE = "qa-sample-billing"
EVIDENCE_TEXT = "QA sample of 50 billing calls: repeat contact 9% after the knowledge article fix"
EVIDENCE_LINK = "https://wiki.example.test/qa/billing-2026-06"
DECISION_TEXT = "Keep billing on the previous prompt until the knowledge article is rewritten"


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def reviewer(make_person, capability, pm):
    """A second AI PM of the capability: verifies the closure evidence the owner (pm) submits."""
    return make_person("ai_pm", capability, username="lead")


def rows(contract, week, *, intent, rate, n, source=SOURCE, team="north", prompt="v12", days=1):
    """Daily observation rows, as a telemetry batch sends them, over ``days`` days of ``week``."""
    return [
        {
            "contract": contract.metric_id,
            "period_start": (week + datetime.timedelta(days=day)).isoformat(),
            "grain": "day",
            "cohort": {"intent": intent, "team": team},
            "version_set": {"prompt": prompt},
            "value": rate,
            "numerator": rate * n,
            "denominator": n,
            "sample_size": n,
            "source": source,
        }
        for day in range(days)
    ]


def ingest(contract, batch, *, source=SOURCE):
    observations_ingest(batch, source=source, evaluate=False)
    evaluate_contract(contract.pk)


def plant_chain(capability, pm, reviewer):
    """Billing breaches in the week of 8 June (cards keep the whole population under warning):
    observation -> evaluation -> signal -> action -> closure evidence -> verified -> decision."""
    contract = make_contract(capability, business_owner=pm, risk_reviewer=None)
    batch = []
    for week, billing in ((W1, 0.10), (W2, 0.20), (W3, 0.18)):
        batch += rows(contract, week, intent="billing", rate=billing, n=100, days=2)
        batch += rows(contract, week, intent="cards", rate=0.05, n=300, days=2)
    batch += rows(contract, W2, intent="billing", rate=0.22, n=50, source=QA_SOURCE, prompt="v13")
    observations_ingest(batch, source=SOURCE, evaluate=False)
    evaluate_contract(contract.pk)

    signal = Signal.objects.get(contract=contract)
    action = signal.action
    action.submit_evidence(by=pm, text=EVIDENCE_TEXT, link=EVIDENCE_LINK)
    action.verify(by=reviewer, comment="Sample checked against the criterion")
    decision = decision_record(
        capability=capability,
        by=pm,
        type=DecisionType.RESTRICT,
        decision=DECISION_TEXT,
        owner=pm,
        evidence=[contract],
    )
    return contract, signal, Action.objects.get(pk=action.pk), decision


def binder_url(contract, **params):
    url = reverse("boards:evidence", kwargs={"metric_id": contract.metric_id})
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"{url}?{query}" if query else url


def page_text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return html.unescape(response.content.decode())


# The chain --------------------------------------------------------------------------------------


def test_every_link_of_a_planted_chain_is_in_the_binder_and_on_its_page(
    client, capability, pm, reviewer, executive
):
    contract, signal, action, decision = plant_chain(capability, pm, reviewer)
    assert (signal.cut, signal.level, signal.opened_period) == ("intent=billing", "breach", W2)
    assert action.status == "closed"

    binder = evidence_binder(contract, user=executive, cut="intent=billing", period="2026-06-10")

    # The figure: the billing cut in the week of 8 June, as the evaluation job stored it.
    evaluation = Evaluation.objects.get(contract=contract, cut="intent=billing", period_start=W2)
    assert (binder.cut, binder.period, binder.period_end) == (
        "intent=billing",
        W2,
        W2 + datetime.timedelta(6),
    )
    assert binder.figure == evaluation
    assert binder.figure.level == "breach"
    # The observations and their sources: two billing days from the CRM export, one from QA.
    assert binder.observed.observations == 3
    assert binder.observed.sample == 250
    assert {(row.source, row.versions, row.observations, row.sample) for row in binder.observed.rows} == {
        (SOURCE, "prompt=v12", 2, 200),
        (QA_SOURCE, "prompt=v13", 1, 50),
    }
    assert binder.reconciles is True
    assert binder.observed.value == pytest.approx((0.20 * 200 + 0.22 * 50) / 250)
    # The contract: owners, thresholds with their action rules, evidence level.
    rules = {threshold.level: threshold.rule for threshold in binder.thresholds}
    assert contract.breach_action in rules["breach"] and contract.warning_action in rules["warning"]
    # Signal -> action -> closure evidence (verified, by whom).
    assert binder.signals == [signal]
    assert [trace.action for trace in binder.actions] == [action]
    trace = binder.actions[0]
    assert trace.signal_ids == [signal.pk]
    assert trace.closure_quality == "verified"
    assert trace.verified.text == EVIDENCE_TEXT and trace.verified.reviewed_by == reviewer
    # The decision that cited the contract.
    assert [item.decision for item in binder.decisions] == [decision]
    ((link, href),) = binder.decisions[0].cites
    assert (link.object_id, href) == (contract.pk, contract.get_absolute_url())

    client.force_login(executive)
    text = page_text(client.get(binder_url(contract, cut="intent=billing", period="2026-06-10")))
    figure = contract.format_value(evaluation.value)
    for expected in [
        contract.name,
        contract.metric_id,
        contract.business_question,
        f"Business: {pm.get_full_name()}",
        "Risk reviewer: —",
        contract.get_evidence_level_display(),
        contract.breach_action,
        contract.warning_action,
        contract.warning_closure_criterion,
        "week of 2026-06-08",
        figure,
        SOURCE,
        QA_SOURCE,
        "prompt=v13",
        "The figure equals its observations.",
        signal.get_absolute_url(),
        action.readable_id,
        action.get_absolute_url(),
        "Closed, evidence verified",
        EVIDENCE_TEXT,
        EVIDENCE_LINK,
        reviewer.get_full_name(),
        decision.readable_id,
        decision.get_absolute_url(),
        DECISION_TEXT,
    ]:
        assert expected in text, expected
    assert f'id="figure-value">{figure}<' in text.replace("\n", "")


def test_the_cut_and_the_period_choose_the_figure(client, capability, pm, reviewer, executive):
    contract, signal, _action, _decision = plant_chain(capability, pm, reviewer)
    whole = Evaluation.objects.get(contract=contract, cut="", period_start=W2)
    billing = Evaluation.objects.get(contract=contract, cut="intent=billing", period_start=W2)
    first_week = Evaluation.objects.get(contract=contract, cut="intent=billing", period_start=W1)
    assert contract.format_value(whole.value) != contract.format_value(billing.value)

    client.force_login(executive)
    for params, evaluation in [
        ({"period": "2026-06-08"}, whole),
        ({"cut": "intent=billing", "period": "2026-06-14"}, billing),  # Sunday: still that week
        ({"cut": "intent=billing", "period": "2026-06-01"}, first_week),
    ]:
        response = client.get(binder_url(contract, **params))
        binder = response.context["binder"]
        assert binder.figure == evaluation, params
        # The binder's recomputed figure equals the evaluation.
        assert binder.observed.value == pytest.approx(evaluation.value, rel=1e-9)
        assert binder.reconciles is True
        assert contract.format_value(evaluation.value) in page_text(response)
    # Without a period: the latest evaluated one.
    latest = client.get(binder_url(contract, cut="intent=billing")).context["binder"]
    assert latest.period == W3 and latest.figure.period_start == W3
    # A cut shows its own signals; the whole population lists every cut's.
    cards = client.get(binder_url(contract, cut="intent=cards", period="2026-06-08")).context["binder"]
    assert cards.signals == [] and cards.figure.level == "ok"
    assert client.get(binder_url(contract)).context["binder"].signals == [signal]


# Bad input, outsiders ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "where", "message"),
    [
        ({"period": "next-week"}, "period-error", "period: “next-week” is not a date"),
        ({"period": "2026-02-30"}, "period-error", "period: “2026-02-30” is not a date"),
        ({"period": "9999-12-31"}, "period-error", "period: “9999-12-31” is after today"),
        ({"period": "2026-07-27"}, "period-error", "period: “2026-07-27” is after today"),
        ({"cut": "colour=red"}, "cut-error", "cut: “colour=red” names no cohort dimension"),
        ({"cut": "billing"}, "cut-error", "cut: “billing” names no cohort dimension"),
        (
            {"cut": "intent=mortgages"},
            "cut-error",
            "no observation or evaluation of this contract has “intent=mortgages”",
        ),
        (
            {"cut": "team=north"},
            "cut-error",
            "“team=north” is not a cut the contract is evaluated by (intent)",
        ),
    ],
)
def test_a_bad_period_or_unknown_cut_gets_a_message_naming_it(
    client, capability, pm, reviewer, executive, params, where, message
):
    contract, *_ = plant_chain(capability, pm, reviewer)
    client.force_login(executive)
    text = page_text(client.get(binder_url(contract, **params)))
    assert f'id="{where}"' in text
    assert message in text


def test_a_partly_known_cut_names_what_it_ignored_and_shows_the_rest(
    client, capability, pm, reviewer, executive
):
    contract, *_ = plant_chain(capability, pm, reviewer)
    client.force_login(executive)
    response = client.get(binder_url(contract, cut="intent=billing|colour=red", period="2026-06-08"))
    text = page_text(response)
    assert response.context["binder"].cut == "intent=billing"
    assert (
        "cut: “colour=red” names no cohort dimension of this contract (intent, team) and is ignored" in text
    )
    assert "showing the whole population" not in text
    assert 'id="binder-cut">cut intent=billing<' in text


def test_a_period_before_any_data_says_it_was_not_evaluated(client, capability, pm, reviewer, executive):
    contract, *_ = plant_chain(capability, pm, reviewer)
    client.force_login(executive)
    response = client.get(binder_url(contract, period="0001-01-01"))
    text = page_text(response)
    assert response.context["binder"].figure is None
    assert "This period has not been evaluated." in text and 'id="period-error"' not in text


def test_an_unknown_metric_is_a_404(client, executive, capability):
    client.force_login(executive)
    assert client.get(reverse("boards:evidence", kwargs={"metric_id": "no.such_metric"})).status_code == 404


def test_a_person_with_no_role_on_the_capability_gets_a_404_not_the_trace(
    client, capability, other_capability, pm, reviewer, make_person
):
    contract, *_ = plant_chain(capability, pm, reviewer)
    outsider = make_person("ai_pm", other_capability, username="kyc_pm")
    client.force_login(outsider)
    response = client.get(binder_url(contract, cut="intent=billing"))
    assert response.status_code == 404
    assert contract.name not in response.content.decode()
    client.logout()
    assert client.get(binder_url(contract)).status_code == 302  # to the login page


def test_a_decision_of_another_capability_citing_the_contract_is_not_shown_to_who_cannot_see_it(
    client, capability, other_capability, pm, reviewer, make_person
):
    contract, *_ = plant_chain(capability, pm, reviewer)
    kyc_pm = make_person("ai_pm", other_capability, username="kyc_pm")
    both = make_person("ai_pm", other_capability, username="both")
    from portfolio.tests.factories import RoleAssignmentFactory

    RoleAssignmentFactory(user=both, role="ai_pm", capability=capability)
    elsewhere = decision_record(
        capability=other_capability,
        by=None,
        type=DecisionType.CONTINUE,
        decision="KYC reuses the billing repeat-contact measure",
        owner=kyc_pm,
        evidence=[contract],
    )
    client.force_login(pm)
    assert elsewhere.readable_id not in page_text(client.get(binder_url(contract)))
    client.force_login(both)
    assert elsewhere.readable_id in page_text(client.get(binder_url(contract)))


# Size ---------------------------------------------------------------------------------------------


def grow(contract, capability, pm, reviewer, *, round_: int):
    """More of everything the binder lists: observations from new sources and version sets, a
    new breaching cut (signal and action), an action on the contract with verified evidence, a
    decision citing the signal and one superseding the last."""
    batch = []
    intent = f"intent{round_}"
    for week in (W1, W2, W3):
        for source in range(3):
            batch += rows(
                contract,
                week,
                intent=intent,
                rate=0.25,
                n=60,
                source=f"feed-{round_}-{source}",
                prompt=f"v{round_}{source}",
                days=3,
            )
    observations_ingest(batch, source="batch", evaluate=False)
    evaluate_contract(contract.pk)
    signal = Signal.objects.filter(contract=contract, cut=f"intent={intent}").get()
    extra = action_create(
        capability=capability,
        by=pm,
        action=f"Recheck {intent}",
        owner=pm,
        due_date=TODAY.date(),
        closure_criterion="Sampled",
        source=contract,
    )
    extra.submit_evidence(by=pm, text=f"Sampled {intent}")
    extra.verify(by=reviewer)
    latest = decision_record(
        capability=capability,
        by=pm,
        type=DecisionType.CONTINUE,
        decision=f"Continue after {intent}",
        owner=pm,
        evidence=[signal, extra, contract],
    )
    decision_record(
        capability=capability,
        by=pm,
        type=DecisionType.RESTRICT,
        decision=f"Restrict {intent}",
        owner=pm,
        evidence=[contract],
        supersedes=latest,
    )


def test_the_binder_reads_a_fixed_number_of_statements_whatever_the_history(
    client, capability, pm, reviewer, executive, django_assert_num_queries
):
    contract, *_ = plant_chain(capability, pm, reviewer)
    client.force_login(executive)
    url = binder_url(contract)
    grow(contract, capability, pm, reviewer, round_=1)
    client.get(url)  # warm the content types and the session
    with CaptureQueriesContext(connection) as small:
        first = client.get(url)
    small_binder = first.context["binder"]
    sizes = [
        small_binder.observed.observations,
        len(small_binder.signals),
        len(small_binder.actions),
        len(small_binder.decisions),
    ]
    for round_ in range(2, 5):
        grow(contract, capability, pm, reviewer, round_=round_)
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    binder = response.context["binder"]
    larger = [binder.observed.observations, len(binder.signals), len(binder.actions), len(binder.decisions)]
    assert all(big > small for big, small in zip(larger, sizes, strict=True)), (sizes, larger)
    text = page_text(response)
    assert all(trace.action.readable_id in text for trace in binder.actions)
    assert "superseded by" in text


def test_the_month_span_is_the_figure_the_monthly_board_shows(client, capability, pm, reviewer, executive):
    """The monthly value board shows a weekly contract's month pooled from its observations; its
    links carry ``span=month`` and the binder's figure is that same number."""
    from forums.memos.figures import contract_figures

    contract, *_ = plant_chain(capability, pm, reviewer)
    month = contract_figures([contract], month_start=datetime.date(2026, 6, 1), today=TODAY.date())[
        contract.pk
    ]

    client.force_login(executive)
    response = client.get(binder_url(contract, period="2026-06-17", span="month"))
    binder = response.context["binder"]
    assert (binder.span, binder.period, binder.period_end) == ("month", W1, datetime.date(2026, 6, 30))
    assert binder.figure is None
    assert binder.observed.value == pytest.approx(month["current"], rel=1e-9)
    assert binder.observed.observations == 13  # 3 weeks x 2 days x 2 intents, and the QA row
    text = page_text(response)
    assert f'id="figure-value">{month["current_text"]}<' in text
    assert "month of 2026-06" in text
    # The weekly evaluations inside the month are marked; the figure is not a week's.
    assert text.count('class="po-current"') == 3
    # A monthly contract has no other span: the parameter is ignored.
    monthly = make_contract(capability, metric_id="cc_agent_assist.monthly_csat", grain="month")
    assert client.get(binder_url(monthly, span="month")).context["binder"].span == ""


# Boards -> binder -------------------------------------------------------------------------------


def binder_links(text: str) -> set[str]:
    return {html.unescape(href) for href in re.findall(r'href="(/boards/evidence/[^"]+)"', text)}


def test_every_binder_link_on_every_board_opens_its_figure_without_a_message(client):
    """Each board's links to the binder (trend cards' "Evidence →", figures in tables) open a
    figure: 200, the contract named, and no message about a bad cut or period."""
    with time_machine.travel(datetime.datetime(2026, 4, 20, 12, 0, tzinfo=datetime.UTC), tick=False):
        portfolio = build_portfolio(1)
        client.force_login(portfolio.reader)
        links: dict[str, set[str]] = {}
        for board in ["runtime", "weekly", "monthly", "release-impact", "portfolio"]:
            response = client.get(reverse(f"boards:{board}"))
            links[board] = binder_links(page_text(response))
            # Trend cards load their chart by htmx: their own "Evidence →" link is in the card.
            for chart in set(re.findall(r'hx-get="(/boards/chart/[^"]+)"', response.content.decode())):
                links[board] |= binder_links(page_text(client.get(html.unescape(chart))))
        # Boards showing contract figures link them (the release board shows figures only for a
        # regression, which this portfolio's release does not have).
        for board in ["runtime", "weekly", "monthly"]:
            assert links[board], f"the {board} board links no figure to its evidence"
        assert any("span=month" in link for link in links["monthly"])
        for href in sorted(set().union(*links.values())):
            response = client.get(href)
            text = page_text(response)
            assert 'id="cut-error"' not in text and 'id="period-error"' not in text, href
            assert response.context["contract"].metric_id in href


def test_observations_arriving_after_the_evaluation_are_named_with_both_samples(
    client, capability, pm, reviewer, executive
):
    contract, *_ = plant_chain(capability, pm, reviewer)
    late = rows(
        contract, W2 + datetime.timedelta(days=3), intent="billing", rate=0.40, n=100, source="late-feed"
    )
    with time_machine.travel(TODAY + datetime.timedelta(hours=1), tick=False):
        observations_ingest(late, source="late-feed", evaluate=False)  # the job has not run yet
    client.force_login(executive)
    response = client.get(binder_url(contract, cut="intent=billing", period="2026-06-08"))
    binder = response.context["binder"]
    assert binder.reconciles is False and binder.ingested_after_evaluation
    text = page_text(response)
    assert "The figure differs from its observations: evaluated 0.204 on a sample of 250" in text
    assert "0.26 on 350 now" in text
    assert "late-feed" in text


# The tables built in Python (boards.templatetags.evidence_tags) ----------------------------------


def test_the_tables_show_holds_reopenings_evidence_files_and_definition_changes_escaped(
    client, capability, pm, reviewer, executive
):
    """What the rows drawn in Python carry beyond the planted chain: a lifted stop hold (by whom)
    and one in force, an action reopened, a closure evidence file with its review comment, the
    fields a definition change changed, a decision recorded by the system, the CSV import a
    source came from; and everything people typed escaped."""
    contract, signal, action, _decision = plant_chain(capability, pm, reviewer)
    StopHold.objects.create(
        capability=capability, signal=signal, reason="stop", lifted_at=timezone.now(), lifted_by=reviewer
    )
    StopHold.objects.create(capability=capability, signal=signal, reason="stop again")
    Action.objects.filter(pk=action.pk).update(times_reopened=2)
    ClosureEvidence.objects.create(
        action=action,
        text="Second sample <script>x</script>",
        file="evidence/abc-report.pdf",
        submitted_by=pm,
        review_comment="Checked & kept",
    )
    job = ImportJob.objects.create(
        capability=capability, file="imports/crm.csv", original_name=SOURCE, created_by=pm
    )
    decision_record(
        capability=capability,
        by=None,
        type=DecisionType.METRIC_DEFINITION_CHANGE,
        decision="Numerator counts <b>reopened</b> cases",
        owner=pm,
        evidence=[contract],
        details={"changed_fields": ["numerator", "unit<"]},
    )

    client.force_login(executive)
    response = client.get(binder_url(contract, cut="intent=billing", period="2026-06-10"))
    raw = response.content.decode()
    text = page_text(response)
    assert f"Stop hold lifted by {reviewer.get_full_name()} on 2026-07-" in text
    assert "<strong>Stop hold in force</strong>" in text
    assert "reopened 2 times" in text
    assert "report.pdf" in text and "Checked & kept" in text
    assert "Changed: numerator, unit<" in text
    assert "recorded by the system" in text
    assert reverse("contracts:observation-import-status", kwargs={"pk": job.pk}) in raw
    assert "<script>x</script>" not in raw and "&lt;script&gt;x&lt;/script&gt;" in raw
    assert "<b>reopened</b>" not in raw and "unit&lt;" in raw
    assert 'class="po-current" aria-current="true"' in raw
