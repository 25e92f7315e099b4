"""The registry's pages: list (filters, htmx rows, CSV, constant queries), the detail page with
its readout answering the six questions of 13.3, create and edit, one POST URL per move."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone

from assumptions.models import AssumptionReview
from decisions.models import Decision
from experiments.choices import MOVE_PATHS, MOVES
from experiments.models import Experiment
from experiments.tests.conftest import HYPOTHESIS, days_ago

pytestmark = pytest.mark.django_db

LIST = reverse("experiments:experiment-list")
CREATE = reverse("experiments:experiment-create")
QUESTIONS = [
    "Did the experiment move the primary metric?",
    "Did guardrails remain within threshold?",
    "Did different cohorts respond differently?",
    "Did cost or capacity change?",
    "Which assumption changed?",
    "What release, backlog or policy decision follows?",
]


def move_url(experiment, move):
    return reverse(f"experiments:experiment-{MOVE_PATHS[move]}", args=[experiment.readable_id])


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def tagged_data(observe, aht, repeat, cost=None):
    for intent, shift in (("billing", -60), ("card", -15)):
        cohort = {"intent": intent, "team": "north"}
        observe(aht, "control", [400, 410, 420, 430], cohort=cohort)
        observe(aht, "treatment", [400 + shift, 405 + shift, 410 + shift, 415 + shift], cohort=cohort)
    observe(repeat, "control", [(10, 100), (11, 100), (12, 100)], cohort={"intent": "billing"})
    observe(repeat, "treatment", [(14, 100), (15, 100), (16, 100)], cohort={"intent": "billing"})
    if cost is not None:
        observe(cost, "control", [(40.0, 100), (42.0, 100), (44.0, 100)])
        observe(cost, "treatment", [(45.0, 100), (47.0, 100), (49.0, 100)])


def make_rows(count, capability, owner, primary):
    """Registry rows written directly, for the list's query count."""
    rows = [
        Experiment(
            capability=capability,
            title=f"Variant {index}",
            hypothesis=HYPOTHESIS,
            population="Billing calls",
            treatment="Short suggestions",
            control_or_baseline="Current suggestions",
            primary_metric=primary,
            start_date=days_ago(20),
            planned_end_date=days_ago(5),
            owner=owner,
        )
        for index in range(count)
    ]
    for row in rows:
        row.save()
    return rows


# --- list ---------------------------------------------------------------------------------


def test_the_list_shows_only_experiments_of_capabilities_the_person_holds_a_role_on(
    client_for, experiment, pm, outsider
):
    assert "Policy-cited suggestions" in client_for(pm).get(LIST).content.decode()
    assert "Policy-cited suggestions" not in client_for(outsider).get(LIST).content.decode()


def test_the_list_filters_by_capability_state_decision_and_search(
    client_for, pm, make_experiment, bring_to, capability
):
    proposed = make_experiment(title="Shorter prompts")
    decided = bring_to(make_experiment(title="Citation panel"), "decided")
    client = client_for(pm)

    def listed(**params):
        return {row.pk for row in client.get(LIST, params).context["experiments"]}

    assert listed() == {proposed.pk, decided.pk}
    assert listed(state="decided") == {decided.pk}
    assert listed(state="proposed") == {proposed.pk}
    assert listed(decision="stop") == {decided.pk}
    assert listed(decision="scale") == set()
    assert listed(q="citation") == {decided.pk}
    assert listed(q=proposed.readable_id) == {proposed.pk}
    assert listed(q="aht_seconds") == {proposed.pk, decided.pk}
    assert listed(capability=capability.slug) == {proposed.pk, decided.pk}


def test_the_list_answers_htmx_with_the_rows_only(client_for, experiment, pm):
    response = client_for(pm).get(LIST, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "Policy-cited suggestions" in body and "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_list_exports_the_registry_as_csv(client_for, pm, make_experiment, bring_to, assumption):
    experiment = make_experiment(tested_assumption=assumption)
    bring_to(experiment, "decided", assumption_status="weakened")
    response = client_for(pm).get(LIST, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    header, row = list(csv.reader(io.StringIO(text)))
    assert header == [
        "Experiment id",
        "Capability",
        "Title",
        "Hypothesis",
        "Population",
        "Treatment",
        "Control or baseline",
        "Primary metric",
        "Guardrails",
        "Start",
        "Planned end",
        "Owner",
        "State",
        "Result",
        "Decision",
        "Decision comment",
        "Tested assumption",
    ]
    assert row[:4] == ["EXP-001", "Contact-centre agent assist", "Policy-cited suggestions", HYPOTHESIS]
    assert row[7:9] == ["cc_agent_assist.aht_seconds", "cc_agent_assist.repeat_contact_7d"]
    assert row[12] == "Decided" and row[13] == experiment.result and row[13].startswith("Readout ")
    assert row[14:] == ["Stop", "Not worth it.", assumption.readable_id]


def test_the_list_query_count_does_not_grow_with_ten_times_the_data(
    client_for, pm, capability, aht, django_assert_max_num_queries
):
    client = client_for(pm)
    make_rows(3, capability, pm, aht)
    with django_assert_max_num_queries(20) as small:
        assert client.get(LIST).status_code == 200
    make_rows(27, capability, pm, aht)
    with django_assert_max_num_queries(20) as large:
        response = client.get(LIST)
    assert len(response.context["experiments"]) == 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_csv_query_count_does_not_grow_with_ten_times_the_data(
    client_for, pm, capability, aht, django_assert_max_num_queries
):
    client = client_for(pm)
    make_rows(3, capability, pm, aht)
    with django_assert_max_num_queries(20) as small:
        b"".join(client.get(LIST, {"format": "csv"}).streaming_content)
    make_rows(27, capability, pm, aht)
    with django_assert_max_num_queries(20) as large:
        body = b"".join(client.get(LIST, {"format": "csv"}).streaming_content)
    assert body.decode("utf-8-sig").count("Variant") == 30
    assert len(large.captured_queries) == len(small.captured_queries)


# --- detail and readout -------------------------------------------------------------------


def test_the_readout_answers_the_six_questions_in_order_with_the_figures(
    client_for, pm, make_experiment, assumption, bring_to, observe, aht, repeat, cost
):
    experiment = make_experiment(tested_assumption=assumption)
    tagged_data(observe, aht, repeat, cost)
    bring_to(experiment, "readout")
    page = client_for(pm).get(experiment.get_absolute_url()).content.decode()

    positions = [page.index(question) for question in QUESTIONS]
    assert positions == sorted(positions)
    # 1. primary: both intents' rows, control 415 s against 370 s.
    assert "Yes, for the better." in page
    assert "415 seconds" in page and "370 seconds" in page and "−45.0 seconds" in page
    # 2. the guardrail worsened past its warning in the treatment arm.
    assert 'data-guardrail="cc_agent_assist.repeat_contact_7d" data-status="worse_past_warning"' in page
    assert "Worse, past warning" in page and "+4.00 pp" in page
    # 3. cohorts: billing moved 67.5 s, card 22.5 s: intervals apart.
    assert 'data-cohort="intent=billing"' in page and 'data-cohort="intent=card"' in page
    assert "−67.5 seconds" in page and "−22.5 seconds" in page
    assert "responded differently" in page
    assert "/static/vendor/plotly/plotly.min.js" in page and "experiment-effects" in page
    # 4. cost per assisted call rose 5p.
    assert 'data-cost="cc_agent_assist.cost_per_assisted_call"' in page and "+0.05 GBP per call" in page
    # 5. and 6. before the decision.
    assert assumption.readable_id in page and "confirms, weakens or invalidates" in page
    assert "Not decided yet" in page


def test_a_thin_readout_says_so_instead_of_printing_a_number(
    client_for, pm, experiment, bring_to, observe, aht
):
    observe(aht, "control", [400, 410])
    observe(aht, "treatment", [380, 385])
    bring_to(experiment, "readout")
    page = client_for(pm).get(experiment.get_absolute_url()).content.decode()
    assert "Too little data to say." in page
    assert "Too few observations: 2 in control and 2 in treatment; at least 3 each." in page
    assert "data-difference" not in page
    assert "405 seconds" not in page and "382 seconds" not in page  # neither arm's mean


def test_after_the_decision_the_page_shows_the_frozen_readout_and_what_followed(
    client_for, pm, make_experiment, assumption, bring_to, observe, aht, repeat
):
    experiment = make_experiment(tested_assumption=assumption)
    tagged_data(observe, aht, repeat)
    bring_to(
        experiment,
        "decided",
        decision="redesign",
        comment="Repeat contact **rose**.",
        assumption_status="weakened",
    )
    observe(
        aht,
        "treatment",
        [100, 100, 100],
        first_day=days_ago(11),
        cohort={"intent": "billing", "team": "south"},
    )
    page = client_for(pm).get(experiment.get_absolute_url()).content.decode()
    assert 'id="readout-frozen"' in page and "−45.0 seconds" in page
    assert "Reviewed from <strong>Needs evidence</strong> to <strong>Weakened</strong>" in page
    decision = Decision.objects.get()
    assert decision.readable_id in page and decision.get_absolute_url() in page
    assert "Repeat contact <strong>rose</strong>." in page
    assert "Edit details" not in page


def test_a_proposed_experiment_has_no_readout_yet(client_for, pm, experiment):
    page = client_for(pm).get(experiment.get_absolute_url()).content.decode()
    assert "The readout starts when the experiment runs" in page
    assert "Start the experiment" in page


def test_the_detail_page_offers_only_the_moves_the_person_may_make(
    client_for, experiment, pm, analyst, viewer, bring_to
):
    bring_to(experiment, "readout")

    def moves(user):
        return [
            entry["move"] for entry in client_for(user).get(experiment.get_absolute_url()).context["moves"]
        ]

    assert moves(pm) == ["extend", "decide"]
    assert moves(analyst) == ["extend"]
    assert moves(viewer) == []


# --- moves --------------------------------------------------------------------------------


@pytest.mark.parametrize("move", list(MOVES))
def test_every_move_url_rejects_get(client_for, experiment, pm, move):
    assert client_for(pm).get(move_url(experiment, move)).status_code == 405


@pytest.mark.parametrize("move", list(MOVES))
def test_a_viewer_cannot_make_any_move(client_for, experiment, viewer, move):
    response = client_for(viewer).post(move_url(experiment, move), {"decision": "stop", "comment": "x"})
    assert response.status_code == 403
    experiment.refresh_from_db()
    assert experiment.state == "proposed"


def test_an_outsider_gets_404_on_every_experiment_url(client_for, experiment, outsider):
    client = client_for(outsider)
    assert client.get(experiment.get_absolute_url()).status_code == 404
    assert (
        client.get(reverse("experiments:experiment-edit", args=[experiment.readable_id])).status_code == 404
    )
    for move in MOVES:
        assert (
            client.post(move_url(experiment, move), {"decision": "stop", "comment": "x"}).status_code == 404
        )
    experiment.refresh_from_db()
    assert experiment.state == "proposed"


def test_the_pm_starts_and_reads_out_on_the_page(client_for, experiment, pm):
    client = client_for(pm)
    response = client.post(move_url(experiment, "start"), follow=True)
    assert "EXP-001 is running." in messages_of(response)
    response = client.post(move_url(experiment, "begin_readout"), follow=True)
    assert "EXP-001: the readout has begun." in messages_of(response)
    experiment.refresh_from_db()
    assert experiment.state == "readout"


def test_an_illegal_move_shows_a_message_not_a_server_error(client_for, experiment, pm):
    response = client_for(pm).post(
        move_url(experiment, "decide"), {"decision": "stop", "comment": "x"}, follow=True
    )
    assert response.status_code == 200
    assert any("not possible while the experiment is in proposed" in m for m in messages_of(response))
    response = client_for(pm).post(move_url(experiment, "begin_readout"), follow=True)
    assert any("not possible while the experiment is in proposed" in m for m in messages_of(response))
    experiment.refresh_from_db()
    assert experiment.state == "proposed"


def test_deciding_on_the_page_logs_the_decision_and_reviews_the_assumption(
    client_for, pm, make_experiment, assumption, bring_to, observe, aht, repeat
):
    experiment = bring_to(make_experiment(tested_assumption=assumption), "running")
    tagged_data(observe, aht, repeat)
    client = client_for(pm)
    client.post(move_url(experiment, "begin_readout"))
    response = client.post(
        move_url(experiment, "decide"),
        {
            "decision": "redesign",
            "comment": "Repeat contact rose in billing.",
            "assumption_status": "weakened",
        },
        follow=True,
    )
    assert "EXP-001: the decision is recorded in the decision log." in messages_of(response)
    assert Decision.objects.get().type == "redesign"
    assert AssumptionReview.objects.get().new_status == "weakened"


def test_the_decide_form_names_a_missing_assumption_status(
    client_for, pm, make_experiment, assumption, bring_to
):
    experiment = bring_to(make_experiment(tested_assumption=assumption), "readout")
    response = client_for(pm).post(
        move_url(experiment, "decide"), {"decision": "stop", "comment": "No effect"}
    )
    assert response.status_code == 200
    form = next(entry["form"] for entry in response.context["moves"] if entry["move"] == "decide")
    assert form.errors["assumption_status"]
    assert not Decision.objects.exists()


def test_scale_on_thin_data_is_refused_on_the_decide_form(client_for, pm, experiment, bring_to):
    bring_to(experiment, "readout")
    response = client_for(pm).post(move_url(experiment, "decide"), {"decision": "scale", "comment": "Ship"})
    form = next(entry["form"] for entry in response.context["moves"] if entry["move"] == "decide")
    assert "Scaling needs a readout with enough data" in form.errors["decision"][0]
    assert not Decision.objects.exists()


# --- create and edit ----------------------------------------------------------------------


def form_data(capability, owner, **overrides):
    data = {
        "capability": capability.slug,
        "title": "Policy-cited suggestions",
        "hypothesis": HYPOTHESIS,
        "population": "Billing calls",
        "treatment": "Short suggestions with citations",
        "control_or_baseline": "Current suggestions",
        "primary_metric": "cc_agent_assist.aht_seconds",
        "guardrails": ["cc_agent_assist.repeat_contact_7d"],
        "start_date": timezone.localdate().isoformat(),
        "planned_end_date": (timezone.localdate() + datetime.timedelta(days=28)).isoformat(),
        "owner": owner.pk,
        "arm_key": "arm",
        "treatment_value": "treatment",
        "control_value": "control",
        "tested_assumption": "",
    }
    data.update(overrides)
    return data


def test_creating_asks_for_the_capability_first(client_for, pm, capability, other_capability):
    response = client_for(pm).get(CREATE, {"capability": ""})
    assert list(response.context["pick"].fields["capability"].queryset) == [capability]


def test_the_form_offers_only_the_capabilitys_active_contracts_and_live_assumptions(
    client_for, pm, capability, other_capability, aht, repeat, assumption
):
    from assumptions.tests.factories import AssumptionFactory
    from contracts.tests.factories import MetricContractFactory

    MetricContractFactory(capability=other_capability, status="active", metric_id="kyc_ai.rework_rate")
    MetricContractFactory(capability=capability, status="draft", metric_id="cc_agent_assist.draft_metric")
    AssumptionFactory(capability=capability, status="invalidated")
    form = client_for(pm).get(CREATE, {"capability": capability.slug}).context["form"]
    assert set(form.fields["primary_metric"].queryset) == {aht, repeat}
    assert set(form.fields["guardrails"].queryset) == {aht, repeat}
    assert list(form.fields["tested_assumption"].queryset) == [assumption]


def test_the_pm_registers_an_experiment(client_for, pm, capability, aht, repeat, assumption):
    data = form_data(capability, pm, tested_assumption=assumption.readable_id)
    response = client_for(pm).post(CREATE, data)
    experiment = Experiment.objects.get()
    assert response["Location"] == experiment.get_absolute_url()
    assert experiment.primary_metric == aht and list(experiment.guardrails.all()) == [repeat]
    assert experiment.tested_assumption == assumption and experiment.owner == pm


def test_another_capabilitys_contract_is_refused_on_the_form(
    client_for, pm, capability, other_capability, aht
):
    from contracts.tests.factories import MetricContractFactory

    MetricContractFactory(capability=other_capability, status="active", metric_id="kyc_ai.rework_rate")
    response = client_for(pm).post(
        CREATE, form_data(capability, pm, primary_metric="kyc_ai.rework_rate", guardrails=[])
    )
    assert response.context["form"].errors["primary_metric"]
    assert not Experiment.objects.exists()


def test_a_viewer_cannot_open_the_create_page(client_for, viewer, capability):
    assert client_for(viewer).get(CREATE).status_code == 403


def test_editing_a_running_experiment_keeps_what_it_measures_fixed(
    client_for, pm, experiment, capability, bring_to
):
    bring_to(experiment, "running")
    later = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    data = form_data(
        capability,
        pm,
        planned_end_date=later,
        primary_metric="cc_agent_assist.repeat_contact_7d",
        guardrails=[],
    )
    data["start_date"] = experiment.start_date.isoformat()
    response = client_for(pm).post(
        reverse("experiments:experiment-edit", args=[experiment.readable_id]), data
    )
    assert response.status_code == 302
    experiment.refresh_from_db()
    assert experiment.planned_end_date.isoformat() == later
    assert experiment.primary_metric.metric_id == "cc_agent_assist.aht_seconds"  # disabled field: unchanged
    assert list(experiment.guardrails.all()) == []
    assert experiment.history.latest().history_change_reason.startswith("Details edited")


def test_a_viewer_cannot_edit(client_for, viewer, experiment):
    assert (
        client_for(viewer)
        .get(reverse("experiments:experiment-edit", args=[experiment.readable_id]))
        .status_code
        == 403
    )


def test_the_navigation_links_the_registry(client_for, pm):
    page = client_for(pm).get(LIST).content.decode()
    assert f'href="{LIST}" aria-current="page">Experiments<' in page
