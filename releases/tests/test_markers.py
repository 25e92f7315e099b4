"""Release markers on the contracts' trend charts: vertical lines labelled with the release id."""

import datetime

import pytest
from django.utils import timezone

from contracts.charts import contract_trend
from contracts.markers import markers_for
from contracts.tests.factories import MetricContractFactory, ObservationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(capability):
    return MetricContractFactory(capability=capability, status="active")


def test_the_capabilitys_deployed_releases_are_markers_of_its_contracts(
    contract, released, make_release, other_capability, make_person
):
    day = timezone.localdate() - datetime.timedelta(days=20)
    release = released(on=day)
    make_release(change="Not deployed yet")
    other = MetricContractFactory(capability=other_capability, status="active")
    assert markers_for(contract) == [(day, release.readable_id)]
    assert markers_for(other) == []


def test_a_rollback_is_a_marker_too(contract, released, architect):
    day = timezone.localdate() - datetime.timedelta(days=20)
    release = released(on=day)
    release.rollback(by=architect, reason="Regression", on=day + datetime.timedelta(days=3))
    assert markers_for(contract) == [
        (day, release.readable_id),
        (day + datetime.timedelta(days=3), f"{release.readable_id} rolled back"),
    ]


def test_releases_older_than_the_chart_are_left_out(contract, released):
    released(on=timezone.localdate() - datetime.timedelta(weeks=40))
    assert markers_for(contract) == []


def test_the_contract_page_chart_shows_the_release_marker(client_for, contract, released, pm):
    day = timezone.localdate() - datetime.timedelta(days=20)
    release = released(on=day)
    ObservationFactory(contract=contract, period_start=day, value=11.0)
    response = client_for(pm).get(contract.get_absolute_url())
    assert response.status_code == 200
    assert release.readable_id in response.context["chart_html"]  # the plotted figure's annotation
    fig = contract_trend(contract, markers=markers_for(contract))
    (line,) = [shape for shape in fig.layout.shapes if shape.name == "marker"]
    assert line.x0 == day and line.yref == "paper"
    assert [a.text for a in fig.layout.annotations] == [release.readable_id]
    assert fig.layout.meta["markers"] == [{"date": day, "label": release.readable_id}]
