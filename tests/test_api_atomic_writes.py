# ruff: noqa: F811  (the meeting's fixtures are imported by name and requested as arguments)
"""Every API write and its answer are one transaction (productops.api.AtomicWritesMixin): a
request that fails after its first write leaves nothing behind, and a new mutating view that
forgets the mixin fails the walk below."""

import pytest
from django.db import OperationalError
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from decisions.models import Decision
from forums.api.views import SessionViewSet
from forums.models import SessionOutcome
from forums.tests.test_meeting_world import (  # noqa: F401  (shared fixtures)
    _media_root,
    ops,
    running,
    session,
    weekly,
)
from productops.api import AtomicWritesMixin
from webhooks.api import serializers as webhook_serializers
from webhooks.models import Endpoint

UNSAFE = ("post", "put", "patch", "delete")


def _api_views(patterns=None, prefix=""):
    """(route, view class, its unsafe methods) for every view mounted under /api/v1/."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _api_views(entry.url_patterns, route)
        elif isinstance(entry, URLPattern) and route.startswith("api/v1/"):
            view = entry.callback
            cls = getattr(view, "cls", None)
            if cls is None:
                continue
            actions = getattr(view, "actions", None)
            methods = set(actions) if actions else {m for m in UNSAFE if hasattr(cls, m)}
            allowed = {m for m in methods & set(UNSAFE) if m in getattr(cls, "http_method_names", UNSAFE)}
            yield route, cls, allowed


def test_every_mutating_api_view_writes_in_one_transaction():
    views = list(_api_views())
    mutating = {(route, cls) for route, cls, methods in views if methods}
    assert len(mutating) > 20  # the walk found the API (decisions, forums, packs, webhooks, ingest, ...)
    assert {cls.__name__ for _route, cls in mutating} >= {
        "DecisionViewSet",
        "ForumViewSet",
        "SessionViewSet",
        "SessionPackBuildView",
        "SessionPackSendView",
        "ValueMemoViewSet",
        "PortfolioReviewViewSet",
        "ScorecardRowViewSet",
        "EndpointViewSet",
        "DeliveryViewSet",
        "SignalViewSet",
        "ObservationIngestView",
    }
    missing = sorted(
        f"{route} ({cls.__name__})" for route, cls in mutating if not issubclass(cls, AtomicWritesMixin)
    )
    assert missing == []


def _lost_database(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


def _client(user) -> APIClient:
    api = APIClient(raise_request_exception=False)
    api.force_authenticate(user)
    return api


@pytest.mark.django_db
def test_a_meeting_decision_whose_answer_fails_is_not_logged(pm, running, monkeypatch):
    """The decision log is append-only: a decision committed behind a failed answer could never be
    taken back, and the client's retry would log it twice."""
    monkeypatch.setattr(SessionViewSet, "_answer", _lost_database)
    answer = _client(pm).post(
        f"/api/v1/forum-sessions/{running.pk}/record-decision/",
        {
            "capability": running.forum.scope_list()[0].slug,
            "type": "continue",
            "decision": "Continue billing suggestions for all teams.",
            "owner": running.forum.owner_id,
            "evidence": [],
            "agenda_block": "Decision requests",
        },
        format="json",
    )
    assert answer.status_code == 503
    assert answer.json()["code"] == "database_unavailable"
    assert not Decision.objects.exists()
    assert not Decision.history.exists()
    assert not SessionOutcome.objects.filter(session=running).exists()


@pytest.mark.django_db
def test_a_webhook_endpoint_whose_answer_fails_is_not_created(make_person, monkeypatch):
    admin = make_person("ai_pm", username="org-admin")
    monkeypatch.setattr(webhook_serializers.EndpointWithSecretSerializer, "to_representation", _lost_database)
    answer = _client(admin).post(
        "/api/v1/webhooks/endpoints/",
        {
            "name": "Ops chat",
            "url": "https://chat.bank.example/hooks/productops",
            "events": ["incident.sev1"],
        },
        format="json",
    )
    assert answer.status_code == 503
    assert not Endpoint.objects.exists()
    assert not Endpoint.history.exists()
