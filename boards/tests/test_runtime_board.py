"""The runtime signal board (playbook 18.1, daily) on planted data: open incidents by severity,
the signals opened in the last 24 hours, cost anomalies, SLO / latency / fallback at their latest
evaluated value and level, the podcast's five signals placed by each contract's runtime watch,
time to remediation (median and p90 by capability, from opening to the last accepted closure
evidence), the capability cut, who may read it, bad input, and a query count that does not grow
with the portfolio.

The clock stands at Wednesday 15 April 2026, 12:00 in London (BST); every planted moment is after
the clocks went forward on 29 March, so the days below are whole hours apart.
"""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.template.defaultfilters import floatformat
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from actions.models import Action, ClosureEvidence
from actions.tests.factories import ActionFactory
from boards.tests.sizes import build_portfolio
from contracts.models import MetricContract, Signal, StopHold
from contracts.tests.factories import EvaluationFactory, MetricContractFactory, SignalFactory
from incidents.models import Incident

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
NOW = datetime.datetime(2026, 4, 15, 12, 0, tzinfo=LONDON)
URL = reverse("boards:runtime")
UNREMEDIATED = reverse("boards:runtime-unremediated")
# The weeks the planted evaluations fall in (Mondays).
WEEK_BEFORE, LAST_WEEK, THIS_WEEK = (
    datetime.date(2026, 3, 30),
    datetime.date(2026, 4, 6),
    datetime.date(2026, 4, 13),
)


def at(day: int, hour: int = 0, month: int = 4) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, 0, tzinfo=LONDON)


@pytest.fixture(autouse=True)
def _wednesday_noon():
    with time_machine.travel(NOW, tick=False):
        yield


# --- the planted world -----------------------------------------------------------------------


def contract(capability, metric_id, *, category, watch="", unit="share", direction="lower", **fields):
    name = fields.pop("name", metric_id.split(".")[-1].replace("_", " ").capitalize())
    defaults = {"target": 0.10, "warning": 0.12, "breach": 0.15, "is_ratio": unit == "share"}
    return MetricContractFactory(
        capability=capability,
        metric_id=metric_id,
        name=name,
        category=category,
        watch=watch,
        unit=unit,
        direction=direction,
        grain="week",
        status="active",
        **{**defaults, **fields},
    )


def evaluate(contract, *rows):
    """rows: (period, value, level) for the whole population, or (period, value, level, cut)."""
    for row in rows:
        period, value, level, cut = (*row, "")[:4]
        EvaluationFactory(
            contract=contract, period_start=period, grain="week", cut=cut, value=value, level=level
        )


def signal(contract, *, cut="", level="warning", opened_period, created_at, resolved=None, action=None):
    made = SignalFactory(
        contract=contract,
        cut=cut,
        level=level if resolved is None else "ok",
        worst_level=level,
        opened_period=opened_period,
        last_period=opened_period,
        resolved_period=resolved,
        action=action,
    )
    Signal.objects.filter(pk=made.pk).update(created_at=created_at)
    return made


def incident(capability, reporter, severity, *, occurred_on, state="reported", closed_at=None, **fields):
    made = Incident.objects.create(
        capability=capability,
        title=fields.pop("title", f"{severity} on {occurred_on}"),
        source="monitoring",
        occurred_on=occurred_on,
        severity=severity,
        state=state,
        closed_at=closed_at,
        reported_by=reporter,
        **fields,
    )
    Incident.objects.filter(pk=made.pk).update(created_at=at(occurred_on.day, 9, occurred_on.month))
    return made


def remedy(
    capability, owner, reviewer, *, source=None, status="closed", accepted=(), rejected=(), pending=False
):
    """An action (corrective when ``source`` is an incident) and its closure evidence: accepted and
    rejected reviews at the given moments, or one still pending."""
    fields = {}
    if source is not None:
        fields = {
            "source_kind": "incident",
            "source_content_type": ContentType.objects.get_for_model(source),
            "source_object_id": source.pk,
        }
    made = ActionFactory(capability=capability, owner=owner, reviewer=reviewer, status=status, **fields)
    if status == "closed":
        Action.objects.filter(pk=made.pk).update(closed_at=max([*accepted, *rejected, at(14)]))
    verdicts = [(moment, "accepted") for moment in accepted] + [(moment, "rejected") for moment in rejected]
    for moment, verdict in verdicts:
        ClosureEvidence.objects.create(
            action=made,
            text="QA sample of 50 back under warning.",
            submitted_by=owner,
            verdict=verdict,
            reviewed_by=reviewer,
            reviewed_at=moment,
        )
    if pending:
        ClosureEvidence.objects.create(action=made, text="Sample attached.", submitted_by=owner)
    made.refresh_from_db()
    return made


@pytest.fixture
def world(capability, other_capability, pm, executive):
    """Agent assist (cc) carries most of the news; KYC a little, so the cut shows a difference."""
    cc, kyc = capability, other_capability
    c = {}
    # SLO, latency and fallback: two weeks, the latest worse, with a cut past breach.
    c["latency"] = contract(
        cc, "cc.latency_p95", category="reliability", watch="latency", unit="ms",
        target=1200, warning=1500, breach=2000,
    )  # fmt: skip
    evaluate(
        c["latency"],
        (WEEK_BEFORE, 1300, "ok"),
        (LAST_WEEK, 1650, "warning"),
        (LAST_WEEK, 2100, "breach", "intent=billing"),
        (LAST_WEEK, 1400, "ok", "intent=cards"),
    )
    c["availability"] = contract(
        cc, "cc.availability", category="reliability", watch="slo", direction="higher",
        target=0.999, warning=0.995, breach=0.99,
    )  # fmt: skip
    evaluate(c["availability"], (WEEK_BEFORE, 0.9992, "ok"), (LAST_WEEK, 0.9871, "breach"))
    c["fallback"] = contract(cc, "cc.fallback_rate", category="reliability", watch="fallback_rate")
    evaluate(c["fallback"], (WEEK_BEFORE, 0.125, "warning"), (LAST_WEEK, 0.091, "ok"))
    c["kyc_latency"] = contract(
        kyc, "kyc.latency_p95", category="reliability", watch="latency", unit="ms",
        target=800, warning=1000, breach=1500,
    )  # fmt: skip
    evaluate(c["kyc_latency"], (LAST_WEEK, 990, "ok"))
    # The podcast's five, placed by watch; a contract merely *named* like one is not placed.
    c["eval"] = contract(cc, "cc.eval_pass", category="quality", watch="eval_pass_rate", direction="higher")
    evaluate(c["eval"], (LAST_WEEK, 0.943, "ok"))
    c["drift"] = contract(
        cc, "cc.confidence_psi", category="quality", watch="confidence_drift", unit="PSI",
        target=0.05, warning=0.1, breach=0.25,
    )  # fmt: skip
    evaluate(c["drift"], (LAST_WEEK, 0.0712, "ok"))
    c["override"] = contract(cc, "cc.override_rate", category="quality", watch="override_rate")
    evaluate(c["override"], (LAST_WEEK, 0.139, "warning"))
    c["escalation"] = contract(cc, "cc.escalation_rate", category="quality", watch="escalation_rate")
    evaluate(c["escalation"], (LAST_WEEK, 0.081, "ok"))
    c["named_like_eval"] = contract(
        cc, "cc.golden_set", category="quality", name="Eval pass rate (golden set)"
    )
    evaluate(c["named_like_eval"], (LAST_WEEK, 0.5, "breach"))
    # Cost: a sharp rise still within thresholds, one past warning, a review queue (not spend)
    # past warning, a small rise (not news), and KYC's past warning.
    c["cost_per_case"] = contract(
        cc, "cc.cost_per_case", category="cost", watch="cost_per_case", unit="GBP per case",
        target=0.08, warning=0.09, breach=0.11, is_ratio=False,
    )  # fmt: skip
    evaluate(c["cost_per_case"], (WEEK_BEFORE, 0.080, "ok"), (LAST_WEEK, 0.0885, "ok"))
    c["tokens"] = contract(
        cc, "cc.token_spend", category="cost", unit="GBP", target=1000, warning=1200, breach=1500,
    )  # fmt: skip
    evaluate(c["tokens"], (WEEK_BEFORE, 1250, "warning"), (LAST_WEEK, 1250, "warning"))
    c["queue"] = contract(
        cc, "cc.review_queue", category="cost", watch="review_queue", unit="cases",
        target=100, warning=150, breach=200,
    )  # fmt: skip
    evaluate(c["queue"], (WEEK_BEFORE, 100, "ok"), (LAST_WEEK, 180, "warning"))
    c["hosting"] = contract(
        cc, "cc.hosting", category="cost", unit="GBP", target=500, warning=600, breach=700,
    )  # fmt: skip
    evaluate(c["hosting"], (WEEK_BEFORE, 500, "ok"), (LAST_WEEK, 525, "ok"))
    c["kyc_cost"] = contract(
        kyc, "kyc.cost_per_application", category="cost", watch="cost_per_case", unit="GBP per application",
        target=15, warning=18, breach=20, is_ratio=False,
    )  # fmt: skip
    evaluate(c["kyc_cost"], (WEEK_BEFORE, 18.5, "warning"), (LAST_WEEK, 18.6, "warning"))

    s = {}
    # Signals opened in the last 24 hours: one raised this morning in this week's period, and
    # KYC's raised at 06:00. Not news: one whose period ended on Monday, and a backfill raised
    # today for a period that ended on 6 April (it counts from then).
    s["new"] = signal(
        c["latency"], cut="intent=billing", level="breach", opened_period=THIS_WEEK, created_at=at(15, 9)
    )
    s["kyc_new"] = signal(c["kyc_latency"], opened_period=THIS_WEEK, created_at=at(15, 6))
    open_action = remedy(cc, pm, executive, status="open")
    s["monday"] = signal(c["fallback"], opened_period=LAST_WEEK, created_at=at(13, 8), action=open_action)
    s["backfill"] = signal(c["eval"], opened_period=WEEK_BEFORE, created_at=at(15, 10))

    # Time to remediation, Agent assist: 2, 4 and 10 days -> median 4.0, p90 8.8.
    # (1) Two cuts of drift share one action: one remediation, from the earlier opening (the end
    # of the week of 30 March, 6 April 00:00) to the last acceptance (8 April 00:00): 2.0 days.
    # A rejected review in between does not count.
    shared = remedy(cc, pm, executive, accepted=[at(8)], rejected=[at(7)])
    signal(c["drift"], cut="intent=billing", opened_period=WEEK_BEFORE, created_at=at(6, 8),
           resolved=LAST_WEEK, action=shared)  # fmt: skip
    signal(c["drift"], cut="intent=cards", opened_period=LAST_WEEK, created_at=at(10, 8),
           resolved=THIS_WEEK, action=shared)  # fmt: skip
    # (2) Raised mid-week by the evaluation (9 April 06:00, before its week ended), verified
    # 13 April 06:00: 4.0 days.
    quick = remedy(cc, pm, executive, accepted=[at(13, 6)])
    signal(c["override"], cut="team=north", opened_period=LAST_WEEK, created_at=at(9, 6),
           resolved=THIS_WEEK, action=quick)  # fmt: skip
    # (3) An incident that occurred on 31 March (counted from that day's start), with two
    # corrective actions accepted on 5 and 10 April: 10.0 days.
    reporter = pm
    fixed = incident(cc, reporter, "sev3", occurred_on=datetime.date(2026, 3, 31), state="closed",
                     closed_at=at(12), title="Fee wording wrong")  # fmt: skip
    remedy(cc, pm, executive, source=fixed, accepted=[at(5)])
    remedy(cc, pm, executive, source=fixed, accepted=[at(10)])

    i = {}
    # Open incidents, Agent assist: Sev1 1, Sev2 2, Sev3 1 (a closed Sev4 is not open).
    i["sev1"] = incident(
        cc, reporter, "sev1", occurred_on=datetime.date(2026, 4, 14), title="Internal policy quoted"
    )
    i["sev2_contained"] = incident(
        cc, reporter, "sev2", occurred_on=datetime.date(2026, 4, 10), state="contained",
        contained_at=at(10, 15), title="Misleading fee explanation",
    )  # fmt: skip
    # Closed without accepted evidence: not remediated.
    remedy(cc, pm, executive, source=i["sev2_contained"], accepted=[], pending=True)
    i["sev2_root"] = incident(
        cc, reporter, "sev2", occurred_on=datetime.date(2026, 4, 1), state="root_cause_found", title="Wrong cancellation route"
    )  # fmt: skip
    i["sev3"] = incident(
        cc, reporter, "sev3", occurred_on=datetime.date(2026, 4, 12), title="Duplicate reminder"
    )
    incident(
        cc,
        reporter,
        "sev4",
        occurred_on=datetime.date(2026, 4, 2),
        state="closed",
        closed_at=at(5),
        title="Typo",
    )
    # KYC: a Sev1 open, and a Sev2 remediated in 2.0 days (1 April -> 3 April 00:00).
    i["kyc_sev1"] = incident(
        kyc, reporter, "sev1", occurred_on=datetime.date(2026, 4, 13), state="contained",
        contained_at=at(13, 12), title="Forged licence passed",
    )  # fmt: skip
    kyc_fixed = incident(
        kyc, reporter, "sev2", occurred_on=datetime.date(2026, 4, 1), state="closed", closed_at=at(6),
        title="Address check skipped",
    )  # fmt: skip
    remedy(kyc, pm, executive, source=kyc_fixed, accepted=[at(3)])
    return {"contracts": c, "signals": s, "incidents": i}


# --- reading the page ------------------------------------------------------------------------


def get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response, response.content.decode()


def section(page: str, dom_id: str) -> str:
    """The HTML of the <section> with this id."""
    start = page.index(f'id="{dom_id}"')
    start = page.rindex("<section", 0, start)
    depth, position = 0, start
    for match in re.finditer(r"<(/?)section\b", page[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            position = start + match.end()
            break
    return page[start:position]


def row(html: str, attribute: str, value: str) -> str:
    start = html.index(f'{attribute}="{value}"')
    return html[html.rindex("<tr", 0, start) : html.index("</tr>", start)]


def cell(row_html: str, marker: str) -> str:
    start = row_html.index(marker)
    text = row_html[row_html.index(">", start) + 1 : row_html.index("</td>", start)]
    return re.sub(r"<[^>]+>", "", text).strip()


def tile(page: str, dom_id: str) -> str:
    html = page[page.index(f'id="{dom_id}"') :]
    return re.search(r"data-count>([^<]*)<", html).group(1).strip()


# --- the figures -----------------------------------------------------------------------------


def test_open_incidents_by_severity_count_only_open_ones(world, client_for, executive):
    response, page = get(client_for(executive), capability="cc-agent-assist")
    board = response.context["runtime"]
    counts = {value: len(items) for value, _label, items in board.incidents_by_severity}
    assert counts == {"sev1": 1, "sev2": 2, "sev3": 1, "sev4": 0}
    assert tile(page, "tile-incidents") == "4"
    incidents = section(page, "incidents")
    for severity, expected in (("sev1", 1), ("sev2", 2), ("sev3", 1)):
        body = incidents[incidents.index(f'data-severity="{severity}"') :]
        body = body[: body.index("</tbody>")]
        assert body.count("<tr") == expected
    assert 'data-severity="sev4"' not in incidents and "Typo" not in incidents
    # The uncontained Sev1 says so, and leads what needs someone today.
    assert world["incidents"]["sev1"].readable_id in incidents and "not contained" in incidents
    assert board.needs[0].what.startswith(world["incidents"]["sev1"].readable_id)
    assert "Contain it now" in board.needs[0].detail


def test_signals_opened_in_the_last_24_hours(world, client_for, executive):
    response, page = get(client_for(executive), capability="cc-agent-assist")
    fresh = [item.signal for item in response.context["runtime"].new_signals]
    # Not the one whose period ended on Monday, nor the backfill raised today for an old period.
    assert fresh == [world["signals"]["new"]]
    assert tile(page, "tile-new") == "1"
    listed = section(page, "new-signals")
    assert f'data-signal="{world["signals"]["new"].pk}"' in listed
    assert "2026-04-15 09:00" in listed and "[intent=billing]" in listed
    assert f'data-signal="{world["signals"]["backfill"].pk}"' not in listed
    assert f'data-signal="{world["signals"]["monday"].pk}"' not in listed

    # A day later the morning's signal is no longer news.
    with time_machine.travel(at(16, 9) + datetime.timedelta(minutes=1), tick=False):
        response, page = get(client_for(executive), capability="cc-agent-assist")
    assert response.context["runtime"].new_signals == []
    assert "No signal opened in the last 24 hours." in page


def test_cost_anomalies_are_spend_past_warning_or_sharply_worse(world, client_for, executive):
    response, page = get(client_for(executive), capability="cc-agent-assist")
    anomalies = {a.contract.metric_id: a for a in response.context["runtime"].cost_anomalies}
    # Not the review queue (capacity, not spend) nor hosting's 5% rise.
    assert set(anomalies) == {"cc.cost_per_case", "cc.token_spend"}
    assert anomalies["cc.cost_per_case"].sharp_rise and not anomalies["cc.cost_per_case"].past_warning
    assert anomalies["cc.cost_per_case"].rise_percent == pytest.approx(10.625)
    assert anomalies["cc.token_spend"].past_warning and not anomalies["cc.token_spend"].sharp_rise
    assert tile(page, "tile-cost") == "2"
    costs = section(page, "cost-anomalies")
    spend = row(costs, "data-metric", "cc.cost_per_case")
    assert cell(spend, "po-value") == "0.0885 GBP per case"
    assert cell(spend, "data-rise") == "+10.6%"
    assert "sharp rise" in spend
    assert "past warning" in row(costs, "data-metric", "cc.token_spend")
    assert "cc.review_queue" not in costs and "cc.hosting" not in costs


def test_slo_latency_and_fallback_show_the_latest_value_and_level(world, client_for, executive):
    _response, page = get(client_for(executive), capability="cc-agent-assist")
    reliability = section(page, "reliability")
    latency = row(reliability, "data-metric", "cc.latency_p95")
    assert 'data-level="warning"' in latency
    assert "1,650 ms" in latency and "2026-04-06" in latency
    assert "intent:</span>" in latency and re.search(r">billing</a> 2,100 ms", latency)  # past breach
    assert "cards" not in latency  # a cut at ok is not "past warning"
    availability = row(reliability, "data-metric", "cc.availability")
    assert 'data-level="breach"' in availability and "98.7%" in availability
    fallback = row(reliability, "data-metric", "cc.fallback_rate")
    assert 'data-level="ok"' in fallback and "9.1%" in fallback and "better" in fallback
    # Alarming first: breach, then warning, then ok.
    order = [reliability.index(f'data-metric="{m}"') for m in ("cc.availability", "cc.latency_p95")]
    assert order == sorted(order)
    # Its trend chart (18.4): says which contract it is drawn from, its threshold lines carry their
    # action rules for the hover, and it cuts by cohort and by version in place (htmx).
    card = section(reliability, "trend-cc-latency-p95")
    chart_url = reverse("boards:chart", kwargs={"metric_id": "cc.latency_p95"})
    assert "cc.latency_p95" in card
    assert "Sample 50 calls for QA" in card and "Hold releases for the affected intent" in card
    assert f'hx-get="{chart_url}?by=cohort&amp;dimension=intent"' in card
    assert f'hx-get="{chart_url}?by=version"' in card


def test_each_figure_opens_its_evidence_binder(world, client_for, executive):
    """The latest value, each cut, each new signal and each cost figure link to the binder of
    that figure, and the binder shows the same figure."""
    client = client_for(executive)
    _response, page = get(client, capability="cc-agent-assist")
    binder = reverse("boards:evidence", kwargs={"metric_id": "cc.latency_p95"})
    latency = row(section(page, "reliability"), "data-metric", "cc.latency_p95")
    value_href = f"{binder}?period={LAST_WEEK.isoformat()}"
    cut_href = f"{binder}?period={LAST_WEEK.isoformat()}&amp;cut=intent%3Dbilling"
    assert f'href="{value_href}"' in latency and f'href="{cut_href}">billing</a>' in latency
    signal_href = f"{binder}?cut=intent%3Dbilling&amp;period={THIS_WEEK.isoformat()}"
    assert f'href="{signal_href}"' in row(
        section(page, "new-signals"), "data-signal", str(world["signals"]["new"].pk)
    )
    spend = row(section(page, "cost-anomalies"), "data-metric", "cc.cost_per_case")
    cost_binder = reverse("boards:evidence", kwargs={"metric_id": "cc.cost_per_case"})
    assert f'href="{cost_binder}?period={LAST_WEEK.isoformat()}"' in spend

    cut_page = client.get(cut_href.replace("&amp;", "&")).content.decode()
    assert 'id="binder-cut">cut intent=billing<' in cut_page
    assert "2,100 ms" in cut_page and "1,650 ms" not in cut_page


def test_the_podcast_five_are_placed_by_the_contracts_watch(world, client_for, executive):
    _response, page = get(client_for(executive), capability="cc-agent-assist")
    placed = {
        "evals": {"cc.eval_pass"},
        "drift": {"cc.confidence_psi"},
        "overrides": {"cc.override_rate", "cc.escalation_rate"},
    }
    every = {metric for metrics in placed.values() for metric in metrics}
    for dom_id, metrics in placed.items():
        html = section(page, dom_id)
        shown = set(re.findall(r'<tr[^>]*data-metric="([^"]+)"', html))
        assert shown == metrics, dom_id
        assert not (every - metrics) & shown
    # Named "Eval pass rate" but watching nothing: under no runtime heading.
    assert "cc.golden_set" not in page
    override = row(section(page, "overrides"), "data-metric", "cc.override_rate")
    assert 'data-level="warning"' in override and "13.9%" in override
    assert "94.3%" in section(page, "evals") and "0.0712 PSI" in section(page, "drift")
    # Cost-to-outcome and time to remediation are on the page too.
    assert 'id="cost-to-outcome"' in page and 'id="remediation"' in page


def test_cost_to_outcome_movement_flags_a_real_rise_and_calls_a_small_one_steady(
    world, client_for, executive
):
    c = world["contracts"]
    four_weeks_before = datetime.date(2026, 3, 9)
    evaluate(c["cost_per_case"], (four_weeks_before, 0.080, "ok"))
    resolved = contract(
        c["cost_per_case"].capability, "cc.resolved_first_time", category="outcome", direction="higher"
    )
    evaluate(resolved, (four_weeks_before, 0.80, "ok"), (LAST_WEEK, 0.75, "ok"))
    evaluate(c["kyc_cost"], (four_weeks_before, 18.5, "warning"))
    approved = contract(c["kyc_cost"].capability, "kyc.approved", category="outcome", direction="higher")
    evaluate(approved, (four_weeks_before, 0.9, "ok"), (LAST_WEEK, 0.9, "ok"))

    response, page = get(client_for(executive), capability="all")
    rows = {row.cost.contract.metric_id: row for row in response.context["runtime"].cost_to_outcome}
    cc = rows["cc.cost_per_case"]
    # 0.0885 / 0.75 = 0.118 now against 0.080 / 0.80 = 0.100 four weeks before: +18%.
    assert cc.per_good_now == pytest.approx(0.118) and cc.per_good_then == pytest.approx(0.1)
    assert cc.movement == pytest.approx(0.18) and cc.worse
    html = row(section(page, "cost-to-outcome"), "data-cost", "cc.cost_per_case")
    assert cell(html, "data-per-good") == "0.12 GBP"
    assert "+18.0%" in html and "costs more" in html and "-5.0 pts" in html and "+10.6%" in html
    # Both figures it is computed from open their evidence for the period it was read at.
    for metric_id in ("cc.cost_per_case", "cc.resolved_first_time"):
        binder = reverse("boards:evidence", kwargs={"metric_id": metric_id})
        assert f'href="{binder}?period={LAST_WEEK.isoformat()}"' in html
    # KYC: 18.6 against 18.5 for the same approvals: +0.5%, steady, not flagged.
    kyc = rows["kyc.cost_per_application"]
    assert kyc.movement == pytest.approx(18.6 / 18.5 - 1) and not kyc.worse and not kyc.better
    html = row(section(page, "cost-to-outcome"), "data-cost", "kyc.cost_per_application")
    assert "steady" in html and "po-row-alarm" not in html and "costs" not in html


def test_a_capability_held_by_several_stop_rules_is_one_row_of_what_needs_someone(
    world, client_for, executive, capability
):
    c = world["contracts"]
    for metric, cut in (("availability", "intent=billing"), ("latency", "intent=cards")):
        stopped = signal(c[metric], cut=cut, level="stop", opened_period=LAST_WEEK, created_at=at(13, 8))
        StopHold.objects.create(
            capability=capability, signal=stopped, reason=f"Stop rule fired on {metric} [{cut}]"
        )
    response, page = get(client_for(executive), capability="cc-agent-assist")
    holds = [item for item in response.context["runtime"].needs if item.label == "Release hold"]
    assert len(holds) == 1
    assert holds[0].what == "Pending releases of Contact-centre agent assist are held"
    assert (
        holds[0].detail
        == "2 stop rules fired: cc.availability [intent=billing], cc.latency_p95 [intent=cards]"
    )
    assert tile(page, "tile-holds") == "1" and "by 2 stop rules" in page
    # A third on the whole population of availability: named under its metric, not repeating it.
    stopped = signal(c["availability"], level="stop", opened_period=LAST_WEEK, created_at=at(13, 8))
    StopHold.objects.create(capability=capability, signal=stopped, reason="Stop rule fired on availability")
    response, page = get(client_for(executive), capability="cc-agent-assist")
    (hold,) = [item for item in response.context["runtime"].needs if item.label == "Release hold"]
    assert hold.detail == (
        "3 stop rules fired: cc.availability [intent=billing, whole population], cc.latency_p95 [intent=cards]"
    )


def test_what_needs_someone_lists_a_problem_once_and_says_when_it_crossed(
    world, client_for, executive, capability, pm
):
    c = world["contracts"]
    # Two cuts of availability at breach share one action: one row naming both cuts.
    shared = remedy(capability, pm, executive, status="open")
    for cut in ("intent=billing", "intent=cards"):
        signal(
            c["availability"],
            cut=cut,
            level="breach",
            opened_period=LAST_WEEK,
            created_at=at(13, 8),
            action=shared,
        )
    # Fallback is at warning with an open signal that has no action: it is not hidden because
    # another problem (latency's breach) has no action either.
    signal(c["fallback"], cut="intent=cards", level="warning", opened_period=LAST_WEEK, created_at=at(13, 8))
    evaluate(c["fallback"], (LAST_WEEK, 0.13, "warning", "intent=cards"))
    response, _page = get(client_for(executive), capability="cc-agent-assist")
    needs = response.context["runtime"].needs
    breaches = [item for item in needs if item.urgency == 2]
    assert [item.what for item in breaches] == [
        "cc.availability [intent=billing, intent=cards]: Breach",
        "cc.latency_p95 [intent=billing]: Breach",
    ]
    assert breaches[0].detail.startswith("crossed in the week of 2026-04-06 · " + shared.readable_id)
    assert breaches[1].detail == "crossed in the week of 2026-04-13 · no action raised"
    reliability = {item.what.split(":")[0] for item in needs if item.urgency == 6}
    # Latency's and availability's figures are the breaches already listed (their signals); only
    # fallback's cut past warning is added.
    assert reliability == {"Fallback rate"}


def test_time_to_remediation_median_and_p90_by_capability(world, client_for, executive):
    response, page = get(client_for(executive), capability="all")
    rows = {r.capability.slug: r for r in response.context["runtime"].remediation}
    assert sorted(rows["cc-agent-assist"].days) == pytest.approx([2.0, 4.0, 10.0])
    assert rows["cc-agent-assist"].median == pytest.approx(4.0)
    assert rows["cc-agent-assist"].p90 == pytest.approx(8.8)
    assert rows["kyc-onboarding"].days == pytest.approx([2.0])
    table = section(page, "remediation")
    cc = row(table, "data-capability", "cc-agent-assist")
    assert (cell(cc, "data-remediated"), cell(cc, "data-median"), cell(cc, "data-p90")) == ("3", "4.0", "8.8")
    kyc = row(table, "data-capability", "kyc-onboarding")
    assert (cell(kyc, "data-remediated"), cell(kyc, "data-median"), cell(kyc, "data-p90")) == (
        "1",
        "2.0",
        "2.0",
    )
    # Not yet remediated on agent assist: the morning's breach and the backfill (no action), the
    # fallback signal (action open), four open incidents (one's action closed without accepted
    # evidence, three with no corrective action).
    assert cell(cc, "data-open") == "7"
    unremediated = {item.title: item for item in rows["cc-agent-assist"].open}
    sev2 = unremediated[f"{world['incidents']['sev2_contained'].readable_id} Misleading fee explanation"]
    assert sev2.status == "Closed without verified evidence"
    # Organisation-wide the list is long: folded on the board, it loads when opened.
    fold = client_for(executive).get(UNREMEDIATED, {"capability": "all"}, headers={"HX-Request": "true"})
    listed = row(fold.content.decode(), "data-kind", "incident")  # the oldest open incident
    assert "Wrong cancellation route" in listed and "No corrective action yet" in listed
    fallback = next(item for item in unremediated.values() if item.title.startswith("cc.fallback_rate"))
    assert fallback.status == "Action not closed"
    # Its age runs from the start of the day it occurred: 10 April 00:00 -> 15 April 12:00.
    assert sev2.age_days(response.context["runtime"].now) == pytest.approx(5.5)


def test_a_long_list_not_yet_remediated_is_folded_and_loads_when_opened(world, client_for, executive):
    client = client_for(executive)
    response, page = get(client, capability="all")
    items = response.context["runtime"].unremediated
    assert len(items) > 8
    remediation = section(page, "remediation")
    assert 'id="unremediated"' not in remediation
    fold = remediation[remediation.index('id="unremediated-fold"') :]
    fold = fold[: fold.index("</details>")]
    url = f"{UNREMEDIATED}?capability=all"
    assert f'hx-get="{url}"' in fold and 'hx-trigger="toggle once"' in fold
    assert f"{len(items)} not yet remediated, oldest first" in fold
    assert f'<a href="{url}">' in fold  # without JavaScript, a plain link
    # Opened: every one of them, oldest first, as the board counted them.
    body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert "<html" not in body and 'id="unremediated"' in body
    assert re.findall(r'data-kind="(\w+)"', body) == [item.kind for item in items]
    assert [cell(part, "data-age") for part in body.split("<tr")[2:]] == [
        floatformat(item.age_days_now, 0) for item in items
    ]
    # Without JavaScript the same list is a page of its own.
    own_page = client.get(url).content.decode()
    assert "<html" in own_page and own_page.count('data-kind="') == len(items)


def test_a_short_list_not_yet_remediated_is_shown_open(world, client_for, executive):
    response, page = get(client_for(executive), capability="cc-agent-assist")
    assert len(response.context["runtime"].unremediated) == 7
    remediation = section(page, "remediation")
    assert "<details open>" in remediation and 'id="unremediated"' in remediation
    assert "unremediated-fold" not in remediation


def test_the_list_not_yet_remediated_shows_only_what_the_reader_may_read(world, client_for, outsider):
    client = client_for(outsider)
    assert client.get(UNREMEDIATED, {"capability": "cc-agent-assist"}).status_code == 404
    body = client.get(UNREMEDIATED, {"capability": "all"}, headers={"HX-Request": "true"}).content.decode()
    assert "Wrong cancellation route" not in body and "cc." not in body


def test_text_people_wrote_is_escaped_in_the_rows_built_in_python(world, client_for, executive, capability):
    """The needs list, the incidents table and the figures tables are built by template tags:
    a title or a contract name with markup in it is shown as text."""
    payload = '<script>alert("x")</script>'
    incident(capability, executive, "sev1", occurred_on=datetime.date(2026, 4, 14), title=payload)
    MetricContract.objects.filter(pk=world["contracts"]["latency"].pk).update(name=payload)
    _response, page = get(client_for(executive), capability="all")
    assert payload not in page
    escaped = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    assert escaped in section(page, "incidents") and escaped in section(page, "needs-today")
    assert escaped in section(page, "reliability")


def test_the_capability_cut_changes_the_figures(world, client_for, executive):
    everything, page_all = get(client_for(executive), capability="all")
    board = everything.context["runtime"]
    assert {value: len(items) for value, _l, items in board.incidents_by_severity}["sev1"] == 2
    assert {item.signal.pk for item in board.new_signals} == {
        world["signals"]["new"].pk,
        world["signals"]["kyc_new"].pk,
    }
    assert {a.contract.metric_id for a in board.cost_anomalies} == {
        "cc.cost_per_case",
        "cc.token_spend",
        "kyc.cost_per_application",
    }
    assert "Forged licence passed" in page_all

    kyc, page = get(client_for(executive), capability="kyc-onboarding")
    board = kyc.context["runtime"]
    assert kyc.context["capability"].slug == "kyc-onboarding"
    assert [incident.title for incident in board.open_incidents] == ["Forged licence passed"]
    assert (
        tile(page, "tile-incidents") == "1"
        and tile(page, "tile-new") == "1"
        and tile(page, "tile-cost") == "1"
    )
    assert [r.capability.slug for r in board.remediation] == ["kyc-onboarding"]
    assert "cc.latency_p95" not in page and "Internal policy quoted" not in page
    assert "kyc.latency_p95" in section(page, "reliability")


def test_an_outsider_does_not_see_the_capability(world, outsider, client_for):
    client = client_for(outsider)
    response, page = get(client, capability="all")
    board = response.context["runtime"]
    assert [c.slug for c in board.capabilities] == ["kyc-onboarding"]
    assert "Contact-centre agent assist" not in page and "cc.latency_p95" not in page
    assert "Internal policy quoted" not in page
    assert client.get(URL, {"capability": "cc-agent-assist"}).status_code == 404


def test_a_bad_capability_gets_a_clear_answer_not_a_500(world, client_for, executive):
    response = client_for(executive).get(URL, {"capability": "no-such-thing"})
    assert response.status_code == 404
    page = response.content.decode()
    assert "no-such-thing" in page and "Capability" in page
    # The choice of the capabilities the person may read is offered instead.
    assert 'value="cc-agent-assist"' in page and 'value="kyc-onboarding"' in page
    assert f'href="{URL}?capability=all"' in page


def test_the_board_is_get_only(world, client_for, executive):
    client = client_for(executive)
    assert client.post(URL).status_code == 405
    assert client.put(URL).status_code == 405


def test_runtime_board_queries_do_not_grow_with_the_portfolio(client, django_assert_num_queries):
    small = build_portfolio(2)
    client.force_login(small.reader)
    client.get(URL)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    build_portfolio(4, prefix="more")
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(URL)
    board = response.context["runtime"]
    assert len(board.remediation) == 6
    # Each capability: an open Sev2, its latency contract on the SLO table, its eval pass rate
    # under the podcast's five, the risk signal at breach.
    assert len(board.open_incidents) == 6
    assert {value: len(items) for value, _l, items in board.incidents_by_severity}["sev2"] == 6
    assert len(board.slo) == 6 and len(board.evals) == 6
    assert len(board.signals_at_breach) == 6


def test_the_list_not_yet_remediated_queries_do_not_grow_with_the_portfolio(
    client, django_assert_num_queries
):
    small = build_portfolio(2)
    client.force_login(small.reader)
    client.get(UNREMEDIATED, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as queries:
        client.get(UNREMEDIATED, headers={"HX-Request": "true"})
    build_portfolio(4, prefix="more")
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(UNREMEDIATED, headers={"HX-Request": "true"})
    assert {item.capability.slug for item in response.context["items"]} >= {"size-0", "more-3"}
