"""The decision log pages: list, detail with the supersede chain, record and supersede forms."""

import pytest
from django.urls import NoReverseMatch, reverse

from decisions.models import Decision
from decisions.services import decision_supersede
from decisions.tests.factories import DecisionFactory, EvidenceLinkFactory

pytestmark = pytest.mark.django_db

LIST = reverse("decisions:decision-list")
CREATE = reverse("decisions:decision-create")


def form_data(capability=None, **overrides):
    data = {
        "decided_on": "",
        "type": "restrict",
        "decision": "Restrict auto-routing to **written** complaints.",
        "options_considered": "Restrict; double-check all channels; pause",
        "evidence": "",
        "owner": "",
        "review_trigger": "Transcript word error rate below 8%",
        "review_date": "",
    }
    if capability is not None:
        data["capability"] = capability.pk
    data.update(overrides)
    return data


def rows_of(response):
    return response.content.decode().split('id="decision-rows"')[1]


# The list ---------------------------------------------------------------------------------


def test_the_list_shows_only_decisions_of_capabilities_the_person_holds_a_role_on(
    client_for, pm, capability, other_capability
):
    mine = DecisionFactory(capability=capability, decision="Scale billing intents")
    DecisionFactory(capability=other_capability, decision="Restrict complex entities")
    rows = rows_of(client_for(pm).get(LIST))
    assert mine.readable_id in rows and "Scale billing intents" in rows
    assert "Restrict complex entities" not in rows


def test_the_list_marks_decisions_without_evidence(client_for, pm, capability):
    bare = DecisionFactory(capability=capability)
    backed = DecisionFactory(capability=capability)
    EvidenceLinkFactory(decision=backed)
    rows = rows_of(client_for(pm).get(LIST)).split("<tr>")
    bare_row = next(row for row in rows if bare.readable_id in row)
    backed_row = next(row for row in rows if backed.readable_id in row)
    assert "No evidence" in bare_row
    assert "No evidence" not in backed_row and "1 link" in backed_row


def test_the_list_filters_by_evidence_state_type_and_capability(
    client_for, viewer, capability, other_capability
):
    bare = DecisionFactory(capability=capability, type="restrict")
    backed = DecisionFactory(capability=other_capability, type="fund")
    EvidenceLinkFactory(decision=backed)
    successor = DecisionFactory(capability=capability, type="restrict", supersedes=bare)
    client = client_for(viewer)

    def listed(**params):
        return set(client.get(LIST, params).context["decisions"])

    assert listed(has_evidence="false") == {bare, successor}
    assert listed(has_evidence="true") == {backed}
    assert listed(state="superseded") == {bare}
    assert listed(state="current") == {backed, successor}
    assert listed(type="fund") == {backed}
    assert listed(capability=other_capability.slug) == {backed}
    assert listed(q=backed.readable_id) == {backed}


def test_the_list_sorts(client_for, pm, capability):
    older = DecisionFactory(capability=capability, decided_on="2026-01-05")
    newer = DecisionFactory(capability=capability, decided_on="2026-03-05")
    client = client_for(pm)
    assert list(client.get(LIST).context["decisions"]) == [newer, older]
    assert list(client.get(LIST, {"sort": "decided_on"}).context["decisions"]) == [older, newer]


def test_the_list_answers_htmx_with_the_rows_only(client_for, pm, capability):
    decision = DecisionFactory(capability=capability)
    response = client_for(pm).get(LIST, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert decision.readable_id in body
    assert "<html" not in body
    assert "HX-Request" in response["Vary"]


def test_the_list_exports_csv_with_the_no_evidence_mark(client_for, pm, capability):
    bare = DecisionFactory(capability=capability, decision="Pause EDD automation", decided_on="2026-02-01")
    backed = DecisionFactory(capability=capability, decision="Fund two engineers", decided_on="2026-03-01")
    EvidenceLinkFactory(decision=backed, url="https://wiki.bank.example/memo")
    successor = DecisionFactory(
        capability=capability,
        decision="Pause EDD automation until audit",
        supersedes=bare,
        decided_on="2026-04-01",
    )
    response = client_for(pm).get(LIST, {"format": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0].split(",")[:7] == [
        "Id",
        "Date",
        "Capability",
        "Type",
        "Decision",
        "Options considered",
        "Evidence",
    ]
    assert len(lines) == 4
    by_id = {line.split(",")[0]: line for line in lines[1:]}
    assert by_id[bare.readable_id].startswith(
        f"{bare.readable_id},2026-02-01,Contact-centre agent assist,Scale selectively,Pause EDD automation,"
    )
    assert ",no evidence," in by_id[bare.readable_id]
    assert by_id[bare.readable_id].endswith(f",{successor.readable_id},the system")
    assert ",https://wiki.bank.example/memo," in by_id[backed.readable_id]
    assert "no evidence" not in by_id[backed.readable_id]


def test_the_list_keeps_its_query_count_when_the_log_grows_tenfold(
    client_for, pm, capability, django_assert_max_num_queries
):
    client = client_for(pm)

    def grow(count):
        for _ in range(count):
            decision = DecisionFactory(capability=capability)
            EvidenceLinkFactory(decision=decision)
            DecisionFactory(capability=capability, supersedes=decision)

    def queries():
        client.get(LIST)  # warm the session and the role cache
        with django_assert_max_num_queries(30) as captured:
            response = client.get(LIST)
        assert response.status_code == 200
        return len(captured.captured_queries), len(response.context["decisions"])

    grow(2)
    small, small_rows = queries()
    grow(18)
    large, large_rows = queries()
    assert (small_rows, large_rows) == (4, 40)
    assert small == large


# The detail page ------------------------------------------------------------------------------


def test_the_page_shows_every_field_and_evidence_links_to_the_records(client_for, pm, capability, record):
    earlier = record(decision="False-pass rate measured on 400 stratified files")
    decision = record(
        decision="Scale selectively: **cycle time down** in low-risk retail",
        evidence=[earlier.readable_id, "https://wiki.bank.example/memo"],
        review_date=earlier.decided_on,
    )
    page = client_for(pm).get(decision.get_absolute_url()).content.decode()
    assert "<strong>cycle time down</strong>" in page  # Markdown
    assert "Scale to all entities; scale selectively; hold" in page
    assert "A severe false pass in a high-risk entity." in page
    assert f'href="{earlier.get_absolute_url()}"' in page
    assert 'href="https://wiki.bank.example/memo"' in page
    assert "No evidence" not in page
    assert capability.name in page
    assert str(pm) in page
    assert "History" in page and "Created" in page


def test_the_page_marks_a_decision_without_evidence(client_for, pm, record):
    page = client_for(pm).get(record().get_absolute_url()).content.decode()
    assert "No evidence" in page


def test_user_text_cannot_inject_script(client_for, pm, record):
    page = client_for(pm).get(record(decision="<script>alert(1)</script> Scale").get_absolute_url())
    assert "<script>alert(1)</script>" not in page.content.decode()


def test_both_pages_of_a_superseded_decision_show_the_chain(client_for, pm, record):
    old = record(decision="Scale to retail individuals")
    new = decision_supersede(old=old, by=pm, decision="Extend to single-director companies")
    client = client_for(pm)
    old_page = client.get(old.get_absolute_url()).content.decode()
    new_page = client.get(new.get_absolute_url()).content.decode()
    for page in (old_page, new_page):
        chain = page.split('id="chain-heading"')[1]
        assert chain.index(old.readable_id) < chain.index(new.readable_id)
    assert f'superseded by <a href="{new.get_absolute_url()}">{new.readable_id}</a>' in old_page
    assert "Supersede</a>" not in old_page
    assert "Supersede</a>" in new_page
    assert Decision.objects.get(pk=old.pk).decision == "Scale to retail individuals"


def test_an_outsider_gets_404_on_another_capabilitys_decision(client_for, outsider, record):
    decision = record()
    client = client_for(outsider)
    assert client.get(decision.get_absolute_url()).status_code == 404
    supersede = reverse("decisions:decision-supersede", args=[decision.readable_id])
    assert client.get(supersede).status_code == 404
    assert client.post(supersede, form_data()).status_code == 404
    assert Decision.objects.count() == 1


def test_there_is_no_edit_or_delete_page(client_for, pm, record):
    decision = record()
    client = client_for(pm)
    for name in ["decision-edit", "decision-update", "decision-delete"]:
        with pytest.raises(NoReverseMatch):
            reverse(f"decisions:{name}", args=[decision.readable_id])
    assert client.get(f"{decision.get_absolute_url()}edit/").status_code == 404
    assert client.post(decision.get_absolute_url(), {"decision": "X"}).status_code == 405
    assert Decision.objects.get(pk=decision.pk).decision == decision.decision


# Recording ----------------------------------------------------------------------------------


def test_the_pm_records_a_decision_with_evidence_by_readable_id(client_for, pm, capability, record):
    earlier = record()
    client = client_for(pm)
    assert client.get(CREATE).status_code == 200
    response = client.post(CREATE, form_data(capability, owner=pm.pk, evidence=f" {earlier.readable_id}, "))
    decision = Decision.objects.exclude(pk=earlier.pk).get()
    assert response.status_code == 302 and response["Location"] == decision.get_absolute_url()
    assert decision.type == "restrict" and decision.recorded_by == pm and decision.owner == pm
    assert [link.target for link in decision.evidence_links.all()] == [earlier]


def test_an_unknown_evidence_id_is_a_form_error_naming_the_id(client_for, pm, capability):
    response = client_for(pm).post(CREATE, form_data(capability, owner=pm.pk, evidence="DEC-0404"))
    assert response.status_code == 200
    errors = response.context["form"].errors["evidence"]
    assert any("DEC-0404" in error for error in errors)
    assert "DEC-0404" in response.content.decode()
    assert not Decision.objects.exists()


def test_a_viewer_cannot_record_a_decision(client_for, viewer, capability, pm):
    client = client_for(viewer)
    assert client.get(CREATE).status_code == 403
    assert client.post(CREATE, form_data(capability, owner=pm.pk)).status_code == 403
    assert not Decision.objects.exists()


def test_a_person_cannot_record_for_a_capability_they_hold_no_role_on(client_for, outsider, capability, pm):
    response = client_for(outsider).post(CREATE, form_data(capability, owner=pm.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["capability"]
    assert not Decision.objects.exists()


def test_an_executive_records_a_decision(client_for, executive, capability):
    response = client_for(executive).post(CREATE, form_data(capability, owner=executive.pk, type="fund"))
    assert response.status_code == 302
    assert Decision.objects.get().recorded_by == executive


def test_a_broken_rule_is_a_form_error_not_a_500(client_for, pm, capability, outsider):
    response = client_for(pm).post(CREATE, form_data(capability, owner=outsider.pk))
    assert response.status_code == 200
    assert response.context["form"].errors["owner"]
    assert not Decision.objects.exists()


def test_the_record_and_supersede_forms_reject_other_methods(client_for, pm, record):
    old = record()
    client = client_for(pm)
    assert client.put(CREATE).status_code == 405
    assert client.delete(reverse("decisions:decision-supersede", args=[old.readable_id])).status_code == 405
    assert Decision.objects.filter(pk=old.pk).exists()


# Superseding --------------------------------------------------------------------------------


def test_the_supersede_form_is_prefilled_from_the_old_decision(client_for, pm, record):
    old = record(evidence=["https://wiki.bank.example/memo"])
    response = client_for(pm).get(reverse("decisions:decision-supersede", args=[old.readable_id]))
    form = response.context["form"]
    assert form.initial["decision"] == old.decision
    assert form.initial["type"] == old.type
    assert form.initial["evidence"] == "https://wiki.bank.example/memo"
    assert "capability" not in form.fields


def test_superseding_through_the_page_keeps_both_decisions(client_for, pm, record):
    old = record()
    url = reverse("decisions:decision-supersede", args=[old.readable_id])
    response = client_for(pm).post(
        url, form_data(owner=pm.pk, type="scale", decision="Scale to every retail entity")
    )
    new = Decision.objects.get(supersedes=old)
    assert response.status_code == 302 and response["Location"] == new.get_absolute_url()
    assert Decision.objects.get(pk=old.pk).decision == old.decision
    assert new.capability == old.capability and new.decision == "Scale to every retail entity"


def test_a_decision_cannot_be_superseded_twice_through_the_page(client_for, pm, record):
    old = record()
    first = decision_supersede(old=old, by=pm, decision="First successor")
    url = reverse("decisions:decision-supersede", args=[old.readable_id])
    client = client_for(pm)
    response = client.post(url, form_data(owner=pm.pk, decision="Second successor"))
    assert response.status_code == 302 and response["Location"] == first.get_absolute_url()
    assert "already superseded" in client.get(response["Location"]).content.decode()
    assert Decision.objects.count() == 2


def test_a_viewer_cannot_supersede(client_for, viewer, record, pm):
    old = record()
    url = reverse("decisions:decision-supersede", args=[old.readable_id])
    client = client_for(viewer)
    assert client.get(url).status_code == 403
    assert client.post(url, form_data(owner=pm.pk)).status_code == 403
    assert Decision.objects.count() == 1
