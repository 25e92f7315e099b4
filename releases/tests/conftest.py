"""Fixtures of the release calendar's tests: the people around a release (its owner, the
calendar's keepers, approvers, attesters) and helpers that take a release to any state through
its real moves."""

import datetime

import pytest
from django.utils import timezone

CHANGE = "Shorter, policy-cited billing suggestions"


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def architect(make_person, capability):
    """The release lead who owns the release (A/R on the release calendar)."""
    return make_person("ai_architect", capability, username="architect")


@pytest.fixture
def platform(make_person, capability):
    """Another keeper of the calendar (R): an approver who is not the owner."""
    return make_person("platform", capability, username="platform")


@pytest.fixture
def risk_partner(make_person, capability):
    """The capability's Risk / Compliance partner: approves, holds, lifts stop holds."""
    return make_person("risk_compliance", capability, username="riskpartner")


@pytest.fixture
def analyst(make_person, capability):
    """Analytics: attests the evals, approves nothing."""
    return make_person("analytics", capability, username="analyst")


@pytest.fixture
def make_release(capability, architect):
    from releases.services import release_create

    def make(**overrides):
        today = timezone.localdate()
        kwargs = {
            "by": architect,
            "capability": capability,
            "planned_date": today + datetime.timedelta(days=7),
            "object_type": "prompt",
            "change": CHANGE,
            "version_from": "v11",
            "version_to": "v12",
            "affected_population": "Billing intents, all sites",
            "owner": architect,
            "canary_plan": "North team for five days",
            "rollback_plan": "Re-pin v11 in the prompt registry",
            "post_release_review_date": today + datetime.timedelta(days=35),
        }
        kwargs.update(overrides)
        return release_create(**kwargs)

    return make


@pytest.fixture
def attest_all(analyst):
    def attest(release, by=None):
        for item in release.evidence_items.all():
            release.attest(
                by=by or analyst, item=item.key, link=f"https://evidence.example/{item.key}", note="Passed."
            )
        return release

    return attest


@pytest.fixture
def submitted(make_release, attest_all):
    """submitted(**overrides): a release with its evidence attested, submitted by its owner."""

    def make(**overrides):
        release = attest_all(make_release(**overrides))
        release.submit(by=release.owner)
        return release

    return make


@pytest.fixture
def released(submitted, risk_partner):
    """released(**overrides): approved by the risk partner and deployed to everyone."""

    def make(on=None, **overrides):
        release = submitted(**overrides)
        release.approve(by=risk_partner, comment="Evidence complete.", on=on)
        release.deploy(by=release.owner, to="released", on=on)
        return release

    return make
