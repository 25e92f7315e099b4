"""The contract pages: list, detail (the playbook's template, trend, signals), create, edit,
activate, retire, and the signal pages."""

import datetime
import re

import pytest
from django.utils import timezone

from contracts.models import MetricContract
from contracts.services import contract_activate, contract_create
from contracts.tests.factories import (
    EvaluationFactory,
    MetricContractFactory,
    ObservationFactory,
    SignalFactory,
    contract_kwargs,
)
from decisions.models import Decision

pytestmark = [pytest.mark.django_db, pytest.mark.urls("contracts.tests.test_contract_urls")]

LIST = "/contracts/"
CREATE = "/contracts/new/"
SIGNALS = "/contracts/signals/"
METRIC_ID = "cc_agent_assist.repeat_contact_7d"
DETAIL = f"/contracts/{METRIC_ID}/"
EDIT = f"/contracts/{METRIC_ID}/edit/"
ACTIVATE = f"/contracts/{METRIC_ID}/activate/"
RETIRE = f"/contracts/{METRIC_ID}/retire/"

# The headings and labels of the playbook's contract template (10.1), in its order.
TEMPLATE_SECTIONS = {
    "Business question": ["Decision this metric supports"],
    "Definition": ["Numerator", "Denominator", "Inclusion rules", "Exclusion rules", "Time window"],
    "Population": ["Workflow", "User roles", "Case types", "Channel", "Risk tier"],
    "Source and trace": ["Source systems", "Event names", "Version fields", "Join keys", "Data latency"],
    "Owner": ["Business owner", "Analytics owner", "Risk reviewer"],
    "Thresholds and action rules": [
        "Target",
        "Warning",
        "Breach",
        "Stop rule",
        "Action when warning",
        "Action when breach",
    ],
    "Guardrails": ["Customer harm guardrail", "Cost guardrail", "Quality guardrail", "Risk guardrail"],
    "Segmentation": [
        "Required cohort cuts",
        "Vulnerable customer / protected class proxy review",
        "Manager/team cut",
    ],
    "Evidence quality": ["Level", "Sampling or reconciliation approach", "Last reviewed", "Next review"],
}


@pytest.fixture
def analyst(make_person, capability):
    return make_person("analytics", capability, username="analyst")


@pytest.fixture
def contract(capability, pm, analyst):
    return contract_create(
        by=pm,
        **contract_kwargs(
            capability,
            business_owner=pm,
            analytics_owner=analyst,
            population_channel="Voice",
            event_names="assist.suggestion_shown",
            guardrail_customer_harm="Complaints about **repeat calls** must not rise",
        ),
    )


@pytest.fixture
def active(contract, pm):
    return contract_activate(contract=contract, by=pm)


def form_data(capability, pm, analyst, **overrides):
    data = {
        "metric_id": METRIC_ID,
        "name": "Repeat contact within 7 days",
        "capability": capability.slug,
        "category": "outcome",
        "business_question": "Did agent assist reduce AHT without pushing customers to call again?",
        "numerator": "Customers with another contact within 7 days for the same intent",
        "denominator": "Assisted calls for eligible intents",
        "unit": "%",
        "direction": "lower",
        "is_ratio": "on",
        "business_owner": pm.pk,
        "analytics_owner": analyst.pk,
        "target": "10",
        "warning": "12",
        "breach": "15",
        "warning_action": "Sample 50 calls for QA",
        "warning_action_owner_role": "ai_pm",
        "warning_action_due_days": "14",
        "warning_closure_criterion": "QA sample back under warning",
        "breach_action": "Hold releases for the affected intent",
        "breach_action_owner_role": "ai_pm",
        "breach_action_due_days": "7",
        "breach_closure_criterion": "Back under warning for two weeks",
        "closure_periods": "2",
        "cohort_dimensions": "intent, team, agent_tenure",
        "required_cuts": "intent, team",
        "grain": "week",
        "min_sample_size": "30",
        "consecutive_periods": "1",
        "evidence_level": "E3",
        "next_review": (timezone.localdate() + datetime.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def edit_data(contract, **overrides):
    """The edit form as the browser would send it back unchanged, plus the overrides."""
    data = {}
    for field in MetricContract._meta.concrete_fields:
        if not field.editable or field.name in ("id", "metric_id", "capability", "status"):
            continue
        value = getattr(contract, field.attname)
        if isinstance(value, bool):
            if value:
                data[field.name] = "on"
            continue
        if isinstance(value, list):
            value = ", ".join(value)
        data[field.name] = "" if value is None else str(value)
    data["guardrails"] = [g.pk for g in contract.guardrails.all()]
    data.update(overrides)
    return data


# --- list ---------------------------------------------------------------------------------


def test_the_list_groups_contracts_by_capability_and_category(client_for, pm, capability, contract):
    MetricContractFactory(capability=capability, metric_id="cc_agent_assist.cost_per_call", category="cost")
    page = client_for(pm).get(LIST).content.decode()
    capability_at = page.index(">Contact-centre agent assist</a></h2>")
    outcome_at, cost_at = page.index(">Outcome</th>"), page.index(">Cost</th>")
    assert capability_at < outcome_at and capability_at < cost_at
    assert page.index(METRIC_ID) > outcome_at and page.index("cc_agent_assist.cost_per_call") > cost_at


def test_the_list_shows_only_contracts_of_capabilities_the_person_holds_a_role_on(
    client_for, contract, outsider, other_capability
):
    MetricContractFactory(capability=other_capability, metric_id="kyc_ai.cycle_time")
    page = client_for(outsider).get(LIST).content.decode()
    assert "kyc_ai.cycle_time" in page and METRIC_ID not in page


def test_the_list_filters(client_for, pm, capability, other_capability, contract, make_person):
    today = timezone.localdate()
    due = MetricContractFactory(
        capability=capability,
        metric_id="cc_agent_assist.cost_per_call",
        name="Cost per assisted call",
        status="active",
        next_review=today,
        category="cost",
    )
    kyc = MetricContractFactory(
        capability=other_capability, metric_id="kyc_ai.false_pass", name="False pass", evidence_level="E2"
    )
    client = client_for(make_person("ai_pm"))  # an organisation-wide PM sees both capabilities

    def listed(**params):
        return {c.metric_id for c in client.get(LIST, params).context["contracts"]}

    assert listed(capability=capability.slug) == {METRIC_ID, due.metric_id}
    assert listed(category="cost") == {due.metric_id}
    assert listed(status="active") == {due.metric_id}
    assert listed(evidence_level="E2") == {kyc.metric_id}
    assert listed(review_due="true") == {due.metric_id}
    assert listed(q="repeat contact") == {METRIC_ID}


def test_the_list_answers_htmx_with_the_rows_only(client_for, pm, contract):
    response = client_for(pm).get(LIST, {"q": "repeat"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert METRIC_ID in body and "<html" not in body and "<form" not in body
    assert "HX-Request" in response["Vary"]


def test_the_list_exports_csv(client_for, pm, contract):
    EvaluationFactory(contract=contract, level="warning")
    SignalFactory(contract=contract)
    response = client_for(pm).get(LIST, {"format": "csv", "q": "repeat"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].startswith(
        "Metric id,Name,Capability,Category,Status,Direction,Unit,Target,Warning,Breach"
    )
    assert lines[1].startswith(
        f"{METRIC_ID},Repeat contact within 7 days,Contact-centre agent assist,Outcome,Draft,"
    )
    assert lines[1].endswith(",E3,," + contract.next_review.isoformat() + ",warning,1")
    assert len(lines) == 2


def test_the_list_query_count_does_not_grow_with_ten_times_the_contracts(
    client_for, pm, capability, other_capability, django_assert_max_num_queries
):
    def make(n, start):
        for i in range(start, start + n):
            contract = MetricContractFactory(
                capability=capability if i % 2 else other_capability,
                metric_id=f"cc_agent_assist.metric_{i}",
                business_owner=pm,
                category=["outcome", "cost", "risk"][i % 3],
            )
            EvaluationFactory(contract=contract, level="warning")
            SignalFactory(contract=contract)

    org_pm = pm
    client = client_for(org_pm)
    make(3, 0)
    with django_assert_max_num_queries(25) as small:
        assert client.get(LIST).status_code == 200
    make(27, 3)
    with django_assert_max_num_queries(25) as large:
        response = client.get(LIST)
    assert len(response.context["contracts"]) == 15  # the pm sees one capability's half
    assert len(large.captured_queries) == len(small.captured_queries)


# --- detail -------------------------------------------------------------------------------


def test_the_contract_page_reads_like_the_playbook_template(client_for, viewer, active):
    page = client_for(viewer).get(DETAIL).content.decode()
    headings = re.findall(r'<h2 class="h5" id="[a-z-]+">([^<]+)</h2>', page)
    template_headings = [h for h in headings if h in TEMPLATE_SECTIONS]
    assert template_headings == list(TEMPLATE_SECTIONS)  # every section, in the template's order
    for labels in TEMPLATE_SECTIONS.values():
        for label in labels:
            assert f">{label}</dt>" in page, label
    assert f"Metric contract:</span> <code>{METRIC_ID}</code>" in page
    assert "Customers with another contact within 7 days for the same intent" in page
    assert "Voice" in page and "assist.suggestion_shown" in page
    assert "<strong>repeat calls</strong>" in page  # typed text through the markdown filter
    assert "intent, team" in page


def test_the_contract_page_shows_the_trend_chart_from_local_plotly(client_for, pm, active):
    ObservationFactory(contract=active, period_start=datetime.date(2026, 1, 5), value=12.5, sample_size=80)
    page = client_for(pm).get(DETAIL).content.decode()
    assert 'id="contract-trend"' in page and 'id="contract-trend-plot-' in page
    assert "Plotly.newPlot" in page
    assert '/static/vendor/plotly/plotly.min.js"' in page
    assert "cdn.plot.ly" not in page
    assert '<details class="mt-2" id="contract-trend-table">' in page
    assert "2026-01-05</th><td>12.5</td><td>80</td>" in page
    assert "Warning: Sample 50 calls for QA, owner AI PM, due in 14 days" in page


def test_the_chart_controls_cut_by_cohort_and_version_with_href_fallbacks(client_for, pm, active):
    page = client_for(pm).get(DETAIL).content.decode()
    assert 'href="?by=version#contract-chart"' in page
    assert f'hx-get="{DETAIL}?by=version"' in page
    assert 'href="?by=cohort&amp;dimension=intent#contract-chart"' in page


def test_the_htmx_chart_request_returns_only_the_chart(client_for, pm, active):
    ObservationFactory(contract=active, value=12.0, version_set={"prompt": "v11"})
    ObservationFactory(contract=active, value=16.0, version_set={"prompt": "v12"})
    response = client_for(pm).get(DETAIL, {"by": "version"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section class="card mb-3" id="contract-chart"')
    assert "Plotly.newPlot" in body and "prompt=v11" in body and "prompt=v12" in body
    assert "Business question" not in body and "<html" not in body
    assert "HX-Request" in response["Vary"]
    # without htmx the same URL is the whole page with the chart cut by version
    page = client_for(pm).get(DETAIL, {"by": "version"}).content.decode()
    assert "Business question" in page and 'data-by="version"' in page


def test_the_page_shows_latest_evaluations_open_signals_guardrails_and_the_net_flag(
    client_for, pm, capability, active
):
    guardrail = MetricContractFactory(capability=capability, metric_id="cc_agent_assist.complaints")
    EvaluationFactory(contract=guardrail, level="breach")
    active.guardrails.add(guardrail)
    MetricContract.objects.filter(pk=active.pk).update(
        improvement_not_net=True, improvement_not_net_reason="Complaints at breach"
    )
    EvaluationFactory(
        contract=active,
        period_start=datetime.date(2026, 2, 2),
        cut="intent=billing",
        value=15.2,
        level="breach",
    )
    SignalFactory(contract=active, cut="intent=billing", level="breach", observed_value=15.2)
    page = client_for(pm).get(DETAIL).content.decode()
    assert f'href="/contracts/{guardrail.metric_id}/"' in page
    assert 'id="improvement-not-net"' in page and "Complaints at breach" in page
    assert "<td>intent=billing</td><td>15.2%</td>" in page
    assert 'href="/contracts/signals/' in page and "last value 15.2" in page
    assert "Activated" in page  # history


def test_a_viewer_sees_no_edit_activate_or_retire_controls(client_for, viewer, contract):
    page = client_for(viewer).get(DETAIL).content.decode()
    assert EDIT not in page and ACTIVATE not in page and RETIRE not in page


def test_an_outsider_gets_404_on_every_contract_url(client_for, outsider, contract):
    client = client_for(outsider)
    assert client.get(DETAIL).status_code == 404
    assert client.get(EDIT).status_code == 404
    assert client.post(ACTIVATE).status_code == 404
    assert client.post(RETIRE, {"reason": "x"}).status_code == 404
    contract.refresh_from_db()
    assert contract.status == "draft"


@pytest.mark.parametrize("url", [ACTIVATE, RETIRE])
def test_the_move_urls_reject_get(client_for, pm, contract, url):
    assert client_for(pm).get(url).status_code == 405


@pytest.mark.parametrize("url", [ACTIVATE, RETIRE])
def test_a_viewer_cannot_move_a_contract(client_for, viewer, contract, url):
    assert client_for(viewer).post(url, {"reason": "x"}).status_code == 403
    contract.refresh_from_db()
    assert contract.status == "draft"


def test_a_viewer_cannot_open_the_create_or_edit_page(client_for, viewer, contract):
    assert client_for(viewer).get(CREATE).status_code == 403
    assert client_for(viewer).get(EDIT).status_code == 403
    assert client_for(viewer).post(EDIT, edit_data(contract, name="x")).status_code == 403


# --- create, edit, activate, retire --------------------------------------------------------


def test_the_pm_drafts_a_contract_on_the_form(client_for, pm, analyst, capability):
    response = client_for(pm).post(CREATE, form_data(capability, pm, analyst))
    contract = MetricContract.objects.get()
    assert response.status_code == 302 and response["Location"] == DETAIL
    assert contract.cohort_dimensions == ["intent", "team", "agent_tenure"]
    assert contract.required_cuts == ["intent", "team"]
    assert contract.status == "draft"
    assert contract.history.get().history_user == pm


@pytest.mark.parametrize(
    ("direction", "thresholds", "field", "message"),
    [
        (
            "lower",
            {"target": "10", "warning": "16", "breach": "15"},
            "breach",
            "For a lower is better metric, warning ≤ breach must hold",
        ),
        (
            "higher",
            {"target": "80", "warning": "85", "breach": "70"},
            "warning",
            "For a higher is better metric, target ≥ warning must hold",
        ),
    ],
)
def test_the_form_refuses_incoherent_thresholds_beside_the_field(
    client_for, pm, analyst, capability, direction, thresholds, field, message
):
    data = form_data(capability, pm, analyst, direction=direction, **thresholds)
    response = client_for(pm).post(CREATE, data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert message in errors[field][0]
    page = response.content.decode()
    # the message sits in the field's own block, after its input and before the next field
    block = page[page.index(f'id="id_{field}"') :]
    block = block[: block.index('<div class="mb-3">')]
    assert f'<div class="invalid-feedback d-block">{message}' in block
    assert not MetricContract.objects.exists()


def test_the_form_names_undeclared_required_cuts(client_for, pm, analyst, capability):
    data = form_data(capability, pm, analyst, cohort_dimensions="intent", required_cuts="intent, channel")
    response = client_for(pm).post(CREATE, data)
    assert "channel" in response.context["form"].errors["required_cuts"][0]


def test_the_form_offers_only_the_capabilitys_other_contracts_as_guardrails(
    client_for, pm, capability, other_capability, active
):
    same = MetricContractFactory(capability=capability, metric_id="cc_agent_assist.aht")
    MetricContractFactory(capability=other_capability, metric_id="kyc_ai.cycle_time")
    choices = client_for(pm).get(EDIT).context["form"].fields["guardrails"].queryset
    assert list(choices) == [same]
    create_choices = (
        client_for(pm)
        .get(CREATE, {"capability": capability.slug})
        .context["form"]
        .fields["guardrails"]
        .queryset
    )
    assert set(create_choices) == {same, active}


def test_editing_the_definition_of_an_active_contract_logs_a_decision(client_for, pm, active):
    response = client_for(pm).post(
        EDIT, edit_data(active, breach="16", numerator="All repeat contacts"), follow=True
    )
    decision = Decision.objects.get(type="metric_definition_change")
    assert decision.details["before"] == {"numerator": active.numerator, "breach": 15.0}
    assert decision.details["after"] == {"numerator": "All repeat contacts", "breach": 16.0}
    assert decision.readable_id in response.content.decode()  # the message and the history say so


def test_saving_the_edit_form_unchanged_logs_no_decision(client_for, pm, active):
    response = client_for(pm).post(EDIT, edit_data(active))
    assert response.status_code == 302
    assert not Decision.objects.exists()


def test_the_edit_form_refuses_incoherent_thresholds(client_for, pm, active):
    response = client_for(pm).post(EDIT, edit_data(active, warning="9"))
    assert "target ≤ warning must hold" in response.context["form"].errors["warning"][0]
    active.refresh_from_db()
    assert active.warning == 12.0
    assert not Decision.objects.exists()


def test_activation_on_the_page_names_what_is_missing(client_for, pm, capability):
    contract_create(by=pm, **contract_kwargs(capability, warning_action=""))
    response = client_for(pm).post(ACTIVATE, follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert any(m.startswith("Business owner:") for m in messages)
    assert any(m.startswith("Analytics owner:") for m in messages)
    assert any(m.startswith("Action when warning:") for m in messages)
    assert MetricContract.objects.get().status == "draft"


def test_the_pm_activates_and_retires_on_the_page(client_for, pm, contract):
    client = client_for(pm)
    client.post(ACTIVATE)
    contract.refresh_from_db()
    assert contract.status == "active"
    response = client.post(RETIRE, {"reason": ""}, follow=True)
    assert any("Say why" in str(m) for m in response.context["messages"])
    client.post(RETIRE, {"reason": "Replaced by a 14-day window"})
    contract.refresh_from_db()
    assert contract.status == "retired"


# --- signals ------------------------------------------------------------------------------


def test_the_signal_list_shows_open_signals_first_and_filters(client_for, pm, capability, active):
    resolved = SignalFactory(
        contract=active,
        cut="intent=fees",
        opened_period=datetime.date(2026, 3, 2),
        resolved_period=datetime.date(2026, 3, 9),
    )
    opened = SignalFactory(
        contract=active, cut="intent=billing", level="breach", opened_period=datetime.date(2026, 1, 5)
    )
    client = client_for(pm)
    assert [s.pk for s in client.get(SIGNALS).context["signals"]] == [opened.pk, resolved.pk]
    assert [s.pk for s in client.get(SIGNALS, {"open": "false"}).context["signals"]] == [resolved.pk]
    assert [s.pk for s in client.get(SIGNALS, {"level": "breach"}).context["signals"]] == [opened.pk]
    assert [s.pk for s in client.get(SIGNALS, {"capability": capability.slug}).context["signals"]] == [
        opened.pk,
        resolved.pk,
    ]
    rows = client.get(SIGNALS, HTTP_HX_REQUEST="true").content.decode()
    assert "intent=billing" in rows and "<html" not in rows


def test_the_signal_page_shows_the_contract_cut_values_and_hold(client_for, pm, risk, active):
    from contracts.models import StopHold

    signal = SignalFactory(
        contract=active, cut="intent=billing", level="stop", worst_level="stop", observed_value=21.0
    )
    StopHold.objects.create(capability=active.capability, signal=signal, reason="Stop rule fired on billing")
    EvaluationFactory(
        contract=active, cut="intent=billing", period_start=signal.opened_period, value=21.0, level="stop"
    )
    url = f"/contracts/signals/{signal.pk}/"
    page = client_for(pm).get(url).content.decode()
    assert DETAIL in page and "intent=billing" in page and "21" in page
    assert "Stop rule fired on billing" in page
    assert 'id="lift-hold-form"' not in page  # the PM is no risk reviewer


def test_an_outsider_gets_404_on_a_signal(client_for, outsider, active):
    signal = SignalFactory(contract=active)
    assert client_for(outsider).get(f"/contracts/signals/{signal.pk}/").status_code == 404
    assert (
        client_for(outsider).post(f"/contracts/signals/{signal.pk}/lift-hold/", {"comment": "x"}).status_code
        == 404
    )


def test_lifting_a_hold_rejects_get_and_people_without_a_risk_role(client_for, pm, active):
    signal = SignalFactory(contract=active)
    url = f"/contracts/signals/{signal.pk}/lift-hold/"
    assert client_for(pm).get(url).status_code == 405
    assert client_for(pm).post(url, {"comment": "x"}).status_code == 403


def test_a_risk_reviewer_lifts_a_hold_on_the_page(client_for, risk, active):
    from contracts.models import StopHold

    signal = SignalFactory(contract=active, level="stop", worst_level="stop")
    hold = StopHold.objects.create(capability=active.capability, signal=signal, reason="Stop rule fired")
    client = client_for(risk)
    url = f"/contracts/signals/{signal.pk}/lift-hold/"
    assert 'id="lift-hold-form"' in client.get(f"/contracts/signals/{signal.pk}/").content.decode()
    refused = client.post(url, {"comment": ""})
    assert refused.status_code == 200 and refused.context["lift_form"].errors["comment"]
    response = client.post(url, {"comment": "Eval set updated, false-pass sample clean"}, follow=True)
    hold.refresh_from_db()
    assert hold.lifted_by == risk and hold.lift_comment == "Eval set updated, false-pass sample clean"
    page = response.content.decode()
    assert "Lifted by" in page and 'id="lift-hold-form"' not in page


def test_only_risk_sees_and_may_use_the_lift_form(client_for, risk, pm, active):
    from contracts.models import StopHold

    signal = SignalFactory(contract=active, level="stop", worst_level="stop")
    StopHold.objects.create(capability=active.capability, signal=signal, reason="Stop rule fired")
    url = f"/contracts/signals/{signal.pk}/"
    assert 'id="lift-hold-form"' in client_for(risk).get(url).content.decode()
    assert 'id="lift-hold-form"' not in client_for(pm).get(url).content.decode()
    assert client_for(pm).post(f"{url}lift-hold/", {"comment": "x"}).status_code == 403
    assert StopHold.objects.filter(signal=signal, lifted_at__isnull=True).exists()


def test_open_signals_of_one_period_list_the_whole_population_then_the_cuts_by_name(client_for, pm, active):
    for cut in ("team=south", "intent=billing", ""):
        SignalFactory(contract=active, cut=cut, opened_period=datetime.date(2026, 1, 5))
    SignalFactory(contract=active, cut="intent=fees", opened_period=datetime.date(2026, 1, 12))

    html = client_for(pm).get(active.get_absolute_url()).content.decode()
    section = html[html.index('id="signals-heading"') :].split("</section>")[0]
    shown = re.findall(r'<a href="/contracts/signals/\d+/">([^<]+)</a>', section)
    assert shown == ["intent=fees", "whole population", "intent=billing", "team=south"]
