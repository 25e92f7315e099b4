"""The 16.2 formula and the 16.3 review rules, on unsaved items: no database (pytest-django
refuses any query in these tests, so the ranking is proven pure)."""

import pytest

from portfolio.backlog_ranking import backlog_rank
from portfolio.choices import SCORE_PARTS, BacklogBand, priority_score
from portfolio.models import BacklogItem
from portfolio.tests.backlog_factories import parts_for

CC, AML, KYC = 1, 2, 3


def item(pk, score=0, *, capability=CC, cls="quality_fix", linked=True, **fields):
    """An unsaved item with the given priority score, linked to evidence unless ``linked=False``."""
    values = {**parts_for(score), **{name: fields.pop(name) for name in list(fields) if name in SCORE_PARTS}}
    return BacklogItem(
        id=pk,
        readable_id=f"BLI-{pk:04d}",
        capability_id=capability,
        title=f"Item {pk}",
        item_class=cls,
        evidence_content_type_id=7 if linked else None,
        evidence_object_id=pk if linked else None,
        **values,
        **fields,
    )


def ranked_ids(entries, band=None):
    return [entry.item.pk for entry in entries if band is None or entry.band == band]


def entry_of(entries, pk):
    return next(entry for entry in entries if entry.item.pk == pk)


# --- the formula (16.2) ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "parts, expected",
    [
        ((0, 0, 0, 0, 0, 0, 0, 0), 0),
        ((5, 5, 5, 5, 5, 5, 0, 0), 30),
        ((0, 0, 0, 0, 0, 0, 5, 5), -10),
        ((3, 1, 4, 0, 2, 1, 2, 3), 6),
        ((1, 0, 0, 0, 0, 0, 4, 2), -5),
        ((0, 2, 0, 1, 0, 0, 3, 0), 0),
        ((2, 5, 1, 1, 4, 2, 1, 0), 14),
    ],
)
def test_the_priority_score_is_the_sum_of_benefits_minus_effort_and_saturation(parts, expected):
    values = dict(zip(SCORE_PARTS, parts, strict=True))
    assert priority_score(values) == expected
    assert priority_score(BacklogItem(**values)) == expected
    # The ranking reads the same formula.
    (entry,) = backlog_rank([item(1, **values)])
    assert entry.score == expected


def test_the_formula_subtracts_effort_and_saturation_and_adds_every_benefit():
    base = priority_score(dict.fromkeys(SCORE_PARTS, 1))
    assert base == 6 - 2
    for name in SCORE_PARTS:
        bumped = priority_score({**dict.fromkeys(SCORE_PARTS, 1), name: 2})
        assert bumped == (base - 1 if name in ("delivery_effort", "change_saturation") else base + 1), name


# --- 16.3: risk and customer harm override the score ----------------------------------------


def test_a_harm_override_ranks_first_whatever_its_score():
    entries = backlog_rank(
        [
            item(1, 20),
            item(
                2, -8, cls="risk_control", risk_override=True, override_reason="Vulnerable customers pressed"
            ),
            item(3, 15),
        ]
    )
    assert ranked_ids(entries)[:3] == [2, 1, 3]
    override = entry_of(entries, 2)
    assert override.band == BacklogBand.TOP
    assert override.position == 1
    assert "override" in override.reasons[0].lower()
    assert "Vulnerable customers pressed" in override.reasons[0]


# --- 16.3: Sev1/Sev2 incident corrective items outrank cosmetic ones --------------------------


def test_sev1_and_sev2_corrections_outrank_higher_scoring_work_and_sev3_does_not():
    entries = backlog_rank(
        [
            item(1, 15, cls="adoption_fix"),  # cosmetic: neither override nor high-severity correction
            item(2, 1, incident_severity="sev2"),
            item(3, 0, incident_severity="sev1"),
            item(4, 2, incident_severity="sev3"),
            item(5, 9, cls="risk_control"),
        ]
    )
    assert ranked_ids(entries) == [3, 2, 1, 5, 4]
    assert "Sev1" in entry_of(entries, 3).reasons[0]
    assert "Sev2" in entry_of(entries, 2).reasons[0]
    assert "ranked by its score" in entry_of(entries, 4).reasons[0]


def test_an_override_still_outranks_a_sev1_correction():
    entries = backlog_rank(
        [item(1, 10, incident_severity="sev1"), item(2, 0, risk_override=True, override_reason="Harm")]
    )
    assert ranked_ids(entries) == [2, 1]


# --- 16.3: evidence gaps outrank scale decisions ---------------------------------------------


def test_an_evidence_gap_outranks_its_capabilitys_outcome_and_adoption_items_but_nothing_else():
    entries = backlog_rank(
        [
            item(1, 12, cls="outcome_improvement"),
            item(2, 10, cls="adoption_fix"),
            item(3, 2, cls="evidence_gap"),
            item(4, 12, cls="quality_fix"),  # not a scale decision: keeps its place above the gap
            item(5, 12, cls="outcome_improvement", capability=AML),  # another capability: no gap there
        ]
    )
    assert ranked_ids(entries) == [4, 5, 3, 1, 2]
    held = entry_of(entries, 1)
    assert held.effective_score == 2 and held.score == 12
    assert any(
        "evidence gaps outrank scale decisions" in reason and "BLI-0003" in reason for reason in held.reasons
    )
    assert any("Evidence gap" in reason for reason in entry_of(entries, 3).reasons)
    assert entry_of(entries, 5).effective_score == 12


def test_a_scale_item_stays_below_every_open_gap_of_its_capability():
    entries = backlog_rank(
        [item(1, 9, cls="evidence_gap"), item(2, 4, cls="evidence_gap"), item(3, 8, cls="adoption_fix")]
    )
    assert ranked_ids(entries) == [1, 2, 3]


def test_a_closed_evidence_gap_no_longer_holds_scale_items_down():
    entries = backlog_rank(
        [item(1, 2, cls="evidence_gap", status="done"), item(2, 12, cls="outcome_improvement")]
    )
    assert entry_of(entries, 2).effective_score == 12


# --- 16.3: platform reuse when several capabilities repeat a problem ------------------------


def test_a_problem_raised_on_two_capabilities_is_grouped_and_outranks_local_feature_work():
    entries = backlog_rank(
        [
            item(1, 6, cls="outcome_improvement"),  # local feature work, same score
            item(2, 6, problem_key="evidence-citation"),
            item(3, 5, capability=AML, problem_key="evidence-citation"),
            item(4, 7, cls="adoption_fix", problem_key="local-only"),
        ]
    )
    shared = entry_of(entries, 2)
    assert shared.shared_capabilities == 2
    assert shared.effective_score == 7
    assert entry_of(entries, 4).shared_capabilities == 1  # one capability: no group, no bonus
    assert entry_of(entries, 4).effective_score == 7
    on_cc = [pk for pk in ranked_ids(entries) if pk in (1, 2, 4)]
    assert on_cc.index(2) < on_cc.index(1)
    assert any("evidence-citation" in reason and "2 capabilities" in reason for reason in shared.reasons)


def test_the_problem_spread_counts_capabilities_the_reader_does_not_see():
    (entry,) = backlog_rank([item(1, 3, problem_key="reason-codes")], problem_spread={"reason-codes": 3})
    assert entry.shared_capabilities == 3
    assert entry.effective_score == 5


# --- 16.3: no item enters the top band without an evidence link -----------------------------


def test_an_item_without_an_evidence_link_never_enters_the_top_band_and_says_why():
    entries = backlog_rank(
        [item(1, 25, linked=False), *[item(pk, 10 - pk) for pk in range(2, 9)]],
        top_size=5,
    )
    unlinked = entry_of(entries, 1)
    assert unlinked.position == 1  # first by rank ...
    assert unlinked.band == BacklogBand.NEXT  # ... but capped at the next band
    assert any("no evidence link" in reason.lower() for reason in unlinked.reasons)
    assert ranked_ids(entries, BacklogBand.TOP) == [2, 3, 4, 5, 6]
    assert not unlinked.in_portfolio_top


def test_even_an_override_without_an_evidence_link_stays_out_of_the_top_band():
    entries = backlog_rank([item(1, 0, risk_override=True, override_reason="Harm", linked=False), item(2, 3)])
    assert entry_of(entries, 1).band == BacklogBand.NEXT
    assert entry_of(entries, 2).band == BacklogBand.TOP


def test_an_unlinked_item_lower_down_says_it_cannot_reach_the_top_band():
    entries = backlog_rank([item(1, 9), item(2, 1, linked=False)], top_size=1)
    assert entry_of(entries, 2).band == BacklogBand.NEXT
    assert any("no evidence link" in reason.lower() for reason in entry_of(entries, 2).reasons)


# --- 16.3: retirement candidates have their own quarterly list -------------------------------


def test_retirement_candidates_go_to_their_own_list_not_the_bottom_of_the_backlog():
    entries = backlog_rank(
        [item(1, 20, cls="retirement"), item(2, 3), item(3, -4), item(4, 1, cls="retirement")]
    )
    retirement = [entry for entry in entries if entry.band == BacklogBand.RETIREMENT]
    assert [entry.item.pk for entry in retirement] == [1, 4]
    assert [entry.position for entry in retirement] == [1, 2]
    assert all("quarterly" in entry.reasons[0] for entry in retirement)
    # Not ranked against delivery work: the delivery items' ranks ignore them.
    assert [entry_of(entries, pk).position for pk in (2, 3)] == [1, 2]
    assert ranked_ids(entries, BacklogBand.TOP) == [2, 3]


# --- bands ------------------------------------------------------------------------------------


def test_bands_are_per_capability_with_configurable_sizes():
    items = [item(pk, 20 - pk) for pk in range(1, 9)] + [
        item(pk, 20 - pk, capability=AML) for pk in range(11, 14)
    ]
    entries = backlog_rank(items, top_size=2, next_size=3)
    assert ranked_ids(entries, BacklogBand.TOP) == [1, 2, 11, 12]
    assert ranked_ids(entries, BacklogBand.NEXT) == [3, 4, 5, 13]
    assert ranked_ids(entries, BacklogBand.LATER) == [6, 7, 8]


def test_the_default_top_band_is_five_and_settings_change_it(settings):
    items = [item(pk, 10) for pk in range(1, 8)]
    assert len(ranked_ids(backlog_rank(items), BacklogBand.TOP)) == 5
    settings.BACKLOG_TOP_BAND_SIZE = 3
    assert len(ranked_ids(backlog_rank(items), BacklogBand.TOP)) == 3


def test_the_portfolio_top_list_takes_linked_items_across_capabilities():
    entries = backlog_rank(
        [item(1, 9), item(2, 8, capability=AML), item(3, 30, capability=KYC, linked=False), item(4, 7)],
        portfolio_top_size=2,
    )
    top = sorted(
        (entry for entry in entries if entry.in_portfolio_top), key=lambda entry: entry.portfolio_position
    )
    assert [entry.item.pk for entry in top] == [1, 2]
    assert any("Portfolio top list: #1" in reason for reason in entry_of(entries, 1).reasons)


def test_done_and_dropped_items_are_not_ranked():
    entries = backlog_rank([item(1, 30, status="done"), item(2, 30, status="dropped"), item(3, 1)])
    assert entry_of(entries, 3).position == 1 and entry_of(entries, 3).band == BacklogBand.TOP
    assert {entry_of(entries, pk).band for pk in (1, 2)} == {BacklogBand.CLOSED}
    assert ranked_ids(entries)[-2:] == [1, 2]


def test_every_ranked_item_says_its_score_and_its_band():
    entries = backlog_rank([item(1, 4, delivery_effort=2)])
    reasons = entries[0].reasons
    assert any(reason.startswith("Top band") for reason in reasons)
    assert reasons[-1].startswith("Priority score 2 =")
