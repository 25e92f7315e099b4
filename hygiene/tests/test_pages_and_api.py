"""The hygiene pages and API as a PM, a viewer and another capability's PM see them; the score
on the boards and in a review pack; the checks after a forum session."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from actions.tests.factories import ActionFactory
from decisions.models import Decision
from hygiene.models import Finding, Run, Waiver
from hygiene.services import hygiene_run

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def findings(capability, healthy, make_contract, pm, today):
    """A run with a high finding (contract without owner) and a medium one (overdue action)."""
    contract = make_contract(business_owner=None, metric_id="cc_agent_assist.no_owner")
    action = ActionFactory(capability=capability, owner=pm, due_date=today - 3 * DAY)
    run = hygiene_run(capability=capability)
    return {
        "run": run,
        "contract": contract,
        "action": action,
        "high": run.findings.get(check_id="metric_without_owner"),
        "medium": run.findings.get(check_id="overdue_actions"),
    }


def test_the_pm_sees_findings_by_severity_linked_to_the_records_at_fault(
    client_for, pm, capability, findings
):
    page = client_for(pm).get(reverse("hygiene:capability", args=[capability.slug]))
    assert page.status_code == 200
    html = page.content.decode()
    assert f"data-score>{findings['run'].score}<" in html
    high = html.index('id="severity-high"')
    medium = html.index('id="severity-medium"')
    assert high < html.index("cc_agent_assist.no_owner has no business owner") < medium
    assert medium < html.index(f"{findings['action'].readable_id} is 3 day(s) overdue")
    assert f'href="{findings["contract"].get_absolute_url()}"' in html
    assert f'href="{findings["action"].get_absolute_url()}"' in html
    assert "A metric contract with an owner and an action rule." in html  # the playbook's fix
    assert html.count(">Waive</summary>") == 2  # the PM is accountable for both checks
    assert "Plotly.newPlot" in html and "cdn" not in html.lower().split("plotly.min.js")[0][-200:]


def test_another_capabilitys_pm_gets_404_and_a_viewer_cannot_waive(
    client_for, outsider, viewer, capability, findings
):
    url = reverse("hygiene:capability", args=[capability.slug])
    assert client_for(outsider).get(url).status_code == 404
    waive = reverse("hygiene:finding-waive", args=[findings["high"].pk])
    assert client_for(outsider).post(waive, {}).status_code == 404
    page = client_for(viewer).get(url)
    assert page.status_code == 200 and ">Waive</summary>" not in page.content.decode()
    response = client_for(viewer).post(
        waive,
        {f"waive-{findings['high'].pk}-reason": "x", f"waive-{findings['high'].pk}-expires_on": "2099-01-01"},
    )
    assert response.status_code == 403
    assert not Waiver.objects.exists()


def waive_data(finding, reason="Owner starts next month", days=20):
    prefix = f"waive-{finding.pk}"
    return {
        f"{prefix}-reason": reason,
        f"{prefix}-expires_on": (timezone.localdate() + days * DAY).isoformat(),
    }


def test_waiving_with_htmx_swaps_the_row_and_logs_the_decision(client_for, pm, findings):
    finding = findings["high"]
    url = reverse("hygiene:finding-waive", args=[finding.pk])
    response = client_for(pm).post(url, waive_data(finding), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert html.strip().startswith("<li") and f'id="finding-{finding.pk}"' in html
    assert 'data-waived="true"' in html and "Waived by" in html
    waiver = Waiver.objects.get()
    assert waiver.decision.readable_id in html
    assert Decision.objects.get().type == "risk_acceptance"


def test_a_refused_waiver_shows_the_field_error_in_the_row(client_for, pm, findings):
    finding = findings["high"]
    url = reverse("hygiene:finding-waive", args=[finding.pk])
    response = client_for(pm).post(url, waive_data(finding, days=400), HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "at most 180 days" in html and 'data-waived="false"' in html
    assert not Waiver.objects.exists() and not Decision.objects.exists()


def test_waiving_without_javascript_redirects_to_the_page(client_for, pm, capability, findings):
    finding = findings["medium"]
    url = reverse("hygiene:finding-waive", args=[finding.pk])
    assert "Waive and log the decision" in client_for(pm).get(url).content.decode()
    response = client_for(pm).post(url, waive_data(finding))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/hygiene/{capability.slug}/#finding-{finding.pk}")
    page = client_for(pm).get(reverse("hygiene:capability", args=[capability.slug])).content.decode()
    assert "Finding waived until" in page and "1 waived finding" in page


def test_an_expired_waiver_shows_the_finding_open_again(client_for, pm, capability, findings):
    finding = findings["medium"]
    client_for(pm).post(reverse("hygiene:finding-waive", args=[finding.pk]), waive_data(finding))
    Waiver.objects.update(expires_on=timezone.localdate() - DAY)
    page = client_for(pm).get(reverse("hygiene:capability", args=[capability.slug])).content.decode()
    assert "the finding counts again" in page
    assert "waived finding" not in page


def test_the_portfolio_page_lists_each_capability_score(
    client_for, executive, capability, other_capability, findings
):
    hygiene_run(capability=other_capability)
    page = client_for(executive).get(reverse("hygiene:index")).content.decode()
    assert (
        f'data-capability="{capability.slug}"' in page
        and f'data-capability="{other_capability.slug}"' in page
    )
    assert "cc_agent_assist.no_owner has no business owner" in page


def test_run_now_needs_a_post_and_the_right_role(client_for, pm, viewer, capability, healthy):
    url = reverse("hygiene:run", args=[capability.slug])
    assert client_for(pm).get(url).status_code == 405
    assert client_for(viewer).post(url).status_code == 403
    assert client_for(pm).post(url).status_code == 302
    assert Run.objects.filter(capability=capability, trigger="manual").count() == 1


def test_the_page_takes_the_same_queries_with_ten_times_the_findings(
    client_for, pm, capability, healthy, today, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(2):
        ActionFactory(capability=capability, owner=pm, due_date=today - DAY)
    hygiene_run(capability=capability)
    client = client_for(pm)
    url = reverse("hygiene:capability", args=[capability.slug])
    client.get(url)
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    for _ in range(18):
        ActionFactory(capability=capability, owner=pm, due_date=today - DAY)
    hygiene_run(capability=capability)
    with django_assert_num_queries(len(small.captured_queries)):
        page = client.get(url)
    assert page.content.decode().count('data-check="overdue_actions" data-severity') == 20


def test_the_board_shows_the_score(client_for, pm, capability, findings):
    page = client_for(pm).get(reverse("boards:weekly") + f"?capability={capability.slug}").content.decode()
    assert 'id="board-hygiene"' in page
    assert f"data-score>{findings['run'].score}<" in page


def test_a_pack_shows_the_score_as_it_stood_when_built(capability, findings):
    from django.template.loader import render_to_string

    from productops.formats import local_iso

    built_at = findings["run"].started_at + datetime.timedelta(minutes=2)
    meta = {"capabilities": [capability.name], "built_at": local_iso(built_at)}
    html = render_to_string("hygiene/_score.html", {"pack_meta": meta})
    assert f"{capability.name} <strong>{findings['run'].score}/100</strong>" in html
    Run.objects.create(  # a run made after the pack was built
        capability=capability, as_of=timezone.localdate(), trigger="manual", score=1, started_at=built_at
    )
    assert render_to_string("hygiene/_score.html", {"pack_meta": meta}) == html  # frozen
    before_any_run = local_iso(findings["run"].started_at - datetime.timedelta(minutes=1))
    earlier = {"capabilities": [capability.name], "built_at": before_any_run}
    assert "Ops hygiene" not in render_to_string("hygiene/_score.html", {"pack_meta": earlier})


def test_publishing_a_sessions_minutes_runs_the_checks(
    capability, pm, healthy, django_capture_on_commit_callbacks
):
    from forums.models import Forum, Session
    from forums.signals import minutes_published

    forum = Forum.objects.create(
        name="Weekly", cadence="weekly_ops_review", owner=pm, time_of_day=datetime.time(10)
    )
    forum.scope.add(capability)
    session = Session.objects.create(forum=forum, scheduled_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        minutes_published.send(sender=Session, session=session)
    assert list(Run.objects.values_list("capability_id", "trigger")) == [(capability.pk, "forum")]


# --- API -----------------------------------------------------------------------------------------


def test_the_api_lists_the_findings_a_person_may_see(api_for, pm, outsider, capability, findings):
    body = api_for(pm).get("/api/v1/hygiene-findings/?latest=true&severity=high").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["capability"] == capability.slug and row["check_id"] == "metric_without_owner"
    assert row["refs"][0]["url"] == findings["contract"].get_absolute_url()
    assert api_for(outsider).get("/api/v1/hygiene-findings/").json()["count"] == 0
    assert api_for(outsider).get(f"/api/v1/hygiene-findings/{findings['high'].pk}/").status_code == 404


def test_the_api_is_read_only_but_waives(api_for, pm, viewer, findings):
    api = api_for(pm)
    assert api.post("/api/v1/hygiene-findings/", {}).status_code == 405
    url = f"/api/v1/hygiene-findings/{findings['high'].pk}/waive/"
    assert api_for(viewer).post(url, {"reason": "x", "expires_on": "2099-01-01"}).status_code == 403
    bad = api.post(url, {"reason": "Accepted", "expires_on": (timezone.localdate() + 365 * DAY).isoformat()})
    assert bad.status_code == 400 and list(bad.json()) == ["expires_on"]
    ok = api.post(url, {"reason": "Accepted", "expires_on": (timezone.localdate() + 10 * DAY).isoformat()})
    assert ok.status_code == 201
    assert ok.json()["decision"] == Decision.objects.get().readable_id
    assert Finding.objects.count() == 2  # nothing else written


def test_the_board_line_shows_each_capabilitys_latest_run_lowest_first_and_only_what_the_reader_sees(
    client_for, pm, executive, capability, other_capability, today
):
    from portfolio.tests.factories import CapabilityFactory

    third = CapabilityFactory(name="Collections assistant", slug="collections")
    now = timezone.now()

    def run(on, score, high, hours_ago, **extra):
        return Run.objects.create(
            capability=on,
            started_at=now - datetime.timedelta(hours=hours_ago),
            trigger="scheduled",
            as_of=today,
            score=score,
            high=high,
            **extra,
        )

    run(capability, 20, 4, hours_ago=48)  # older, lower: not the latest
    run(capability, 81, 1, hours_ago=2)
    run(other_capability, 64, 2, hours_ago=5)
    same_time = now - datetime.timedelta(hours=1)
    Run.objects.create(
        capability=third, started_at=same_time, trigger="scheduled", as_of=today, score=10, high=0
    )
    # Two runs at the same moment: the later one (higher id) is the latest.
    Run.objects.create(
        capability=third, started_at=same_time, trigger="scheduled", as_of=today, score=90, high=0
    )

    organisation = client_for(executive).get(reverse("boards:weekly")).content.decode()
    line = organisation[organisation.index('id="board-hygiene"') :].split("</div>")[0]
    assert "average 78/100" in line  # (81 + 64 + 90) / 3
    shown = [
        (slug, int(score))
        for slug, score in re.findall(r'data-capability="([^"]+)">[^<]*<strong data-score>(\d+)<', line)
    ]
    assert shown == [("kyc-onboarding", 64), ("cc-agent-assist", 81), ("collections", 90)]
    assert "· 2 high" in line and "· 1 high" in line

    own = client_for(pm).get(reverse("boards:weekly")).content.decode()
    own_line = own[own.index('id="board-hygiene"') :].split("</div>")[0]
    assert re.findall(r'data-capability="([^"]+)"', own_line) == ["cc-agent-assist"]
