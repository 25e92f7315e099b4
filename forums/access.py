"""Loading a forum or session for a request: 404 when none of its scope is the person's, so
another capability's forums are not even confirmed to exist."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from forums.models import Forum, Session


def get_forum_for_user(user, pk: int) -> Forum:
    forum = get_object_or_404(
        Forum.objects.select_related("owner").prefetch_related("scope", "attendees"), pk=pk
    )
    if not forum.is_visible_to(user):
        raise Http404
    return forum


def get_session_for_user(user, pk: int) -> Session:
    session = get_object_or_404(
        Session.objects.select_related("forum__owner").prefetch_related("forum__scope"), pk=pk
    )
    if not session.forum.is_visible_to(user):
        raise Http404
    return session
