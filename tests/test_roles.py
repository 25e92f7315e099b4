"""The playbook's RACI table (section 17) as data, and the checks that read it."""

import pytest

from productops.permissions import can_change, can_view, roles_of
from productops.roles import RACI, Activity, Role, accountable_roles, letter, roles_that_change


def test_every_activity_has_a_letter_for_every_role():
    for activity in Activity.values:
        assert set(RACI[activity]) == set(Role.values)


@pytest.mark.parametrize(
    ("activity", "role", "expected"),
    [
        ("charter", "ai_pm", "A/R"),
        ("release_calendar", "ai_architect", "A/R"),
        ("quarterly_portfolio_review", "finance", "A/R"),
        ("incident_learning", "risk_compliance", "A/R"),
        ("incident_learning", "ops", "A/R"),
        ("metric_contract", "analytics", "R"),
        ("weekly_ops_review", "finance", "I"),
        ("dashboard_design", "ops", "C"),
    ],
)
def test_letters_match_the_playbook(activity, role, expected):
    assert letter(activity, role) == expected


def test_a_viewer_changes_nothing_anywhere():
    assert all(Role.VIEWER not in roles_that_change(activity) for activity in Activity.values)


def test_the_release_calendar_is_accountable_to_the_architect():
    assert accountable_roles("release_calendar") == {Role.AI_ARCHITECT}


@pytest.mark.django_db
def test_a_role_on_one_capability_gives_no_rights_on_another(make_person, capability, other_capability):
    ops_lead = make_person("ops", capability)
    assert can_view(ops_lead, capability) and not can_view(ops_lead, other_capability)
    assert can_change(ops_lead, Activity.ACTION_CLOSURE, capability)
    assert not can_change(ops_lead, Activity.ACTION_CLOSURE, other_capability)
    assert not can_change(ops_lead, Activity.CHARTER, capability)


@pytest.mark.django_db
def test_organisation_wide_and_capability_roles_add_up(make_person, capability):
    person = make_person("finance")
    from productops.models import RoleAssignment

    RoleAssignment.objects.create(user=person, role="ai_pm", capability=capability)
    person = type(person).objects.get(pk=person.pk)  # fresh object: roles are cached per object
    assert roles_of(person, capability) == {"finance", "ai_pm"}


@pytest.mark.django_db
def test_an_inactive_person_changes_nothing(make_person, capability):
    pm = make_person("ai_pm", capability)
    pm.is_active = False
    assert not can_change(pm, Activity.CHARTER, capability)
