"""The iCal feed per person: a token in the URL instead of a login; releases and review dates
of the capabilities the token's owner can see, nothing else."""

import datetime

import pytest
from django.urls import reverse
from icalendar import Calendar

from releases.models import CalendarToken
from releases.services import calendar_token_for

pytestmark = pytest.mark.django_db


def events(response):
    calendar = Calendar.from_ical(response.content)
    return {
        str(event["uid"]): (event.decoded("dtstart"), str(event["summary"]))
        for event in calendar.walk("VEVENT")
    }


def feed_url(user):
    return reverse("releases:ical", kwargs={"token": calendar_token_for(user).token})


def test_the_feed_holds_the_releases_and_review_dates_without_a_login(
    client, make_release, released, pm, other_capability, make_person
):
    planned = make_release(
        planned_date=datetime.date(2026, 11, 12), post_release_review_date=datetime.date(2026, 12, 10)
    )
    deployed = released(change="Deployed prompt")
    kyc_architect = make_person("ai_architect", other_capability, username="kyc-architect")
    hidden = make_release(
        capability=other_capability, by=kyc_architect, owner=kyc_architect, change="KYC parser"
    )
    response = client.get(feed_url(pm))  # no login: the token is the key
    assert response.status_code == 200 and response["Content-Type"].startswith("text/calendar")
    found = events(response)
    assert found[f"{planned.readable_id}-release@productops"] == (
        datetime.date(2026, 11, 12),
        f"{planned.readable_id} planned: {planned.change} (Contact-centre agent assist)",
    )
    assert found[f"{planned.readable_id}-review@productops"][0] == datetime.date(2026, 12, 10)
    assert found[f"{deployed.readable_id}-release@productops"][0] == deployed.deployed_date
    assert "deployed" in found[f"{deployed.readable_id}-release@productops"][1]
    assert not any(hidden.readable_id in uid for uid in found)


def test_a_bad_token_is_404(client, pm):
    calendar_token_for(pm)
    assert client.get(reverse("releases:ical", kwargs={"token": "not-a-token"})).status_code == 404


def test_an_inactive_persons_feed_is_closed(client, pm):
    url = feed_url(pm)
    pm.is_active = False
    pm.save()
    assert client.get(url).status_code == 404


def test_the_token_page_shows_the_url_and_regenerating_closes_the_old_one(client, client_for, pm):
    page = client_for(pm).get(reverse("releases:calendar-token")).content.decode()
    old = CalendarToken.objects.get(user=pm).token
    assert f"/releases/ical/{old}.ics" in page
    client_for(pm).post(reverse("releases:calendar-token-regenerate"))
    new = CalendarToken.objects.get(user=pm).token
    assert new != old
    client.logout()
    assert client.get(reverse("releases:ical", kwargs={"token": old})).status_code == 404
    assert client.get(reverse("releases:ical", kwargs={"token": new})).status_code == 200


def test_the_token_page_needs_a_login(client):
    assert client.get(reverse("releases:calendar-token")).status_code == 302
