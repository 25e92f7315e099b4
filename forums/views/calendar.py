"""Pages of the operating calendar: thin views over forums.services (the session page is in
``forums.views.sessions``)."""

import datetime
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from forums import services
from forums.access import get_forum_for_user
from forums.choices import activity_for
from forums.forms import ForumForm
from forums.ical import calendar_feed
from forums.models import Forum, Session
from productops.errors import DomainError
from productops.permissions import can_change, role_map

CALENDAR_WEEKS = 8


def _week_start(moment) -> datetime.date:
    day = timezone.localtime(moment).date()
    return day - datetime.timedelta(days=day.weekday())


@require_GET
def calendar(request):
    """Every visible forum's next sessions, week by week, with the 6.2 rules each breaks."""
    now = timezone.now()
    forums = list(Forum.objects.visible_to(request.user).select_related("owner").prefetch_related("scope"))
    sessions = (
        Session.objects.filter(
            forum__in=forums,
            scheduled_at__gte=now,
            scheduled_at__lt=now + datetime.timedelta(weeks=CALENDAR_WEEKS),
        )
        .select_related("forum")
        .order_by("scheduled_at")
    )
    weeks = [
        {"start": start, "sessions": list(rows)}
        for start, rows in groupby(sessions, key=lambda s: _week_start(s.scheduled_at))
    ]
    by_forum = services.forums_rule_findings(forums, now=now)
    findings = [(forum, by_forum[forum.pk]) for forum in forums]
    from releases.services import calendar_token_for

    token = calendar_token_for(request.user)
    feed_url = request.build_absolute_uri(reverse("forums:ical", kwargs={"token": token.token}))
    return render(
        request,
        "forums/calendar.html",
        {
            "weeks": weeks,
            "forums": forums,
            "findings": [(forum, items) for forum, items in findings if items],
            "feed_url": feed_url,
            "can_create": _can_create_forum(request.user),
        },
    )


def _can_create_forum(user) -> bool:
    if getattr(user, "is_superuser", False):
        return True
    scopes = list(role_map(user))
    return any(
        can_change(user, activity_for(cadence), capability)
        for capability in scopes
        for cadence in ("weekly_ops_review", "monthly_value_review", "quarterly_portfolio_review")
    )


@require_GET
def forum_detail(request, pk):
    forum = get_forum_for_user(request.user, pk)
    now = timezone.now()
    return render(
        request,
        "forums/forum_detail.html",
        {
            "forum": forum,
            "sessions": forum.sessions.filter(scheduled_at__gte=now)[:10],
            "past_sessions": forum.sessions.filter(scheduled_at__lt=now).order_by("-scheduled_at")[:5],
            "findings": services.forum_rule_findings(forum, now=now),
            "can_edit": forum.can_be_changed_by(request.user),
        },
    )


@require_http_methods(["GET", "POST"])
def forum_create(request):
    if not _can_create_forum(request.user):
        raise PermissionDenied(_("Your roles do not allow you to create forums."))
    form = ForumForm(request.POST or None, user=request.user, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        try:
            forum = services.forum_create(
                by=request.user, scope=kwargs["scope"], attendees=kwargs["attendees"], **kwargs["fields"]
            )
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            services.sessions_schedule(forum=forum)
            messages.success(
                request, _("Forum %(name)s created and its sessions scheduled.") % {"name": forum.name}
            )
            return redirect(forum)
    return render(request, "forums/forum_form.html", {"form": form, "forum": None})


@require_http_methods(["GET", "POST"])
def forum_edit(request, pk):
    forum = get_forum_for_user(request.user, pk)
    forum.require_change(request.user)
    form = ForumForm(request.POST or None, instance=forum, user=request.user)
    if request.method == "POST" and form.is_valid():
        kwargs = form.service_kwargs()
        try:
            services.forum_update(forum=Forum.objects.get(pk=forum.pk), by=request.user, **kwargs)
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            services.sessions_schedule(forum=forum)
            messages.success(request, _("Forum saved."))
            return redirect(forum)
    return render(request, "forums/forum_form.html", {"form": form, "forum": forum})


@login_not_required
@require_GET
def ical_feed(request, token):
    """The iCal feed: no login (calendar apps cannot), the token in the URL is the key."""
    from releases.services import user_for_calendar_token

    user = user_for_calendar_token(token)
    if user is None:
        raise Http404(_("No calendar feed has this address."))
    response = HttpResponse(calendar_feed(user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="productops-forums.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
