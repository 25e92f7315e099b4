"""The onboarding checklist (playbook 5.3 and 20): items tick themselves from the data; the two
the data cannot show are ticked by the PM with a note, stored and logged."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from actions.tests.factories import ActionFactory
from contracts.tests.factories import MetricContractFactory
from forums.models import ReviewPack, Session
from productops.errors import DomainError
from readiness.models import OnboardingTick
from readiness.onboarding import onboarding_checklist
from readiness.services import onboarding_tick
from readiness.tests import world as w

pytestmark = pytest.mark.django_db


def rows(capability):
    return {row.item.key: row for row in onboarding_checklist(capability).rows}


def test_a_new_capability_starts_with_nothing_ticked(capability, pm):
    checklist = onboarding_checklist(capability)
    assert [len(plan_rows) for _key, _heading, plan_rows in checklist.plans] == [10, 17]
    assert checklist.done_count == 0
    assert rows(capability)["d03"].detail == "0 of the top 10 metric contracts drafted."


def test_the_charter_ticks_itself_once_it_is_filled(capability, pm):
    assert not rows(capability)["d01"].done
    for name in [
        "decisions_product",
        "decisions_risk_review",
        "success_outcome",
        "success_risk",
        "baseline_outcome",
    ]:
        setattr(capability, name, "Filled in the charter workshop")
    capability.save()
    row = rows(capability)["d01"]
    assert row.done and row.how == "data" and "use-case owner is named" in row.detail


def test_top_ten_contracts_drafted_ticks_at_the_tenth(capability):
    MetricContractFactory.create_batch(9, capability=capability, status="draft")
    assert not rows(capability)["d03"].done
    MetricContractFactory(capability=capability, status="draft")
    row = rows(capability)["d03"]
    assert row.done and row.detail == "10 metric contracts drafted."


def test_review_pack_built_and_first_weekly_review_held_tick_from_the_sessions(capability, pm):
    weekly = w.forum(capability, pm, "weekly_ops_review", ["continue"])
    session = Session.objects.create(forum=weekly, scheduled_at=timezone.now() - datetime.timedelta(days=2))
    assert not rows(capability)["d04"].done and not rows(capability)["d10"].done
    ReviewPack.objects.create(
        session=session, snapshot={}, pdf=b"%PDF", pdf_sha256="0" * 64, built_at=timezone.now()
    )
    Session.objects.filter(pk=session.pk).update(state="minutes_published")
    assert rows(capability)["d04"].done
    assert not rows(capability)["d10"].done  # held, but no action in the register yet
    ActionFactory(capability=capability, owner=pm)
    row = rows(capability)["d10"]
    assert row.done and row.detail == "1 weekly ops review held; 1 action in the register."


def test_calendars_tick_when_the_forums_and_the_release_calendar_exist(capability, pm):
    for cadence in ["weekly_ops_review", "monthly_value_review", "quarterly_portfolio_review"]:
        w.forum(capability, pm, cadence, ["continue"])
    assert rows(capability)["d05"].done and not rows(capability)["d06"].done
    w.deployed_release(capability, pm, state="released")
    assert rows(capability)["d06"].done and not rows(capability)["r36"].done  # not impact-reviewed yet


def test_the_incident_tabletop_ticks_when_an_incident_changed_the_roadmap(capability):
    w.incident(capability, learning=False)
    assert not rows(capability)["r49"].done
    w.incident(capability, learning=True)
    assert rows(capability)["r49"].done


def test_the_pm_ticks_an_item_the_data_cannot_show_with_a_note_kept_in_history(capability, pm):
    assert rows(capability)["d08"].how == "open"
    tick = onboarding_tick(
        capability=capability, item="d08", by=pm, note="Failure modes mapped to 15.2 classes"
    )
    row = rows(capability)["d08"]
    assert row.done and row.how == "hand" and "Failure modes mapped to 15.2 classes" in row.detail
    assert tick.history.get().history_user == pm
    onboarding_tick(capability=capability, item="d08", by=pm, note="Workshop moved", ticked=False)
    assert not rows(capability)["d08"].done
    assert [h.history_change_reason for h in tick.history.order_by("history_id")] == [
        "Ticked: Failure modes mapped to 15.2 classes",
        "Unticked: Workshop moved",
    ]


def test_a_hand_tick_needs_a_note_a_manual_item_and_the_pm(capability, pm, viewer, outsider):
    with pytest.raises(DomainError) as error:
        onboarding_tick(capability=capability, item="d08", by=pm, note="  ")
    assert error.value.field == "note"
    with pytest.raises(DomainError) as error:
        onboarding_tick(capability=capability, item="d03", by=pm, note="We drafted them")
    assert error.value.field == "item" and "ticks itself" in error.value.message
    for person in (viewer, outsider):
        with pytest.raises(PermissionDenied):
            onboarding_tick(capability=capability, item="d09", by=person, note="Agreed")
    assert not OnboardingTick.objects.exists()


def test_the_tick_form_on_the_page(client_for, capability, pm, viewer):
    url = reverse("readiness:onboarding-tick", args=[capability.slug, "d09"])
    assert client_for(viewer).post(url, {"note": "x"}).status_code == 403
    client = client_for(pm)
    assert client.get(url).status_code == 405
    response = client.post(url, {"note": ""}, follow=True)
    assert "Write a note" in response.content.decode() and not OnboardingTick.objects.exists()
    response = client.post(url, {"note": "Weekly board agreed with ops"}, follow=True)
    page = response.content.decode()
    assert (
        "Ticked: Weekly / monthly / portfolio dashboard." in page and "Weekly board agreed with ops" in page
    )
    assert OnboardingTick.objects.get(capability=capability, item="d09").ticked_by == pm
