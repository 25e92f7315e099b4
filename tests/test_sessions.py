"""The session store (productops/sessions.py): a signed-in person stays signed in on their
session, and an expired or unknown session signs nobody in."""

import datetime
import html

import pytest
from django.contrib.sessions.models import Session
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def test_a_signed_in_person_reads_pages_until_their_session_expires(client, pm):
    client.force_login(pm)
    page = client.get(reverse("boards:index"))
    assert page.status_code == 200
    assert f'title="Signed in as">{html.escape(str(pm))}<' in page.content.decode()

    Session.objects.update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
    expired = client.get(reverse("boards:index"))
    assert expired.status_code == 302
    assert expired["Location"].startswith(reverse("login"))


def test_an_unknown_session_key_signs_nobody_in(client, pm):
    client.force_login(pm)
    client.cookies["sessionid"] = "x" * 32  # well-formed, but no such session
    page = client.get(reverse("boards:index"))
    assert page.status_code == 302
    assert page["Location"].startswith(reverse("login"))


def test_the_session_keeps_what_a_page_stored(client, pm, capability):
    client.force_login(pm)
    client.get(reverse("portfolio:capability-switch") + f"?capability={capability.slug}")
    assert client.session["current_capability"] == capability.slug
