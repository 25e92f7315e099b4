"""The release calendar's pages: list, month, queue, detail, forms, one POST URL per move,
evidence attestation, the impact review page."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from contracts.models import StopHold
from contracts.tests.factories import MetricContractFactory, SignalFactory
from releases.choices import MOVES
from releases.models import Release
from releases.tests.conftest import CHANGE

pytestmark = pytest.mark.django_db

LIST = reverse("releases:release-list")
MOVE_NAMES = [move for move in MOVES if move != "record_impact_review"]


def move_url(release, move):
    return reverse(f"releases:release-{move.replace('_', '-')}", args=[release.readable_id])


def messages_of(response):
    return [str(message) for message in response.context["messages"]]


def form_data(capability, owner, **overrides):
    today = timezone.localdate()
    data = {
        "capability": capability.slug,
        "object_type": "tool",
        "change": "CRM fee-waiver write action",
        "version_from": "",
        "version_to": "crm-write-v1",
        "planned_date": (today + datetime.timedelta(days=10)).isoformat(),
        "affected_population": "Fee disputes at two sites",
        "risk_tier": "",
        "owner": owner.pk,
        "canary_plan": "Two sites",
        "rollback_plan": "Revoke the write scope",
        "post_release_review_date": (today + datetime.timedelta(days=40)).isoformat(),
    }
    data.update(overrides)
    return data


# --- list, month, queue -----------------------------------------------------------------------


def test_the_list_shows_only_releases_of_capabilities_the_person_holds_a_role_on(
    client_for, make_release, pm, outsider, other_capability, make_person
):
    make_release()
    kyc_architect = make_person("ai_architect", other_capability, username="kyc-architect")
    make_release(
        capability=other_capability, by=kyc_architect, owner=kyc_architect, change="KYC parser upgrade"
    )
    page = client_for(pm).get(LIST).content.decode()
    assert CHANGE in page and "KYC parser upgrade" not in page
    page = client_for(outsider).get(LIST).content.decode()
    assert CHANGE not in page and "KYC parser upgrade" in page


def test_the_list_filters_by_capability_object_type_risk_tier_and_state(
    client_for, make_release, pm, submitted
):
    make_release(object_type="knowledge", change="Fee article v7", version_from="kb-6", version_to="kb-7")
    submitted(change="High-risk prompt", risk_tier="high")
    client = client_for(pm)
    for params, expected in [
        ({"object_type": "knowledge"}, ["Fee article v7"]),
        ({"risk_tier": "high"}, ["High-risk prompt"]),
        ({"state": "submitted"}, ["High-risk prompt"]),
        ({"capability": "cc-agent-assist", "object_type": "prompt"}, ["High-risk prompt"]),
    ]:
        shown = [release.change for release in client.get(LIST, params).context["releases"]]
        assert shown == expected, params


def test_the_csv_export_follows_the_filters(client_for, make_release, pm):
    make_release()
    make_release(object_type="knowledge", change="Fee article v7", version_from="kb-6", version_to="kb-7")
    body = b"".join(client_for(pm).get(LIST, {"format": "csv", "object_type": "knowledge"}).streaming_content)
    lines = body.decode("utf-8-sig").splitlines()
    assert len(lines) == 2 and "Fee article v7" in lines[1] and "kb-6" in lines[1]


def test_the_list_query_count_does_not_grow_with_ten_times_the_data(
    client_for, make_release, pm, django_assert_max_num_queries
):
    client = client_for(pm)
    for n in range(3):
        make_release(change=f"Prompt change {n}")
    with django_assert_max_num_queries(20) as small:
        assert client.get(LIST).status_code == 200
    for n in range(27):
        make_release(
            change=f"Other change {n}", object_type="model", version_from="m-1", version_to=f"m-{n + 2}"
        )
    with django_assert_max_num_queries(20) as large:
        response = client.get(LIST)
    assert len(response.context["releases"]) == 30
    assert len(large.captured_queries) == len(small.captured_queries)


def test_the_month_view_places_releases_and_review_dates_and_links_the_months(client_for, make_release, pm):
    release = make_release(
        planned_date=datetime.date(2026, 11, 12), post_release_review_date=datetime.date(2026, 12, 10)
    )
    response = client_for(pm).get(reverse("releases:release-calendar"), {"month": "2026-11"})
    page = response.content.decode()
    assert response.context["month_label"] == "November 2026"
    cells = {cell["day"]: cell["entries"] for week in response.context["weeks"] for cell in week}
    assert [(e["kind"], e["release"].pk) for e in cells[datetime.date(2026, 11, 12)]] == [
        ("planned", release.pk)
    ]
    assert "month=2026-10" in page and "month=2026-12" in page
    december = client_for(pm).get(reverse("releases:release-calendar"), {"month": "2026-12"})
    cells = {cell["day"]: cell["entries"] for week in december.context["weeks"] for cell in week}
    assert [e["kind"] for e in cells[datetime.date(2026, 12, 10)]] == ["review"]


def test_the_queue_shows_what_waits_for_the_person_and_never_their_own(
    client_for, submitted, released, risk_partner, architect, pm
):
    waiting = submitted()
    due = released(on=timezone.localdate() - datetime.timedelta(days=40))
    Release.objects.filter(pk=due.pk).update(
        post_release_review_date=timezone.localdate() - datetime.timedelta(days=2)
    )
    response = client_for(risk_partner).get(reverse("releases:release-queue"))
    assert [r.readable_id for r in response.context["pending"]] == [waiting.readable_id]
    assert [r.readable_id for r in response.context["reviews_due"]] == [due.readable_id]
    assert client_for(architect).get(reverse("releases:release-queue")).context["pending"] == []
    waiting.approve(by=pm, comment="Fine")
    assert client_for(risk_partner).get(reverse("releases:release-queue")).context["pending"] == []


def test_the_queue_says_a_tool_change_waits_for_its_second_approver(client_for, submitted, pm, risk_partner):
    release = submitted(object_type="tool", version_from="", version_to="t-1")
    release.approve(by=pm, comment="First")
    page = client_for(risk_partner).get(reverse("releases:release-queue")).content.decode()
    assert release.readable_id in page and "waiting for second approver" in page


# --- detail -----------------------------------------------------------------------------------


def test_the_detail_page_shows_the_release_its_evidence_approvals_and_history(client_for, submitted, pm):
    release = submitted()
    page = client_for(pm).get(release.get_absolute_url()).content.decode()
    assert release.readable_id in page and "v11 → v12" in page
    assert "Regression eval" in page and "attested" in page
    assert "Submitted for approval" in page  # history


def test_the_detail_page_shows_the_stop_hold_and_links_the_signal(client_for, submitted, capability, pm):
    release = submitted()
    signal = SignalFactory(contract=MetricContractFactory(capability=capability), level="stop")
    StopHold.objects.create(capability=capability, signal=signal, reason="Stop rule fired: false passes")
    page = client_for(pm).get(release.get_absolute_url()).content.decode()
    assert 'id="stop-hold"' in page and "Stop rule fired: false passes" in page
    assert signal.get_absolute_url() in page


def test_an_outsider_gets_404(client_for, make_release, outsider):
    release = make_release()
    client = client_for(outsider)
    assert client.get(release.get_absolute_url()).status_code == 404
    assert client.post(move_url(release, "submit")).status_code == 404
    assert client.get(reverse("releases:release-impact", args=[release.readable_id])).status_code == 404


@pytest.mark.parametrize("move", MOVE_NAMES)
def test_move_urls_refuse_get(client_for, make_release, pm, move):
    release = make_release()
    assert client_for(pm).get(move_url(release, move)).status_code == 405


# --- create and edit --------------------------------------------------------------------------


def test_the_architect_puts_a_release_on_the_calendar(client_for, architect, capability):
    response = client_for(architect).post(
        reverse("releases:release-create"), form_data(capability, architect)
    )
    release = Release.objects.get()
    assert response.status_code == 302 and response.url == release.get_absolute_url()
    assert (release.risk_tier, release.state) == ("medium", "draft")
    assert list(release.evidence_items.values_list("key", flat=True)) == [
        "authorization",
        "side_effects",
        "audit",
        "dual_control",
    ]


def test_the_create_form_names_the_field_at_fault(client_for, architect, capability):
    response = client_for(architect).post(
        reverse("releases:release-create"),
        form_data(capability, architect, version_from="v1", version_to="v1"),
    )
    assert response.status_code == 200
    assert "version_to" in response.context["form"].errors
    assert not Release.objects.exists()


def test_people_who_do_not_keep_the_calendar_cannot_create_or_edit(
    client_for, make_release, risk_partner, viewer
):
    release = make_release()
    assert client_for(risk_partner).get(reverse("releases:release-create")).status_code == 403
    assert (
        client_for(viewer).get(reverse("releases:release-edit", args=[release.readable_id])).status_code
        == 403
    )


def test_editing_the_object_type_of_a_draft_changes_its_checklist(
    client_for, make_release, architect, capability
):
    release = make_release()
    data = form_data(capability, architect, object_type="dashboard", version_from="v11", version_to="v12")
    data.pop("capability")
    response = client_for(architect).post(reverse("releases:release-edit", args=[release.readable_id]), data)
    assert response.status_code == 302
    assert list(release.evidence_items.values_list("key", flat=True)) == ["metric_owner_approval"]


# --- moves ------------------------------------------------------------------------------------


def test_the_owner_cannot_approve_their_own_release_on_the_page(client_for, submitted, architect):
    release = submitted()
    client = client_for(architect)
    assert "approve" not in [m["move"] for m in client.get(release.get_absolute_url()).context["moves"]]
    response = client.post(move_url(release, "approve"), {"comment": "Mine, approved"}, follow=True)
    assert "You own this release: its approval comes from someone else." in messages_of(response)
    release.refresh_from_db()
    assert release.state == "submitted" and not release.approvals.exists()


def test_a_viewer_gets_403_on_a_move(client_for, submitted, viewer):
    release = submitted()
    assert client_for(viewer).post(move_url(release, "approve"), {"comment": "yes"}).status_code == 403
    assert Release.objects.get(pk=release.pk).state == "submitted"


def test_the_risk_partner_approves_with_a_comment(client_for, submitted, risk_partner):
    release = submitted()
    client = client_for(risk_partner)
    response = client.post(move_url(release, "approve"), {"comment": ""})
    assert response.status_code == 400 and "comment" in response.context["moves"][0]["form"].errors
    response = client.post(move_url(release, "approve"), {"comment": "Eval is green"}, follow=True)
    assert f"{release.readable_id} is approved." in messages_of(response)
    assert Release.objects.get(pk=release.pk).state == "approved"


def test_a_second_tool_approval_by_the_same_person_is_refused_on_the_page(client_for, submitted, pm):
    release = submitted(object_type="tool", version_from="", version_to="t-1")
    client = client_for(pm)
    response = client.post(move_url(release, "approve"), {"comment": "First"}, follow=True)
    assert "waits for a second approver" in messages_of(response)[0]
    response = client.post(move_url(release, "approve"), {"comment": "Again"}, follow=True)
    assert "already approved" in messages_of(response)[0]
    assert release.approvals.count() == 1


def test_an_illegal_move_on_the_page_says_why(client_for, make_release, architect):
    release = make_release()
    response = client_for(architect).post(
        move_url(release, "deploy"), {"to": "released", "on": timezone.localdate().isoformat()}, follow=True
    )
    assert "not possible while the release is draft" in messages_of(response)[0]


def test_deploy_and_rollback_on_the_page(client_for, submitted, risk_partner, architect, capability):
    release = submitted()
    release.approve(by=risk_partner, comment="Fine")
    client = client_for(architect)
    client.post(move_url(release, "deploy"), {"to": "released", "on": timezone.localdate().isoformat()})
    capability.refresh_from_db()
    assert capability.current_version_set == {"prompt": "v12"}
    client.post(move_url(release, "rollback"), {"reason": "Billing repeat contact past breach"})
    capability.refresh_from_db()
    release.refresh_from_db()
    assert release.state == "rolled_back" and capability.current_version_set == {"prompt": "v11"}


def test_evidence_is_attested_on_the_page_with_a_file(client_for, make_release, analyst):
    release = make_release()
    url = reverse("releases:release-attest", args=[release.readable_id, "regression_eval"])
    response = client_for(analyst).post(url, {"note": "No link"})
    assert response.status_code == 400
    upload = SimpleUploadedFile("eval.csv", b"case,result\n1,pass\n", content_type="text/csv")
    response = client_for(analyst).post(url, {"file": upload, "note": "120 cases, all pass"})
    assert response.status_code == 302
    item = release.evidence_items.get()
    assert item.is_attested and item.attested_by == analyst and item.filename == "eval.csv"
    download = client_for(analyst).get(item.get_file_url())
    assert download.status_code == 200 and b"".join(download.streaming_content).startswith(b"case,result")


def test_attesting_is_refused_to_a_viewer(client_for, make_release, viewer):
    release = make_release()
    url = reverse("releases:release-attest", args=[release.readable_id, "regression_eval"])
    assert client_for(viewer).post(url, {"link": "https://evidence.example/x"}).status_code == 403


# --- impact review page -----------------------------------------------------------------------


def test_the_impact_page_computes_the_figures_and_records_the_review(client_for, released, pm, capability):
    release = released(on=timezone.localdate() - datetime.timedelta(days=40))
    MetricContractFactory(
        capability=capability, metric_id="cc_agent_assist.repeat_contact_7d", status="active"
    )
    url = reverse("releases:release-impact", args=[release.readable_id])
    client = client_for(pm)
    response = client.get(url, {"periods": "2"})
    assert response.context["figures"]["periods"] == 2
    assert "cc_agent_assist.repeat_contact_7d" in response.content.decode()
    assert "Too little data" in response.content.decode()
    response = client.post(url, {"expected_effect": "", "decision": "keep", "comment": "x", "periods": "2"})
    assert response.status_code == 400 and "expected_effect" in response.context["form"].errors
    response = client.post(
        url, {"expected_effect": "AHT down", "decision": "keep", "comment": "Fine", "periods": "2"}
    )
    assert response.status_code == 302
    release.refresh_from_db()
    assert release.state == "impact_reviewed" and release.impact_reviews.get().periods == 2


def test_the_impact_page_refuses_a_reviewer_without_the_role(client_for, released, risk_partner, analyst):
    release = released()
    url = reverse("releases:release-impact", args=[release.readable_id])
    assert client_for(analyst).get(url).status_code == 200
    response = client_for(analyst).post(url, {"expected_effect": "x", "decision": "keep", "comment": "x"})
    assert response.status_code == 403


def test_a_release_past_its_review_date_shows_the_banner(client_for, released, pm):
    release = released(on=timezone.localdate() - datetime.timedelta(days=40))
    Release.objects.filter(pk=release.pk).update(post_release_review_date=timezone.localdate())
    page = client_for(pm).get(release.get_absolute_url()).content.decode()
    assert 'id="review-due"' in page


def test_navigation_has_the_releases_item(client_for, pm):
    page = client_for(pm).get(LIST).content.decode()
    assert f'href="{LIST}" aria-current="page">Releases' in page


def test_login_is_required(client):
    assert client.get(LIST).status_code == 302


def test_an_unknown_month_falls_back_to_this_month(client_for, pm):
    response = client_for(pm).get(reverse("releases:release-calendar"), {"month": "garbage"})
    assert response.context["month"] == timezone.localdate().replace(day=1)


def test_a_high_risk_release_refuses_a_non_risk_approver_on_the_page(client_for, submitted, pm, risk_partner):
    release = submitted(risk_tier="high")
    response = client_for(pm).post(move_url(release, "approve"), {"comment": "Fine"}, follow=True)
    assert "needs an approver holding Risk / Compliance" in messages_of(response)[0]
    assert Release.objects.get(pk=release.pk).state == "submitted"
    client_for(risk_partner).post(move_url(release, "approve"), {"comment": "Fine"})
    assert Release.objects.get(pk=release.pk).state == "approved"


def test_open_evidence_and_a_stop_hold_block_approval_on_the_page(
    client_for, make_release, attest_all, risk_partner, capability
):
    from contracts.services import stop_hold_lift

    release = make_release()
    release.submit(by=release.owner)
    client = client_for(risk_partner)
    response = client.post(move_url(release, "approve"), {"comment": "Go"}, follow=True)
    assert "Evidence still open: Regression eval." in messages_of(response)[0]
    attest_all(release)
    hold = StopHold.objects.create(
        capability=capability,
        signal=SignalFactory(contract=MetricContractFactory(capability=capability)),
        reason="Stop rule fired",
    )
    response = client.post(move_url(release, "approve"), {"comment": "Go"}, follow=True)
    assert "A stop rule holds the releases" in messages_of(response)[0]
    assert Release.objects.get(pk=release.pk).state == "submitted"
    stop_hold_lift(hold=hold, by=risk_partner, comment="False-pass sample clean")
    client.post(move_url(release, "approve"), {"comment": "Go"})
    assert Release.objects.get(pk=release.pk).state == "approved"


def test_submitting_without_a_rollback_plan_is_refused_on_the_page(client_for, make_release, architect):
    release = make_release(rollback_plan="")
    response = client_for(architect).post(move_url(release, "submit"), follow=True)
    assert "rollback plan" in messages_of(response)[0]
    assert Release.objects.get(pk=release.pk).state == "draft"


def test_a_second_impact_review_of_a_reviewed_release_is_refused_with_a_message(client_for, released, pm):
    release = released()
    release.record_impact_review(by=pm, expected_effect="x", decision="keep", comment="Fine")
    url = reverse("releases:release-impact", args=[release.readable_id])
    response = client_for(pm).post(
        url, {"expected_effect": "x", "decision": "keep", "comment": "Again"}, follow=True
    )
    assert "not possible while the release is impact reviewed" in messages_of(response)[0]
    assert release.impact_reviews.count() == 1
