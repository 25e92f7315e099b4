"""The admin shows the decision log read-only, even to a superuser."""

import pytest
from django.contrib.admin.sites import site
from django.urls import reverse

from decisions.models import Decision

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(make_person):
    person = make_person("ai_pm", username="root")
    person.is_superuser = person.is_staff = True
    person.save()
    return person


def test_no_one_may_change_delete_or_add_decisions_in_the_admin(rf, superuser):
    request = rf.get("/")
    request.user = superuser
    admin = site._registry[Decision]
    assert not admin.has_change_permission(request)
    assert not admin.has_delete_permission(request)
    assert not admin.has_add_permission(request)
    assert admin.has_view_permission(request)
    assert "delete_selected" not in admin.get_actions(request)


def test_the_admin_has_no_add_page_for_decisions(client_for, superuser, capability):
    client = client_for(superuser)
    url = reverse("admin:decisions_decision_add")
    assert client.get(url).status_code == 403
    response = client.post(
        url, {"capability": capability.pk, "type": "scale", "decision": "Scale", "owner": superuser.pk}
    )
    assert response.status_code == 403
    assert not Decision.objects.exists()


def test_the_change_view_is_read_only_and_refuses_a_post(client_for, superuser, record):
    decision = record()
    client = client_for(superuser)
    url = reverse("admin:decisions_decision_change", args=[decision.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert decision.decision in html
    assert 'name="_save"' not in html and 'name="decision"' not in html  # shown, not a field
    assert "deletelink" not in html
    response = client.post(url, {"decision": "Scale everywhere", "type": "scale"})
    assert response.status_code == 403
    assert Decision.objects.get(pk=decision.pk).decision == decision.decision


def test_the_admin_cannot_delete_a_decision(client_for, superuser, record):
    decision = record()
    client = client_for(superuser)
    assert (
        client.post(
            reverse("admin:decisions_decision_delete", args=[decision.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    response = client.post(
        reverse("admin:decisions_decision_changelist"),
        {"action": "delete_selected", "_selected_action": [decision.pk], "post": "yes"},
    )
    assert Decision.objects.filter(pk=decision.pk).exists()
    assert response.status_code in (200, 302)
    assert [row.history_type for row in Decision.history.filter(id=decision.pk)] == ["+"]


def test_the_changelist_marks_decisions_without_evidence(client_for, superuser, record):
    record()
    page = client_for(superuser).get(reverse("admin:decisions_decision_changelist")).content.decode()
    assert "no evidence" in page
