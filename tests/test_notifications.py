"""Notifications: written with the change, sent once by a job (eager here, a real worker in CI)."""

import time

import pytest
from django.core import mail

from productops.models import Notification
from productops.notifications import claim, deliver, notify


@pytest.mark.django_db
def test_a_notification_is_sent_after_commit_and_marked_sent(make_person, django_capture_on_commit_callbacks):
    person = make_person("ops")
    with django_capture_on_commit_callbacks(execute=True):
        [row] = notify(recipients=[person, person], subject="ASM-0001 expired", body="Review it", url="/x/")
    row.refresh_from_db()
    assert row.sent_at is not None
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [person.email]
    assert "/x/" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_notification_is_never_sent_twice(make_person):
    person = make_person("ops")
    [row] = notify(recipients=[person], subject="s", body="b")
    assert deliver(row.pk) is True
    assert deliver(row.pk) is False
    assert claim(row.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_failed_send_releases_the_claim_for_a_retry(make_person, settings, monkeypatch):
    person = make_person("ops")
    [row] = notify(recipients=[person], subject="s", body="b")

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("productops.notifications.send_mail", broken)
    with pytest.raises(ConnectionRefusedError):
        deliver(row.pk)
    row.refresh_from_db()
    assert row.sent_at is None and row.claimed_at is None and "SMTP down" in row.last_error
    monkeypatch.undo()
    assert deliver(row.pk) is True


def test_a_real_worker_sends_a_queued_notification_once(real_celery_worker, make_person):
    person = make_person("ops")
    [row] = notify(
        recipients=[person], subject="Action ACT-0001 awaits your verification", body="Please verify."
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        row.refresh_from_db()
        if row.sent_at:
            break
        time.sleep(0.2)
    assert row.sent_at is not None, real_celery_worker.log_path.read_text()[-2000:]
    files = list(real_celery_worker.mail_dir.iterdir())
    assert len(files) == 1
    assert "ACT-0001 awaits your verification" in files[0].read_text()
    assert Notification.objects.get(pk=row.pk).attempts == 1
