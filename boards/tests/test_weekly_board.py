"""The weekly ops board (playbook 18.2, 18.4) on planted data: the header's four counts, the
adoption row's qualified use by cohort, the quality row's top failure classes and affected
versions, the action-closure row (open by age, blocked, due this week, reopened, overdue and the
closure quality of the last four weeks), the capability cut, who sees what, and a query count
that does not grow with the portfolio."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from actions.models import Action, ClosureEvidence
from boards.tests.sizes import build_portfolio
from contracts.models import Evaluation, Signal
from contracts.tests.factories import MetricContractFactory
from forums.models import Session
from forums.tests.test_memos import LONDON
from forums.tests.test_pack_delivery import weekly_forum
from incidents.models import Incident, RootCause
from releases.models import Release

pytestmark = pytest.mark.django_db

URL = reverse("boards:weekly")
# A Wednesday: this week's review was yesterday, the next is on Tuesday 21 April.
NOW = datetime.datetime(2026, 4, 15, 12, 0, tzinfo=LONDON)
TODAY = NOW.date()
WEEK = datetime.date(2026, 4, 6)  # the latest whole week evaluated


@pytest.fixture(autouse=True)
def _wednesday():
    with time_machine.travel(NOW, tick=False):
        yield


def days_ago(days: int) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days)


def due(days: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=days)


# Planting ----------------------------------------------------------------------------------------


def action(capability, owner, text, *, raised, due_in, status="open", **fields) -> Action:
    made = Action.objects.create(
        capability=capability,
        owner=owner,
        action=text,
        due_date=due(due_in),
        closure_criterion="QA sample of 50 back under warning",
        status=status,
        source_kind="forum_session",
        **fields,
    )
    Action.objects.filter(pk=made.pk).update(created_at=days_ago(raised))
    return made


def closed(capability, owner, reviewer, text, *, raised, closed_days_ago, evidence=None) -> Action:
    """A closed action; ``evidence`` is the verdict of its closure evidence (and who submitted it:
    ``"accepted"`` by the owner, ``"data"`` accepted from the data check, ``"sent_back"``), or None."""
    made = action(capability, owner, text, raised=raised, due_in=-1, status="closed")
    Action.objects.filter(pk=made.pk).update(closed_at=days_ago(closed_days_ago))
    if evidence:
        ClosureEvidence.objects.create(
            action=made,
            text="QA sample of 50 cases: defect class below warning.",
            submitted_by=None if evidence == "data" else owner,
            verdict="sent_back" if evidence == "sent_back" else "accepted",
            reviewed_by=reviewer,
            reviewed_at=days_ago(closed_days_ago),
        )
    return made


def plant_actions(capability, owner, reviewer) -> dict:
    """Open actions in each age bucket and named view, and closures of every quality."""
    return {
        # 0-7 days: raised 2 and 7 days ago.
        "due_soon": action(capability, owner, "Sample 50 billing calls", raised=2, due_in=3),
        "fresh": action(capability, owner, "Refresh the card article", raised=7, due_in=7),
        # 8-14 days: raised 8 and 10 days ago.
        "awaiting": action(
            capability, owner, "Re-run the eval", raised=8, due_in=6, status="awaiting_verification"
        ),
        "overdue": action(
            capability, owner, "Fix the fee prompt", raised=10, due_in=-1, status="in_progress"
        ),
        # 15-30 days.
        "blocked": action(
            capability,
            owner,
            "Add the site cut",
            raised=20,
            due_in=10,
            status="blocked",
            blocked_reason="Waiting for the CRM vendor",
        ),
        # Over 30 days, reopened once and overdue.
        "reopened": action(
            capability,
            owner,
            "Cite the policy article",
            raised=45,
            due_in=-3,
            status="reopened",
            times_reopened=1,
        ),
        # Closed in the last 28 days: two verified (one by the data check), two not.
        "verified": closed(
            capability,
            owner,
            reviewer,
            "Shorten the greeting",
            raised=9,
            closed_days_ago=5,
            evidence="accepted",
        ),
        "from_data": closed(
            capability,
            owner,
            reviewer,
            "Lower the handover rate",
            raised=13,
            closed_days_ago=3,
            evidence="data",
        ),
        "no_evidence": closed(
            capability, owner, reviewer, "Rename the intent", raised=20, closed_days_ago=10
        ),
        "sent_back": closed(
            capability,
            owner,
            reviewer,
            "Retrain the router",
            raised=6,
            closed_days_ago=2,
            evidence="sent_back",
        ),
        # Closed before the window: not counted.
        "old": closed(
            capability, owner, reviewer, "Old fix", raised=80, closed_days_ago=40, evidence="accepted"
        ),
    }


def release(capability, owner, version_to, state, **fields) -> Release:
    return Release.objects.create(
        capability=capability,
        planned_date=due(7),
        object_type=fields.pop("object_type", "prompt"),
        change=f"Prompt {version_to}",
        version_from="v11",
        version_to=version_to,
        affected_population="Billing intents",
        risk_tier=capability.risk_tier,
        owner=owner,
        rollback_plan="Re-pin the previous prompt",
        post_release_review_date=due(35),
        state=state,
        **fields,
    )


def incident(capability, reporter, title, *, occurred, state, severity="sev3", **fields) -> Incident:
    return Incident.objects.create(
        capability=capability,
        title=title,
        source=fields.pop("source", "monitoring"),
        occurred_on=TODAY - datetime.timedelta(days=occurred),
        severity=severity,
        state=state,
        reported_by=reporter,
        **fields,
    )


def plant_world(capability, pm, other_capability, outsider, make_person) -> dict:
    """``capability`` with everything the board counts; ``other_capability`` with a little of each,
    so that a cut to one must not count the other."""
    ops = make_person("ops", capability, username="ops")
    other_ops = make_person("ops", other_capability, username="other-ops")
    world = {"actions": plant_actions(capability, ops, pm)}
    action(other_capability, other_ops, "KYC overdue fix", raised=3, due_in=-2)
    closed(other_capability, other_ops, outsider, "KYC closed without evidence", raised=5, closed_days_ago=1)

    # Releases: two waiting for a verdict (submitted, on hold); a draft and a live one do not.
    live = release(capability, pm, "v12", "released", deployed_date=TODAY - datetime.timedelta(days=10))
    world["pending"] = [
        release(capability, pm, "v13", "submitted"),
        release(capability, pm, "v14", "on_hold"),
    ]
    release(capability, pm, "v15", "draft")
    release(other_capability, outsider, "kyc-p8", "submitted")

    # Incidents: two open, one closed last month, one closed on the watchlist, one from 4 months ago.
    fee = incident(
        capability,
        ops,
        "Misleading fee explanation",
        occurred=2,
        state="contained",
        severity="sev2",
        source="complaint",
        complaint_signal="misleading_answer",
        affected_versions="v12, kb-2026-04",
        contained_at=days_ago(1),
    )
    fee.affected_releases.add(live)
    dup = incident(capability, ops, "Duplicate reminder", occurred=5, state="reported")
    gone = incident(capability, ops, "Wrong greeting", occurred=30, state="closed", closed_at=days_ago(20))
    incident(
        capability,
        ops,
        "Small sample",
        occurred=12,
        state="closed",
        severity="sev4",
        on_watchlist=True,
        closed_at=days_ago(10),
    )
    ancient = incident(
        capability, ops, "Ancient outage", occurred=120, state="closed", closed_at=days_ago(100)
    )
    incident(other_capability, other_ops, "KYC false pass", occurred=1, state="reported", severity="sev1")
    for item, classes in (
        (fee, ["knowledge", "prompt"]),
        (dup, ["knowledge"]),
        (gone, ["model"]),
        (ancient, ["knowledge", "data"]),
    ):
        for cause in classes:
            RootCause.objects.create(incident=item, cause_class=cause)
    world["incidents"] = {"fee": fee, "dup": dup, "gone": gone}

    # Sessions: this coming week's review with a decision requested, and one of another forum
    # scoped to the capability without; next-but-one week's and a held one do not count.
    forum = weekly_forum(pm, capability)
    world["session"] = Session.objects.create(
        forum=forum,
        scheduled_at=NOW + datetime.timedelta(days=6),
        decision_requested="Roll back v12 for billing?",
    )
    Session.objects.create(
        forum=forum, scheduled_at=NOW + datetime.timedelta(days=13), decision_requested="Later"
    )
    Session.objects.create(
        forum=forum, scheduled_at=NOW - datetime.timedelta(days=1), decision_requested="Done", state="held"
    )
    second = weekly_forum(pm, capability, name="Weekly ops review (risk)")
    Session.objects.create(forum=second, scheduled_at=NOW + datetime.timedelta(days=2))
    other_forum = weekly_forum(outsider, other_capability, name="KYC weekly")
    Session.objects.create(
        forum=other_forum, scheduled_at=NOW + datetime.timedelta(days=1), decision_requested="KYC: expand?"
    )
    world["qualified_use"] = plant_qualified_use(capability)
    world["version_signal"] = plant_version_signal(capability)
    return world


def plant_qualified_use(capability):
    contract = MetricContractFactory(
        capability=capability,
        metric_id="cc.qualified_use",
        name="Qualified use of suggestions",
        category="adoption",
        watch="qualified_use",
        status="active",
        unit="share of eligible calls",
        direction="higher",
        is_ratio=True,
        target=0.60,
        warning=0.50,
        breach=0.40,
    )
    rows = []
    for period, value in ((WEEK - datetime.timedelta(weeks=1), 0.61), (WEEK, 0.63)):
        rows.append(
            Evaluation(
                contract=contract,
                period_start=period,
                cut="",
                value=value,
                level="ok",
                raw_level="ok",
                sample_size=1400,
                grain="week",
            )
        )
    for cut, value, level in (
        ("intent=billing", 0.48, "warning"),
        ("intent=cards", 0.71, "ok"),
        ("team=north", 0.64, "ok"),
    ):
        rows.append(
            Evaluation(
                contract=contract,
                period_start=WEEK,
                cut=cut,
                value=value,
                level=level,
                raw_level=level,
                sample_size=700,
                grain="week",
            )
        )
    Evaluation.objects.bulk_create(rows)
    return contract


def plant_version_signal(capability):
    """An open signal on the prompt version cut: the version counts as affected."""
    contract = MetricContractFactory(
        capability=capability,
        metric_id="cc.eval_pass",
        name="Eval pass rate",
        category="quality",
        watch="eval_pass_rate",
        status="active",
    )
    Signal.objects.create(
        contract=contract,
        cut="prompt_version=v12",
        level="warning",
        worst_level="warning",
        opened_period=WEEK,
        last_period=WEEK,
        observed_value=13.0,
        threshold_crossed=12.0,
    )
    # A resolved one on another version does not.
    Signal.objects.create(
        contract=contract,
        cut="prompt_version=v9",
        level="ok",
        worst_level="warning",
        opened_period=WEEK,
        last_period=WEEK,
        resolved_period=WEEK,
        observed_value=13.0,
        threshold_crossed=12.0,
    )
    return contract


@pytest.fixture
def world(capability, pm, other_capability, outsider, make_person):
    return plant_world(capability, pm, other_capability, outsider, make_person)


# Reading the page --------------------------------------------------------------------------------


def section(page: str, dom_id: str) -> str:
    """The HTML of the element with this id, to its closing tag (same-name tags counted)."""
    start = page.rindex("<", 0, page.index(f'id="{dom_id}"'))
    tag = re.match(r"<(\w+)", page[start:]).group(1)
    depth = 0
    for match in re.finditer(rf"<(/?){tag}\b[^>]*>", page[start:]):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return page[start : start + match.end()]
    raise AssertionError(f"#{dom_id} is not closed")


def counts_by_key(html: str) -> dict[str, int]:
    """{data-key: the number in its data-count} of the tiles and rows in this HTML."""
    return {
        key: int(count)
        for key, count in re.findall(r'data-key="([a-z_0-9]+)".*?data-count>\s*(\d+)\s*<', html, re.S)
    }


def tile(page: str, dom_id: str) -> int:
    html = section(page, dom_id)
    return int(re.search(r"data-count>\s*(\d+)\s*<", html[html.index(f'id="{dom_id}"') :]).group(1))


def get(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return response, response.content.decode()


# Header ------------------------------------------------------------------------------------------


def test_the_header_counts_decision_requests_releases_pending_incidents_open_and_actions_overdue(
    world, client_for, pm
):
    response, page = get(client_for(pm), capability="cc-agent-assist")
    board = response.context["weekly"]
    # One review this week asks for a decision (the other has none yet), two releases wait.
    assert [s.pk for s in board.session_decisions] == [world["session"].pk]
    assert sorted(r.pk for r in board.releases_pending) == sorted(r.pk for r in world["pending"])
    header = section(page, "weekly-header")
    assert tile(header, "tile-decisions") == 3
    assert tile(header, "tile-releases") == 2
    assert tile(header, "tile-incidents") == 2
    assert tile(header, "tile-overdue") == 2
    assert "Roll back v12 for billing?" in header
    assert "No decision requested yet" in header  # the second forum's review
    assert "Later" not in header and "Done" not in header and "KYC: expand?" not in header
    for pending in world["pending"]:
        assert f'data-release="{pending.readable_id}"' in header


# Row 1: adoption ---------------------------------------------------------------------------------


def test_the_adoption_row_shows_qualified_use_for_every_cohort(world, client_for, pm):
    response, page = get(client_for(pm), capability="cc-agent-assist")
    row = next(row for row in response.context["weekly"].rows if row.key == "adoption")
    (figure,) = row.slot("qualified_use").figures
    assert figure.contract == world["qualified_use"]
    assert figure.value == pytest.approx(0.63) and figure.period == WEEK
    assert figure.change == pytest.approx(0.02)
    cohorts = {
        dimension: [(cut["value"], cut["value_text"]) for cut in cuts] for dimension, cuts in figure.cohorts
    }
    assert cohorts == {"intent": [("billing", "48.0%"), ("cards", "71.0%")], "team": [("north", "64.0%")]}
    slot = section(page, "slot-qualified_use")
    assert 'data-metric="cc.qualified_use"' in slot and "63.0%" in slot
    # Every cohort is shown, the one past warning and the ones that are not.
    for shown in ("billing", "48.0%", "cards", "71.0%", "north", "64.0%"):
        assert shown in slot
    # A cohort past warning draws its trend card with the page (cut by cohort and version there).
    assert 'class="card po-trend-card' in slot and "po-quiet-trends" not in slot


def test_a_contract_whose_improvement_is_not_net_is_flagged_with_its_evidence(world, client_for, pm):
    """Playbook 8.3: an improvement that is not net is on the customer-harm watchlist, with the
    binder that shows why."""
    from contracts.models import MetricContract

    MetricContract.objects.filter(pk=world["qualified_use"].pk).update(
        improvement_not_net=True, improvement_not_net_reason="complaints rose with adoption"
    )
    _response, page = get(client_for(pm), capability="cc-agent-assist")
    watchlist = page[page.index('id="watchlist"') : page.index("</ul>", page.index('id="watchlist"'))]
    binder = reverse("boards:evidence", kwargs={"metric_id": "cc.qualified_use"})
    assert "Improvement not net" in watchlist and world["qualified_use"].name in watchlist
    assert f'href="{binder}"' in watchlist


# Row 2: quality ----------------------------------------------------------------------------------


def test_the_quality_row_lists_top_failure_classes_and_affected_versions(world, client_for, pm):
    response, page = get(client_for(pm), capability="cc-agent-assist")
    board = response.context["weekly"]
    fee, dup, gone = (world["incidents"][key] for key in ("fee", "dup", "gone"))
    # The last 90 days' incidents, open or closed; the 120-day-old one's classes are not counted.
    assert [(c.cause_class, [i for i, _t in c.incidents]) for c in board.failure_classes] == [
        ("knowledge", sorted([fee.readable_id, dup.readable_id])),
        ("model", [gone.readable_id]),
        ("prompt", [fee.readable_id]),
    ]
    classes = section(page, "failure-classes")
    assert re.search(r'data-class="knowledge".*?data-count>2<', classes, re.S)
    assert 'data-class="data"' not in classes

    # v12: named by the open incident's release and its text and by the open signal's cut, one
    # entry; kb-2026-04 by the incident's text; v9's signal is resolved.
    versions = {item.version: item for item in board.affected_versions}
    assert set(versions) == {"v12", "kb-2026-04"}
    assert versions["v12"].kinds == ["prompt", "prompt_version"]
    assert [label for label, _url in versions["v12"].sources] == [fee.readable_id, "cc.eval_pass"]
    shown = section(page, "affected-versions")
    assert 'data-version="v12"' in shown and 'data-version="kb-2026-04"' in shown and "v9" not in shown


# Row 5: action closure ---------------------------------------------------------------------------


def test_the_action_closure_row_counts_open_by_age_named_views_and_closure_quality(world, client_for, pm):
    response, page = get(client_for(pm), capability="cc-agent-assist")
    row = section(page, "row-actions")
    assert counts_by_key(section(row, "closure-age")) == {
        "age_0_7": 2,
        "age_8_14": 2,
        "age_15_30": 1,
        "age_over_30": 1,
    }
    assert counts_by_key(section(row, "closure-counts")) == {
        "blocked": 1,
        "due_this_week": 2,  # due in 3 and in 6 days; the one due in 7 is next week's
        "reopened": 1,
        "overdue": 2,
        "awaiting_verification": 1,
    }
    assert "?view=due_this_week&amp;capability=cc-agent-assist" in row

    quality = response.context["weekly"].closure_quality
    assert (quality.verified, quality.from_data, quality.not_verified) == (2, 1, 2)
    # Days from raised to closed: 4, 10, 10 and 4.
    assert quality.median_days == pytest.approx(7.0)
    shown = section(row, "closure-quality")
    assert re.search(r"data-verified>✓ 2<", shown)
    assert re.search(r"data-from-data>1<", shown)
    assert re.search(r"data-not-verified>✗ 2<", shown)
    assert "50%" in shown

    # Overdue, blocked or reopened, oldest first, with their age in days.
    stuck = section(row, "stuck-actions")
    actions = world["actions"]
    order = [actions[key].readable_id for key in ("reopened", "blocked", "overdue")]
    assert re.findall(r'data-action="(ACT-\d+)"', stuck) == order
    assert re.findall(r"data-age>(\d+)<", stuck) == ["45", "20", "10"]


def test_yours_counts_only_the_readers_open_actions_and_the_stuck_total_only_open_ones(world, client_for, pm):
    """The closure row, the reader's own work and the stuck total come from one statement over
    every action in scope: closed actions (past due, escalated, awaiting nothing) count in none
    of the reader's numbers."""
    from productops.models import User

    actions = world["actions"]
    Action.objects.filter(pk=actions["awaiting"].pk).update(reviewer=pm)
    Action.objects.filter(pk=actions["fresh"].pk).update(escalated_to=pm)
    Action.objects.filter(pk=actions["verified"].pk).update(escalated_to=pm, reviewer=pm)

    response, page = get(client_for(User.objects.get(username="ops")), capability="cc-agent-assist")
    yours = re.sub(r"\s+", " ", section(page, "yours"))
    # Owned by ops and past due: "overdue" and "reopened"; the four closed ones were due yesterday.
    assert "2 overdue actions" in yours
    assert "0 waiting for your verification" in yours and "0 escalated to you" in yours
    assert response.context["weekly"].stuck_total == 3  # reopened, blocked, overdue

    _response, page = get(client_for(pm), capability="cc-agent-assist")
    yours = re.sub(r"\s+", " ", section(page, "yours"))
    assert "0 overdue actions" in yours
    assert "1 waiting for your verification" in yours
    assert "1 escalated to you" in yours  # the closed one escalated to pm does not count


# The capability cut and who sees what -----------------------------------------------------------


def test_the_capability_cut_counts_only_that_capability(world, client_for, executive, other_capability):
    client = client_for(executive)
    _response, everything = get(client, capability="all")
    header = section(everything, "weekly-header")
    # Both capabilities: the KYC review's decision and release, its incident and its overdue action.
    assert tile(header, "tile-decisions") == 5
    assert tile(header, "tile-releases") == 3
    assert tile(header, "tile-incidents") == 3
    assert tile(header, "tile-overdue") == 3
    assert other_capability.name in everything

    response, kyc = get(client, capability=other_capability.slug)
    header = section(kyc, "weekly-header")
    assert [
        tile(header, key) for key in ("tile-decisions", "tile-releases", "tile-incidents", "tile-overdue")
    ] == [
        2,
        1,
        1,
        1,
    ]
    assert response.context["weekly"].closure_quality.not_verified == 1
    assert "Roll back v12" not in kyc and "Misleading fee explanation" not in kyc
    assert 'data-version="v12"' not in kyc


def test_an_outsider_sees_nothing_of_a_capability_they_hold_no_role_on(
    world, client_for, outsider, capability, other_capability
):
    client = client_for(outsider)
    response = client.get(URL, {"capability": capability.slug})
    assert response.status_code == 404
    assert "a capability you hold no role on" in response.content.decode()
    response, page = get(client)
    assert response.context["weekly"].capabilities == [other_capability]
    for secret in (
        capability.name,
        "Roll back v12",
        "Misleading fee explanation",
        "cc.qualified_use",
        world["actions"]["blocked"].readable_id,
        world["pending"][0].readable_id,
    ):
        assert secret not in page
    header = section(page, "weekly-header")
    assert tile(header, "tile-overdue") == 1 and tile(header, "tile-incidents") == 1


@pytest.mark.parametrize("asked", ["no-such-capability", "<script>alert(1)</script>", "x" * 2000, "%00"])
def test_a_bad_capability_is_a_clear_not_found_not_a_server_error(world, client_for, executive, asked):
    response = client_for(executive).get(URL, {"capability": asked})
    assert response.status_code == 404
    page = response.content.decode()
    assert "Not found" in page and "<script>alert(1)</script>" not in page


def test_the_board_answers_get_only(world, client_for, pm):
    assert client_for(pm).post(URL).status_code == 405


# Folds (18.4: an executive board shows exceptions, not noise) -----------------------------------


def quiet_contract(capability, metric_id, *, watch, category):
    """An active contract within its thresholds, whole population and cuts, with no open signal."""
    contract = MetricContractFactory(
        capability=capability,
        metric_id=metric_id,
        name=f"Quiet {metric_id}",
        category=category,
        watch=watch,
        status="active",
        unit="share of eligible calls",
        direction="higher",
        is_ratio=True,
        target=0.60,
        warning=0.50,
        breach=0.40,
    )
    Evaluation.objects.bulk_create(
        Evaluation(
            contract=contract,
            period_start=WEEK,
            cut=cut,
            value=value,
            level="ok",
            raw_level="ok",
            sample_size=900,
            grain="week",
        )
        for cut, value in (("", 0.66), ("intent=billing", 0.64))
    )
    return contract


def fold_url(key: str, capability: str = "all") -> str:
    return reverse("boards:weekly-fold", kwargs={"key": key}) + f"?capability={capability}"


def test_organisation_wide_a_slots_quiet_contracts_are_folded_and_load_when_opened(
    world, client_for, executive, other_capability
):
    quiet = quiet_contract(other_capability, "kyc.qualified_use", watch="qualified_use", category="adoption")
    client = client_for(executive)
    response, page = get(client)
    slot = section(page, "slot-qualified_use")
    # The contract with a cohort past warning is on the page, with its trend card.
    assert 'data-metric="cc.qualified_use"' in slot and 'class="card po-trend-card' in slot
    # The quiet one is not: a closed fold names how many, and loads them when opened.
    assert f'data-metric="{quiet.metric_id}"' not in slot
    fold = section(slot, "fold-qualified_use")
    assert fold.startswith("<details") and " open" not in fold[: fold.index(">")]
    assert "1 contract with nothing past warning" in fold
    url = fold_url("qualified_use")
    assert f'hx-get="{url}"' in fold and 'hx-trigger="toggle once"' in fold
    assert f'<a href="{url}">' in fold  # without JavaScript, a plain link
    # The fold: the quiet contract's figures as the board would show them, and its trend card.
    opened = client.get(url, headers={"HX-Request": "true"})
    assert opened.status_code == 200
    body = opened.content.decode()
    assert "<html" not in body
    row = re.search(rf'<tr class="" data-metric="{quiet.metric_id}" data-level="ok">.*?</tr>', body, re.S)
    assert row is not None
    for shown in ("66.0%", other_capability.name, "billing", "64.0%", "2026-04-06"):
        assert shown in row.group(0)
    assert 'data-metric="cc.qualified_use"' not in body
    assert 'hx-trigger="intersect once"' in body and f'data-metric="{quiet.metric_id}"' in body
    # Without JavaScript the same fold is a page of its own.
    page_of_its_own = client.get(url)
    assert page_of_its_own.status_code == 200 and "<html" in page_of_its_own.content.decode()
    assert f'data-metric="{quiet.metric_id}"' in page_of_its_own.content.decode()


def test_a_capabilitys_own_board_lists_its_quiet_contracts_unfolded(world, client_for, pm, capability):
    quiet = quiet_contract(capability, "cc.acceptance", watch="acceptance", category="adoption")
    _response, page = get(client_for(pm), capability="cc-agent-assist")
    slot = section(page, "slot-acceptance")
    assert f'data-metric="{quiet.metric_id}"' in slot and 'id="fold-acceptance"' not in slot


def test_a_rows_other_contracts_load_when_their_fold_is_opened(world, client_for, pm, capability):
    other = quiet_contract(capability, "cc.answer_quality", watch="", category="quality")
    client = client_for(pm)
    _response, page = get(client, capability="cc-agent-assist")
    fold = section(page, "fold-others-quality")
    assert "1 other contract of this row" in fold and f'data-metric="{other.metric_id}"' not in fold
    url = fold_url("others-quality", "cc-agent-assist")
    assert f'hx-get="{url}"' in fold
    body = client.get(url, headers={"HX-Request": "true"}).content.decode()
    assert f'data-metric="{other.metric_id}"' in body and "66.0%" in body
    # A row's other contracts are not slotted: no trend card with them, nor the slotted ones.
    assert "po-trend-card" not in body and 'data-metric="cc.qualified_use"' not in body


def test_a_fold_shows_only_what_the_reader_may_read(
    world, client_for, outsider, capability, other_capability
):
    quiet_contract(capability, "cc.acceptance", watch="acceptance", category="adoption")
    mine = quiet_contract(other_capability, "kyc.acceptance", watch="acceptance", category="adoption")
    client = client_for(outsider)
    assert client.get(fold_url("acceptance", capability.slug)).status_code == 404
    body = client.get(fold_url("acceptance"), headers={"HX-Request": "true"}).content.decode()
    assert f'data-metric="{mine.metric_id}"' in body and "cc.acceptance" not in body


@pytest.mark.parametrize("key", ["no-such-slot", "others-no-such-row", "<script>"])
def test_an_unknown_fold_is_not_found(world, client_for, executive, key):
    response = client_for(executive).get(reverse("boards:weekly-fold", kwargs={"key": key}))
    assert response.status_code == 404
    assert "<script>" not in response.content.decode()


# Queries -----------------------------------------------------------------------------------------


def test_weekly_board_queries_do_not_grow_with_the_portfolio(client, django_assert_num_queries):
    small = build_portfolio(2)
    client.force_login(small.reader)
    client.get(URL)
    with CaptureQueriesContext(connection) as queries:
        client.get(URL)
    build_portfolio(4, prefix="more")
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(URL)
    board = response.context["weekly"]
    assert len(board.capabilities) == 6
    # Each capability's contracts sit in their slots, its actions in the closure counts.
    adoption = next(row for row in board.rows if row.key == "adoption")
    assert len(adoption.slot("qualified_use").figures) == 6
    assert board.closure["blocked"] == 6 and board.closure["reopened"] == 6
    assert len(board.releases_pending) == 6
    assert board.closure_quality.verified == 6


def test_a_weekly_folds_queries_do_not_grow_with_the_portfolio(client, django_assert_num_queries):
    small = build_portfolio(2)
    client.force_login(small.reader)
    url = fold_url("qualified_use")
    client.get(url, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as queries:
        client.get(url, headers={"HX-Request": "true"})
    build_portfolio(4, prefix="more")
    with django_assert_num_queries(len(queries.captured_queries)):
        response = client.get(url, headers={"HX-Request": "true"})
    assert response.context["fold"].figures and response.context["multi"]
