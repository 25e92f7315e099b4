import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import timezone

from forums.choices import Cadence, Frequency, SessionState, Weekday, WeekOfMonth
from forums.models import Forum, Session
from forums.recurrence import next_occurrences
from forums.services import forum_create, forum_rule_findings, sessions_schedule
from productops.errors import TransitionNotAllowed

LONDON = ZoneInfo("Europe/London")


def schedule(frequency, weekday=Weekday.TUESDAY, time=datetime.time(10, 0), nth=None, anchor=None):
    return SimpleNamespace(
        frequency=frequency, weekday=weekday, time_of_day=time, week_of_month=nth, anchor_date=anchor
    )


@pytest.fixture
def forum(pm, capability):
    forum = forum_create(
        by=pm,
        scope=[capability],
        attendees=[pm],
        name="Weekly ops review",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=pm,
        attendee_roles=["ai_pm"],
        decision_types=["continue"],
        frequency=Frequency.WEEKLY,
        weekday=Weekday.TUESDAY,
        time_of_day=datetime.time(10, 0),
    )
    return forum


def test_weekly_keeps_wall_clock_time_across_the_dst_change(settings):
    settings.TIME_ZONE = "Europe/London"
    after = datetime.datetime(2026, 3, 20, tzinfo=LONDON)  # clocks go forward on 29 March
    times = next_occurrences(schedule(Frequency.WEEKLY), after, 3)
    assert [t.date() for t in times] == [
        datetime.date(2026, 3, 24),
        datetime.date(2026, 3, 31),
        datetime.date(2026, 4, 7),
    ]
    assert all(t.astimezone(LONDON).hour == 10 for t in times)
    assert [t.astimezone(datetime.UTC).hour for t in times] == [10, 9, 9]


def test_biweekly_stays_in_step_with_its_anchor(settings):
    settings.TIME_ZONE = "Europe/London"
    rule = schedule(Frequency.BIWEEKLY, weekday=Weekday.MONDAY, anchor=datetime.date(2026, 1, 5))
    times = next_occurrences(rule, datetime.datetime(2026, 3, 17, tzinfo=LONDON), 3)
    assert [t.date() for t in times] == [
        datetime.date(2026, 3, 30),
        datetime.date(2026, 4, 13),
        datetime.date(2026, 4, 27),
    ]
    assert times[0].utcoffset() == datetime.timedelta(hours=1)


def test_monthly_first_tuesday_across_the_autumn_change(settings):
    settings.TIME_ZONE = "Europe/London"
    rule = schedule(Frequency.MONTHLY, nth=WeekOfMonth.FIRST)
    times = next_occurrences(rule, datetime.datetime(2026, 10, 1, tzinfo=LONDON), 3)
    assert [t.date() for t in times] == [
        datetime.date(2026, 10, 6),
        datetime.date(2026, 11, 3),
        datetime.date(2026, 12, 1),
    ]
    assert [t.utcoffset().seconds // 3600 for t in times] == [1, 0, 0]
    last = next_occurrences(schedule(Frequency.MONTHLY, nth=WeekOfMonth.LAST), times[0], 1)
    assert last[0].date() == datetime.date(2026, 10, 27)


def test_quarterly_meets_in_the_anchor_months(settings):
    rule = schedule(Frequency.QUARTERLY, weekday=Weekday.THURSDAY, nth=2, anchor=datetime.date(2026, 1, 5))
    times = next_occurrences(rule, datetime.datetime(2026, 2, 1, tzinfo=LONDON), 2)
    assert [t.date() for t in times] == [datetime.date(2026, 4, 9), datetime.date(2026, 7, 9)]


def test_sessions_schedule_is_idempotent(forum):
    created = sessions_schedule(forum=forum, horizon_days=30)
    assert 4 <= len(created) <= 5
    assert sessions_schedule(forum=forum, horizon_days=30) == []
    assert forum.sessions.count() == len(created)


def test_pack_cannot_be_sent_without_a_decision_requested(forum, pm):
    session = Session.objects.create(forum=forum, scheduled_at=timezone.now() + datetime.timedelta(days=2))
    ok, reason = session.can_send_pack()
    assert not ok and "decision requested" in reason
    response = pytest.importorskip("django.test").Client()
    response.force_login(pm)
    answer = response.post(reverse("forums:session-mark-pack-sent", kwargs={"pk": session.pk}))
    assert answer.status_code == 400
    session.refresh_from_db()
    assert session.state == SessionState.SCHEDULED


def test_state_moves_and_an_illegal_move_is_409(forum, pm, client_for, api_for):
    session = Session.objects.create(
        forum=forum,
        scheduled_at=timezone.now() + datetime.timedelta(days=2),
        decision_requested="Scale to branch B?",
    )
    client = client_for(pm)
    for move, state in [
        ("mark-pack-sent", "pack_sent"),
        ("start", "in_progress"),
        ("end-meeting", "held"),
    ]:
        answer = client.post(reverse(f"forums:session-{move}", kwargs={"pk": session.pk}))
        assert answer.status_code == 302
        session.refresh_from_db()
        assert session.state == state
    # "Pack sent" is reached by sending the pack, never by a bare change of state.
    assert session.pack.sent_at is not None and session.pack.pdf_sha256
    answer = client.post(reverse("forums:session-start", kwargs={"pk": session.pk}))
    assert answer.status_code == 409
    api = api_for(pm)
    answer = api.post(f"/api/v1/forum-sessions/{session.pk}/start/")
    assert answer.status_code == 409
    answer = api.post(f"/api/v1/forum-sessions/{session.pk}/publish-minutes/")
    assert answer.status_code == 200 and answer.json()["state"] == "minutes_published"
    with pytest.raises(TransitionNotAllowed):
        session.refresh_from_db()
        session.end_meeting(by=pm)


def test_design_rule_findings(pm, capability):
    forum = Forum.objects.create(
        name="Quarterly", cadence=Cadence.QUARTERLY_PORTFOLIO_REVIEW, owner=pm, time_of_day=datetime.time(10)
    )
    Session.objects.create(forum=forum, scheduled_at=timezone.now() + datetime.timedelta(days=3))
    findings = " ".join(forum_rule_findings(forum))
    assert "decision type" in findings
    assert "no attendees" in findings
    assert "retire" in findings
    assert "no decision requested" in findings
    forum.decision_types = ["fund", "retire"]
    forum.attendee_roles = ["executive"]
    forum.save()
    forum.sessions.update(decision_requested="Fund platform?")
    assert forum_rule_findings(forum) == []


def test_a_weekly_review_lists_open_actions_without_a_reopen_trigger(pm, capability, other_capability):
    from actions.models import ReopenTrigger
    from actions.tests.factories import ActionFactory

    forum = Forum.objects.create(
        name="Weekly",
        cadence=Cadence.WEEKLY_OPS_REVIEW,
        owner=pm,
        time_of_day=datetime.time(10),
        decision_types=["continue"],
        attendee_roles=["ai_pm"],
    )
    forum.scope.set([capability])
    bare = ActionFactory(capability=capability)
    covered = ActionFactory(capability=capability)
    ReopenTrigger.objects.create(action=covered, kind="recheck_date", recheck_on=datetime.date(2027, 1, 4))
    ActionFactory(capability=capability, status="closed")
    ActionFactory(capability=other_capability)  # outside the forum's scope

    findings = forum_rule_findings(forum)

    assert findings == [
        f"Every action has a reopen trigger: 1 open actions in scope have none ({bare.readable_id})."
    ]


def test_calendar_shows_next_sessions_and_findings(forum, pm, client_for):
    sessions_schedule(forum=forum, horizon_days=14)
    page = client_for(pm).get(reverse("forums:calendar"))
    assert page.status_code == 200
    first = forum.sessions.order_by("scheduled_at").first()
    assert timezone.localtime(first.scheduled_at).strftime("%Y-%m-%d %H:%M") in page.content.decode()
    assert "has no decision requested" in page.content.decode()
    assert reverse("forums:session-detail", kwargs={"pk": first.pk}) in page.content.decode()
    # The monthly memos and quarterly reviews are one click from the calendar.
    assert reverse("forums:memo-list") in page.content.decode()
    assert reverse("forums:portfolio-review-list") in page.content.decode()


def test_ical_contains_sessions_and_refuses_a_bad_token(forum, pm, client):
    from releases.services import calendar_token_for

    sessions_schedule(forum=forum, horizon_days=14)
    token = calendar_token_for(pm)
    answer = client.get(reverse("forums:ical", kwargs={"token": token.token}))
    assert answer.status_code == 200
    body = answer.content.decode()
    assert body.count("BEGIN:VEVENT") == forum.sessions.count()
    assert "Weekly ops review" in body
    assert client.get(reverse("forums:ical", kwargs={"token": "nope"})).status_code == 404


def test_viewer_403_outsider_404_and_get_on_post_405(forum, viewer, outsider, pm, client_for):
    session = Session.objects.create(forum=forum, scheduled_at=timezone.now() + datetime.timedelta(days=2))
    move = reverse("forums:session-start", kwargs={"pk": session.pk})
    assert client_for(viewer).get(session.get_absolute_url()).status_code == 200
    assert client_for(viewer).post(move).status_code == 403
    assert client_for(viewer).get(reverse("forums:forum-edit", kwargs={"pk": forum.pk})).status_code == 403
    assert client_for(outsider).get(forum.get_absolute_url()).status_code == 404
    assert client_for(outsider).post(move).status_code == 404
    assert client_for(pm).get(move).status_code == 405
    session.refresh_from_db()
    assert session.state == SessionState.SCHEDULED


def test_forum_create_page_defaults_the_weekly_agenda(pm, capability, client_for):
    answer = client_for(pm).post(
        reverse("forums:forum-create"),
        {
            "name": "Weekly ops",
            "cadence": "weekly_ops_review",
            "owner": pm.pk,
            "attendees": [pm.pk],
            "attendee_roles": ["ai_pm"],
            "decision_types": ["continue"],
            "frequency": "weekly",
            "weekday": 1,
            "time_of_day": "10:00",
            "duration_minutes": 75,
            "scope": [capability.pk],
            "agenda": "",
        },
    )
    assert answer.status_code == 302, answer.content.decode()[:2000]
    forum = Forum.objects.get(name="Weekly ops")
    assert len(forum.agenda) == 8 and sum(b["minutes"] for b in forum.agenda) == 75
    assert forum.sessions.exists()


def test_the_calendars_query_count_does_not_grow_with_forums(
    pm, capability, client_for, django_assert_max_num_queries
):
    def add_forums(count, start):
        for n in range(start, start + count):
            made = forum_create(
                by=pm,
                scope=[capability],
                attendees=[pm] if n % 2 else [],
                name=f"Forum {n}",
                cadence=Cadence.WEEKLY_OPS_REVIEW,
                owner=pm,
                attendee_roles=[],
                decision_types=[] if n % 3 else ["continue"],
                frequency=Frequency.WEEKLY,
                weekday=Weekday.TUESDAY,
                time_of_day=datetime.time(10, 0),
            )
            sessions_schedule(forum=made, horizon_days=14)

    client = client_for(pm)
    add_forums(2, 0)
    client.get(reverse("forums:calendar"))  # the first visit creates the person's feed token
    with django_assert_max_num_queries(60) as small:
        client.get(reverse("forums:calendar"))
    add_forums(18, 2)
    with django_assert_max_num_queries(60) as large:
        page = client.get(reverse("forums:calendar"))
    assert len(large.captured_queries) == len(small.captured_queries)
    # The findings are still right per forum: the ones without people or decision types say so.
    assert page.content.decode().count("has no attendees") == 10


def test_every_playbook_cadence_starts_from_an_agenda_whose_blocks_show_live_inputs():
    from forums.choices import Cadence, default_agenda
    from forums.meeting import block_kind

    for cadence in Cadence.values:
        agenda = default_agenda(cadence)
        if cadence == Cadence.CUSTOM:
            assert agenda == []
            continue
        assert agenda and all(block["minutes"] > 0 and block["title"] for block in agenda), cadence
        # Every agenda opens with what the forum is asked to decide (rule 6.2).
        assert block_kind(agenda[0]["title"]) == "decisions", cadence
    monthly = default_agenda(Cadence.MONTHLY_VALUE_REVIEW)
    assert sum(block["minutes"] for block in monthly) == 90
    assert {"outcome", "adoption", "quality", "risk", "cost", "releases"} <= {
        block_kind(block["title"]) for block in monthly
    }


def test_the_owner_of_a_forum_runs_it_without_a_role_on_its_rows(make_person, capability):
    """Playbook 6.1: every forum has an owner. An organisation-wide monthly review owned by a PM
    of some capabilities is theirs to run."""
    owner = make_person("ai_pm", capability)
    forum = Forum.objects.create(
        name="Monthly value review",
        cadence="monthly_value_review",
        owner=owner,
        time_of_day=datetime.time(14),
    )
    other_pm = make_person("ai_pm", capability)
    assert forum.can_be_changed_by(owner)
    assert not forum.can_be_changed_by(other_pm)
