"""The register's pages: list, detail, create, edit, one POST URL per move, evidence files."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from actions.choices import MOVES
from actions.models import Action, ClosureEvidence
from actions.tests.conftest import ACTION_TEXT, CRITERION
from actions.tests.factories import ActionFactory
from productops.models import Notification

pytestmark = pytest.mark.django_db

LIST = reverse("actions:action-list")
MOVE_NAMES = [*MOVES, "escalate"]


def move_url(action, move):
    return reverse(f"actions:action-{move.replace('_', '-')}", args=[action.readable_id])


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def form_data(capability, owner, reviewer, **overrides):
    data = {
        "capability": capability.slug,
        "action": ACTION_TEXT,
        "source_kind": "signal",
        "source_signal": "Repeat contact up 8% in billing calls",
        "owner": owner.pk,
        "reviewer": reviewer.pk,
        "due_date": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "closure_criterion": CRITERION,
        "trigger_kind": "",
    }
    data.update(overrides)
    return data


# --- list ---------------------------------------------------------------------------------


def test_the_list_shows_only_actions_of_capabilities_the_person_holds_a_role_on(
    client_for, action, outsider, other_capability, make_person
):
    other_owner = make_person("ops", other_capability)
    ActionFactory(capability=other_capability, owner=other_owner, action="KYC false pass sample")
    page = client_for(action.owner).get(LIST).content.decode()
    assert ACTION_TEXT in page and "KYC false pass sample" not in page
    page = client_for(outsider).get(LIST).content.decode()
    assert ACTION_TEXT not in page and "KYC false pass sample" in page


def test_the_list_filters_by_status_owner_overdue_and_search(client_for, pm, capability, owner, colleague):
    overdue = ActionFactory(
        capability=capability,
        owner=owner,
        action="Overdue QA sample",
        due_date=timezone.localdate() - datetime.timedelta(days=2),
    )
    blocked = ActionFactory(
        capability=capability,
        owner=colleague,
        action="Blocked taxonomy split",
        status="blocked",
        blocked_reason="x",
    )
    client = client_for(pm)

    def listed(**params):
        return {a.pk for a in client.get(LIST, params).context["actions"]}

    assert listed(status="blocked") == {blocked.pk}
    assert listed(owner=owner.username) == {overdue.pk}
    assert listed(overdue="true") == {overdue.pk}
    assert listed(q="taxonomy") == {blocked.pk}
    assert listed(capability=capability.slug) == {overdue.pk, blocked.pk}
    assert listed(view="overdue") == {overdue.pk}
    assert listed(view="blocked") == {blocked.pk}


def test_the_list_shows_the_summary_strip_of_the_derived_views(client_for, pm, capability, owner):
    ActionFactory(
        capability=capability, owner=owner, due_date=timezone.localdate() - datetime.timedelta(days=1)
    )
    ActionFactory(capability=capability, owner=owner, status="blocked", blocked_reason="x")
    response = client_for(pm).get(LIST)
    assert response.context["summary"]["overdue"] == 1
    assert response.context["summary"]["blocked"] == 1
    body = response.content.decode()
    assert 'data-count="overdue">1<' in body
    assert 'data-count="blocked">1<' in body
    assert "Open by age" in body


def test_the_list_answers_htmx_with_the_rows_only(client_for, action):
    response = client_for(action.owner).get(LIST, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert ACTION_TEXT in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_list_exports_the_register_as_csv(client_for, pm, action, bring_to):
    bring_to(action, "closed")
    response = client_for(pm).get(LIST, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == (
        "Action id,Capability,Source,Source signal,Action,Owner,Due date,Closure criterion,"
        "Closure evidence,Reviewer,Status,Overdue,Reopen trigger"
    )
    assert lines[1].startswith("ACT-0001,Contact-centre agent assist,Threshold signal,")
    assert ACTION_TEXT in lines[1]
    assert "QA sample of 50 calls: defect class at 2.1%." in lines[1]
    assert lines[1].endswith(",Closed,,")
    assert len(lines) == 2


def test_the_csv_export_follows_the_filters(client_for, pm, action, capability, owner):
    ActionFactory(
        capability=capability, owner=owner, action="Blocked one", status="blocked", blocked_reason="x"
    )
    body = b"".join(client_for(pm).get(LIST, {"format": "csv", "status": "blocked"}).streaming_content)
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "Blocked one" in lines[1]


def test_the_list_query_count_does_not_grow_with_ten_times_the_data(
    client_for, pm, capability, owner, django_assert_max_num_queries
):
    client = client_for(pm)
    ActionFactory.create_batch(3, capability=capability, owner=owner)
    with django_assert_max_num_queries(20) as small:
        assert client.get(LIST).status_code == 200
    ActionFactory.create_batch(30, capability=capability, owner=owner, status="in_progress")
    with django_assert_max_num_queries(20) as large:
        response = client.get(LIST)
    assert len(response.context["actions"]) == 33
    assert len(large.captured_queries) == len(small.captured_queries)


# --- detail -------------------------------------------------------------------------------


def test_the_detail_page_shows_the_action_its_evidence_trigger_and_history(
    client_for, make_action, bring_to, pm
):
    action = make_action(
        closure_criterion="QA sample shows **defect class** below warning",
        reopen_trigger={
            "kind": "contract_level",
            "contract_metric_id": "cc_agent_assist.repeat_contact_7d",
            "comparison": "at_or_above",
            "level": "0.15",
            "periods": 2,
        },
    )
    bring_to(action, "reopened")
    page = client_for(pm).get(action.get_absolute_url()).content.decode()
    assert "<strong>defect class</strong>" in page  # closure criterion rendered as Markdown
    assert "QA sample of 50 calls: defect class at 2.1%." in page
    assert "Accepted" in page
    assert (
        "cc_agent_assist.repeat_contact_7d at or above 0.15 for 2 consecutive periods after closure" in page
    )
    assert "Repeat contact back above threshold" in page  # the reopen reason
    assert "Closure verified" in page and "Action raised" in page  # history


def test_typed_text_is_rendered_without_scripts(client_for, make_action, pm):
    action = make_action(closure_criterion="<script>alert(1)</script> QA sample")
    page = client_for(pm).get(action.get_absolute_url()).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "QA sample" in page


def test_the_detail_page_offers_only_the_moves_the_person_may_make(
    client_for, action, owner, reviewer, viewer, bring_to
):
    bring_to(action, "awaiting_verification")

    def moves(user):
        return [entry["move"] for entry in client_for(user).get(action.get_absolute_url()).context["moves"]]

    assert moves(viewer) == []
    assert "verify" not in moves(owner)
    assert moves(reviewer) == ["verify", "send_back", "escalate"]


def test_an_outsider_gets_404_on_every_action_url(client_for, action, outsider):
    client = client_for(outsider)
    assert client.get(action.get_absolute_url()).status_code == 404
    assert client.get(reverse("actions:action-edit", args=[action.readable_id])).status_code == 404
    for move in MOVE_NAMES:
        assert client.post(move_url(action, move), {"reason": "x", "text": "x"}).status_code == 404
    action.refresh_from_db()
    assert action.status == "open"


# --- moves --------------------------------------------------------------------------------


@pytest.mark.parametrize("move", MOVE_NAMES)
def test_every_move_url_rejects_get(client_for, action, pm, move):
    assert client_for(pm).get(move_url(action, move)).status_code == 405


@pytest.mark.parametrize("move", MOVE_NAMES)
def test_a_viewer_cannot_make_any_move(client_for, action, viewer, move):
    response = client_for(viewer).post(move_url(action, move), {"reason": "x", "text": "x", "comment": "x"})
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == "open"
    assert action.history.count() == 1


def test_the_owner_submits_evidence_with_a_file_and_the_reviewer_verifies(
    client_for, action, owner, reviewer, viewer
):
    client = client_for(owner)
    upload = SimpleUploadedFile("qa-sample.csv", b"case,defect\n1,0\n", content_type="text/csv")
    response = client.post(
        move_url(action, "submit_evidence"),
        {
            "text": "QA sample of 50 calls: defects at 2.1%",
            "link": "https://qa.example/sample/42",
            "file": upload,
        },
        follow=True,
    )
    assert "closure evidence submitted" in " ".join(messages_of(response))
    action.refresh_from_db()
    assert action.status == "awaiting_verification"
    evidence = action.evidence.get()
    assert evidence.link == "https://qa.example/sample/42"

    response = client_for(reviewer).post(
        move_url(action, "verify"), {"comment": "Representative"}, follow=True
    )
    assert "the action is closed" in " ".join(messages_of(response))
    action.refresh_from_db()
    assert action.status == "closed"
    assert action.history.latest().history_user == reviewer
    assert "Closed" in response.content.decode()

    # The file is served only through the access-checked view.
    download = client_for(viewer).get(evidence.get_file_url())
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"case,defect\n1,0\n"
    assert "attachment" in download["Content-Disposition"]


def test_an_evidence_file_is_not_served_to_an_outsider(client_for, action, owner, outsider):
    action.submit_evidence(by=owner, text="Sample", file=SimpleUploadedFile("qa.csv", b"a,b\n"))
    evidence = action.evidence.get()
    assert client_for(outsider).get(evidence.get_file_url()).status_code == 404


def test_a_wrong_evidence_file_is_refused_on_the_form_naming_the_field(client_for, action, owner):
    response = client_for(owner).post(
        move_url(action, "submit_evidence"),
        {"text": "Sample", "file": SimpleUploadedFile("payload.exe", b"MZ")},
    )
    assert response.status_code == 200
    form = next(entry["form"] for entry in response.context["moves"] if entry["move"] == "submit_evidence")
    assert "must be one of" in form.errors["file"][0]
    assert "must be one of" in response.content.decode()
    assert not ClosureEvidence.objects.exists()


def test_the_owner_cannot_verify_their_own_action_on_the_page(
    client_for, make_action, pm, reviewer, bring_to
):
    action = bring_to(make_action(owner=pm, reviewer=reviewer), "awaiting_verification")
    response = client_for(pm).post(move_url(action, "verify"), {"comment": ""}, follow=True)
    assert response.status_code == 200
    assert any("not the owner" in message for message in messages_of(response))
    action.refresh_from_db()
    assert action.status == "awaiting_verification"


def test_an_illegal_move_shows_a_message_not_a_server_error(client_for, action, pm, reviewer):
    response = client_for(reviewer).post(move_url(action, "verify"), {"comment": ""}, follow=True)
    assert response.status_code == 200
    assert any(
        "closes only when the owner has submitted closure evidence" in m for m in messages_of(response)
    )
    response = client_for(pm).post(move_url(action, "unblock"), follow=True)
    assert any("not possible while the action is open" in m for m in messages_of(response))
    action.refresh_from_db()
    assert action.status == "open"


def test_a_move_without_its_required_input_shows_the_field_error(client_for, action, owner):
    response = client_for(owner).post(move_url(action, "block"), {"reason": ""})
    assert response.status_code == 200
    form = next(entry["form"] for entry in response.context["moves"] if entry["move"] == "block")
    assert form.errors["reason"]
    action.refresh_from_db()
    assert action.status == "open"


def test_reopening_on_the_page_keeps_the_earlier_evidence(client_for, action, pm, bring_to):
    bring_to(action, "closed")
    response = client_for(pm).post(
        move_url(action, "reopen"), {"reason": "Repeat contact back at 16%"}, follow=True
    )
    action.refresh_from_db()
    assert action.status == "reopened"
    page = response.content.decode()
    assert "Repeat contact back at 16%" in page
    assert "QA sample of 50 calls: defect class at 2.1%." in page


# --- create and edit ----------------------------------------------------------------------


@pytest.mark.parametrize("missing", ["owner", "due_date", "closure_criterion"])
def test_creating_without_owner_due_date_or_closure_criterion_names_the_field(
    client_for, pm, capability, owner, reviewer, missing
):
    data = form_data(capability, owner, reviewer)
    data[missing] = ""
    response = client_for(pm).post(reverse("actions:action-create"), data)
    assert response.status_code == 200
    assert response.context["form"].errors[missing]
    assert not Action.objects.exists()


def test_creating_with_the_owner_as_reviewer_is_refused(client_for, pm, capability, owner):
    response = client_for(pm).post(reverse("actions:action-create"), form_data(capability, owner, owner))
    assert "someone other than the owner" in response.context["form"].errors["reviewer"][0]
    assert not Action.objects.exists()


def test_the_pm_raises_an_action_with_a_reopen_trigger(client_for, pm, capability, owner, reviewer):
    data = form_data(
        capability,
        owner,
        reviewer,
        trigger_kind="contract_level",
        contract_metric_id="cc_agent_assist.repeat_contact_7d",
        comparison="at_or_above",
        level="0.15",
        periods="2",
    )
    response = client_for(pm).post(reverse("actions:action-create"), data)
    action = Action.objects.get()
    assert response["Location"] == action.get_absolute_url()
    assert action.reopen_trigger.periods == 2
    assert Notification.objects.filter(recipient=owner).exists()


def test_an_incomplete_reopen_trigger_names_the_field_on_the_form(
    client_for, pm, capability, owner, reviewer
):
    data = form_data(capability, owner, reviewer, trigger_kind="recheck_date")
    response = client_for(pm).post(reverse("actions:action-create"), data)
    assert response.context["form"].errors["recheck_on"]
    assert not Action.objects.exists()


def test_a_viewer_cannot_open_the_create_page(client_for, viewer, capability):
    assert client_for(viewer).get(reverse("actions:action-create")).status_code == 403


def test_the_create_form_offers_only_capabilities_the_person_may_change(
    client_for, pm, capability, other_capability
):
    choices = (
        client_for(pm).get(reverse("actions:action-create")).context["form"].fields["capability"].queryset
    )
    assert list(choices) == [capability]


def test_editing_cannot_empty_the_closure_criterion(client_for, action, pm, owner, reviewer, capability):
    data = form_data(capability, owner, reviewer, closure_criterion="")
    response = client_for(pm).post(reverse("actions:action-edit", args=[action.readable_id]), data)
    assert response.context["form"].errors["closure_criterion"]
    action.refresh_from_db()
    assert action.closure_criterion == CRITERION


def test_editing_changes_the_details_and_history_says_so(client_for, action, pm, owner, reviewer, capability):
    data = form_data(capability, owner, reviewer, action="Sample 100 edited suggestions")
    response = client_for(pm).post(reverse("actions:action-edit", args=[action.readable_id]), data)
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.action == "Sample 100 edited suggestions"
    assert action.history.latest().history_change_reason == "Details edited"


def test_a_viewer_cannot_edit(client_for, action, viewer, owner, reviewer, capability):
    response = client_for(viewer).post(
        reverse("actions:action-edit", args=[action.readable_id]), form_data(capability, owner, reviewer)
    )
    assert response.status_code == 403


# --- header -------------------------------------------------------------------------------


def test_the_header_shows_the_persons_open_and_overdue_actions(client_for, capability, owner, pm):
    ActionFactory.create_batch(2, capability=capability, owner=owner)
    ActionFactory(
        capability=capability, owner=owner, due_date=timezone.localdate() - datetime.timedelta(days=3)
    )
    ActionFactory(capability=capability, owner=owner, status="closed")
    ActionFactory(capability=capability, owner=pm)
    page = client_for(owner).get(reverse("home")).content.decode()
    assert "3 open actions</a>" in page
    assert "1 overdue</a>" in page
    assert f'href="{LIST}?view=mine"' in page


def test_the_header_count_costs_one_query(client_for, capability, owner, django_assert_num_queries):
    client = client_for(owner)
    ActionFactory(capability=capability, owner=owner)
    client.get(reverse("home"))  # warm the session
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("home"))
    header_queries = [q for q in queries.captured_queries if "actions_action" in q["sql"]]
    assert len(header_queries) == 1


@pytest.mark.parametrize(
    "params",
    [{"owner": "nobody"}, {"view": "bogus"}, {"page": "999"}, {"sort": "bogus"}, {"capability": "nope"}],
)
def test_odd_list_parameters_never_break_the_page(client_for, pm, action, params):
    assert client_for(pm).get(LIST, params).status_code == 200


def test_a_missing_action_is_a_404(client_for, pm):
    assert client_for(pm).get(reverse("actions:action-detail", args=["ACT-9999"])).status_code == 404
