"""The monthly value board (playbook 18.3) for the Sponsor, PM, Finance and Risk: per capability,
the decision requested, outcome movement, net value, risk and adoption, and the roadmap
implication of one month.

Its figures are the monthly memo's (``forums.memos``): where the capability's memo of the month
exists, the board reads it (as sent, when it was sent); where none exists yet, the board builds
the memo the same way without storing it (``memo_drafts``). Either way the board and the memo
show one number for one thing. Everything is read in a fixed number of queries whatever the
number of capabilities, contracts or records.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Q
from django.http import Http404
from django.template.defaultfilters import urlencode
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from forums.memos import MemoDecision, memo_drafts
from forums.memos.month import regressions_in_words
from forums.memos.sections import month_after, month_before, month_start_of
from forums.memos.services import draft_matrix
from forums.models import ValueMemo
from forums.packs import LEAKAGE_CLASSES
from productops.prepared import prepared

# The order an executive reads the decisions in: what must be undone or contained first, the
# calls that change the investment next, "continue" last.
DECISION_ORDER = [
    MemoDecision.ROLLBACK_OR_HOTFIX,
    MemoDecision.RESTRICT_AND_INVESTIGATE,
    MemoDecision.RETIRE_OR_PARK,
    MemoDecision.REDESIGN_OPERATING_MODEL,
    MemoDecision.PRODUCT_WORKFLOW_REDESIGN,
    MemoDecision.REDESIGN_OR_RESTRICT,
    MemoDecision.SCALE_SELECTIVELY,
    MemoDecision.SCALE,
    MemoDecision.CONTINUE,
]
# The 18.3 wireframe's five words for the decision requested: every 8.3 decision is one of them.
DECISION_WORD = {
    MemoDecision.SCALE: "scale",
    MemoDecision.SCALE_SELECTIVELY: "scale",
    MemoDecision.REDESIGN_OR_RESTRICT: "redesign",
    MemoDecision.RESTRICT_AND_INVESTIGATE: "restrict",
    MemoDecision.PRODUCT_WORKFLOW_REDESIGN: "redesign",
    MemoDecision.RETIRE_OR_PARK: "retire",
    MemoDecision.ROLLBACK_OR_HOTFIX: "restrict",
    MemoDecision.REDESIGN_OPERATING_MODEL: "redesign",
    MemoDecision.CONTINUE: "continue",
}
DECISION_WORD_LABELS = {
    "scale": _("scale"),
    "restrict": _("restrict"),
    "redesign": _("redesign"),
    "retire": _("retire"),
    "continue": _("continue"),
}

# The parts of net value of 18.3, each with the memo lines and the value-leakage classes of 8.2
# (``forums.packs.LEAKAGE_CLASSES``) whose contracts measure it.
NET_VALUE_PARTS = [
    ("benefit", _("Benefit"), (("outcome", "outcome"),), ()),
    ("cost", _("Cost"), (("cost", "cost_per_case"),), ()),
    ("human_review", _("Human review"), (("cost", "human_review_load"),), ("human_review",)),
    ("support", _("Support"), (("cost", "support_load"),), ("support",)),
    ("rework", _("Rework"), (), ("rework",)),
    ("risk_adjustment", _("Risk adjustment"), (("risk", "complaints"), ("risk", "customer_harm")), ()),
]
PAST_WARNING = ("warning", "breach", "stop")
# Trend cards drawn with the page (the most urgent capabilities' first, as the board is sorted);
# the others load as the reader scrolls to them (the same card from the chart endpoint), as on
# the runtime and weekly boards: eighty-odd charts organisation-wide.
EAGER_CARDS = 12


# --- which capabilities a board shows -------------------------------------------------------


def month_asked(request, today: datetime.date) -> datetime.date:
    """``?month=YYYY-MM``, else the last whole month (the one the next monthly value review
    reviews). A month after this one is refused with a 404."""
    text = (request.GET.get("month") or "").strip()
    if not text:
        return month_before(today)
    try:
        month = datetime.date.fromisoformat(f"{text}-01")
    except ValueError:
        raise Http404 from None
    if month > month_start_of(today):
        raise Http404
    return month


# --- one capability's month ----------------------------------------------------------------------


@dataclass
class NetValuePart:
    key: str
    label: str
    figures: list[dict]

    @property
    def gap(self) -> bool:
        """No contract measures this part: an evidence gap, never a zero."""
        return not self.figures


@dataclass
class CapabilityMonth:
    """One capability's month as the board shows it, from its memo (or the memo it would get)."""

    capability: object
    memo: ValueMemo | None
    fields: dict
    matrix: dict
    decisions_logged: list = field(default_factory=list)
    backlog_changes: list = field(default_factory=list)
    next_release: object = None
    guardrail_ids: set = field(default_factory=set)  # metric ids of the contracts guarding another
    month: datetime.date | None = None  # the month shown, for the links to the evidence binder

    # Links to the evidence binder of a figure for the month, one address per contract.
    @cached_property
    def _binder_hrefs(self) -> dict[str, str]:
        return {}

    def binder_href(self, metric_id: str) -> str:
        """The evidence binder of a contract's figure for the month (as the board links it)."""
        href = self._binder_hrefs.get(metric_id)
        if href is None:
            link = _binder_link(metric_id, self.month)
            href = self._binder_hrefs[metric_id] = f"{link['href']}?period={link['period']}&span=month"
        return href

    def _linked(self, figures: list[dict]) -> list[dict]:
        """The figures, each with its binder link (``binder_href``), for the template."""
        return [{**f, "binder_href": self.binder_href(f["metric_id"])} for f in figures]

    # Decision requested.
    @property
    def recommendation(self) -> str:
        return self.matrix.get("decision") or MemoDecision.CONTINUE

    @property
    def recommendation_label(self) -> str:
        return self.matrix.get("label") or str(MemoDecision(self.recommendation).label)

    @property
    def decision_word(self) -> str:
        return DECISION_WORD.get(self.recommendation, "continue")

    @property
    def decision_word_label(self) -> str:
        return str(DECISION_WORD_LABELS[self.decision_word])

    @property
    def source(self) -> str:
        """Where the figures come from: the memo as sent, a draft memo, or the live data."""
        if self.memo is None:
            return "live"
        return "sent" if self.memo.is_sent else "draft"

    @property
    def decision_taken(self):
        return self.memo.decision if self.memo is not None and self.memo.decision_id else None

    @property
    def meta(self) -> dict:
        return self.fields.get("meta") or {}

    # Outcome movement.
    @property
    def figures(self) -> dict:
        return self.fields.get("figures") or {}

    @cached_property
    def outcomes(self) -> list[dict]:
        """The outcome figures, each with its cohorts sorted worse first and counted, and its
        movement and cohort table as the board shows them (HTML built once, in Python: the
        board shows hundreds of cohorts)."""
        rows = []
        for f in self.figures.get("outcome", []):
            if f.get("line") != "outcome":
                continue
            cuts = f.get("cuts") or []
            rank = {"worse": 0, "improved": 2, "flat": 1}
            row = {
                **f,
                "cuts": sorted(cuts, key=lambda c: (rank.get(c.get("moved"), 3), c["cut"])),
                "worse_cuts": [c["cut"] for c in cuts if c.get("moved") == "worse"],
                "improved_cuts": [c["cut"] for c in cuts if c.get("moved") == "improved"],
            }
            binder = _binder_link(f["metric_id"], self.month)
            row["movement_html"] = movement_html(row, binder, compact=False)
            row["movement_compact_html"] = movement_html(row, binder, compact=True)
            row["cohort_rows_html"] = cohort_rows_html(row, binder)
            rows.append(row)
        return rows

    @property
    def not_net(self) -> list[dict]:
        return self.fields.get("not_net") or []

    # Net value.
    @cached_property
    def net_value(self) -> list[NetValuePart]:
        every = [
            f for section in ("outcome", "adoption", "risk", "cost") for f in self.figures.get(section, [])
        ]
        parts = []
        for key, label, lines, leakage in NET_VALUE_PARTS:
            found = [
                f
                for f in every
                if (f.get("section"), f.get("line")) in lines or _leakage_of(f["metric_id"]) in leakage
            ]
            parts.append(NetValuePart(key, str(label), self._linked(_unique(found))))
        return parts

    @cached_property
    def evidence_gaps(self) -> list[str]:
        return [part.label for part in self.net_value if part.gap]

    # Risk and adoption.
    @cached_property
    def adoption(self) -> list[dict]:
        return self._linked(self.figures.get("adoption", []))

    def _risk_line(self, line: str) -> list[dict]:
        return self._linked([f for f in self.figures.get("risk", []) if f.get("line") == line])

    @cached_property
    def complaints(self) -> list[dict]:
        return self._risk_line("complaints")

    @cached_property
    def policy_drift(self) -> list[dict]:
        return self._risk_line("policy_drift")

    @cached_property
    def guardrails(self) -> list[dict]:
        """The contracts that guard another one (they must hold while it improves), worst first,
        then the risk and quality contracts past warning in the month."""
        every = [
            f for section in ("outcome", "adoption", "risk", "cost") for f in self.figures.get(section, [])
        ]
        found = [f for f in every if f["metric_id"] in self.guardrail_ids]
        found += [
            f
            for f in self.figures.get("risk", [])
            if f.get("worst_level") in PAST_WARNING and f.get("line") not in ("complaints", "policy_drift")
        ]
        rank = {"stop": 0, "breach": 1, "warning": 2, "ok": 3}
        ranked = sorted(_unique(found), key=lambda f: (rank.get(f.get("worst_level"), 4), f["metric_id"]))
        return self._linked(ranked)

    def line(self, section: str, line: str) -> str:
        return (self.fields.get(section) or {}).get(line, "")

    # Roadmap implication.
    @cached_property
    def release_rows(self) -> list[dict]:
        return [
            {**row, "regressions_text": regressions_in_words(row.get("regressions") or [])}
            for row in self.fields.get("release_rows") or []
        ]

    @property
    def assumptions_changed(self) -> list[dict]:
        return [row for row in self.fields.get("assumption_update") or [] if row["proposed"] != row["status"]]

    @property
    def open_actions(self) -> list[dict]:
        return (self.fields.get("actions") or {}).get("open", [])

    @cached_property
    def overdue_actions(self) -> list[dict]:
        return [row for row in self.open_actions if row.get("overdue")]

    # Exceptions an executive reads first.
    @cached_property
    def exceptions(self) -> list[str]:
        found = []
        for row in self.not_net:
            found.append(gettext("%(metric)s: improvement not net") % {"metric": row["metric_id"]})
        for row in self.release_rows:
            if row.get("defect"):
                found.append(gettext("%(id)s: regression after release") % {"id": row["id"]})
        for f in self.guardrails:
            if f.get("worst_level") in ("breach", "stop"):
                found.append(
                    gettext("%(metric)s at %(level)s")
                    % {"metric": f["metric_id"], "level": f["worst_level_label"]}
                )
        if self.overdue_actions:
            found.append(gettext("%(n)s actions overdue") % {"n": len(self.overdue_actions)})
        return found


# --- trend cards -----------------------------------------------------------------------------------


@dataclass
class PendingTrend:
    """A trend card still to load (``boards.runtime.PendingCard``), as the ``pending_card`` tag
    of ``board_figures`` takes it."""

    card: object

    pending = True

    @property
    def contract(self):
        return self.card.contract


def board_trend_cards(contracts, *, eager: int | None = None) -> list:
    """The trend cards of the contracts in their order: the first ``eager`` (``EAGER_CARDS``)
    drawn with the page (``boards.cards.trend_cards``), the others pending, drawn when scrolled
    to."""
    from boards.cards import trend_cards
    from boards.runtime import PendingCard

    contracts = list(contracts)
    eager = EAGER_CARDS if eager is None else eager
    return trend_cards(contracts[:eager]) + [
        PendingTrend(PendingCard(contract)) for contract in contracts[eager:]
    ]


# --- the board's hot fragments, built in Python ------------------------------------------------


def _binder_link(metric_id: str, month: datetime.date | None) -> dict:
    """The evidence binder of a contract for the month: its address and the month's query."""
    return {
        "href": reverse("boards:evidence", args=[metric_id]),
        "period": month.strftime("%Y-%m-%d") if month else "",
    }


def _moved_words(moved: str) -> SafeString:
    if moved == "improved":
        return format_html("▲ {}", gettext("improved"))
    if moved == "worse":
        return format_html("▼ {}", gettext("worse"))
    return format_html("● {}", gettext("flat"))


def movement_html(f: dict, binder: dict, *, compact: bool) -> SafeString:
    """One outcome figure: baseline → month, the change with its 95% interval, source quality,
    "not net"; ``compact`` names the contract instead of its metric id."""
    movement = f.get("movement") or {}
    if movement.get("sufficient"):
        moved = format_html(
            '<span class="po-moved po-moved-{}">{}</span>\n  {} <span class="text-body-secondary">({} {})</span>',
            movement.get("moved", ""),
            _moved_words(movement.get("moved", "")),
            movement.get("text", ""),
            gettext("95% CI"),
            movement.get("ci_text", ""),
        )
    else:
        moved = format_html('<span class="text-body-secondary">{}</span>', movement.get("thin", ""))
    below = (
        format_html(' <span class="badge text-bg-warning">{}</span>', gettext("below E3"))
        if f.get("below_e3")
        else ""
    )
    not_net = (
        format_html(
            '<span class="badge text-bg-danger po-not-net" title="{}">{}</span>',
            f.get("not_net_reason", ""),
            gettext("improvement not net"),
        )
        if f.get("not_net")
        else ""
    )
    return format_html(
        '<div class="po-movement{}" data-metric="{}">\n'
        '  <a class="po-figure-link" href="{}?period={}&amp;span=month" title="{}">{}</a>:\n'
        "  {} → <strong>{}</strong>\n"
        "  {}\n"
        '  <span class="badge text-bg-light border" title="{}">{}</span>{}\n'
        "  {}\n"
        "</div>\n",
        "" if compact else " mb-1",
        f["metric_id"],
        binder["href"],
        binder["period"],
        gettext("The evidence behind this figure"),
        f.get("name", "")
        if compact
        else format_html('<span class="font-monospace">{}</span>', f["metric_id"]),
        f.get("baseline_text", ""),
        f.get("current_text", ""),
        moved,
        gettext("Source quality: evidence level (playbook 11.2)"),
        f.get("evidence_level", ""),
        below,
        not_net,
    )


def cohort_rows_html(f: dict, binder: dict) -> SafeString:
    """The rows of an outcome's cohort table: each cohort's baseline, month, change with its 95%
    interval and which way it moved, linked to its evidence."""
    from contracts.models import MetricContract

    unit = MetricContract(unit=f.get("unit") or "")
    rows = []
    for cut in f["cuts"]:
        if cut.get("sufficient"):
            change = format_html(
                '{} <span class="text-body-secondary">({})</span>',
                cut.get("text", ""),
                cut.get("ci_text", ""),
            )
            moved = format_html(
                '<span class="po-moved po-moved-{}">{}</span>',
                cut.get("moved", ""),
                _moved_words(cut.get("moved")),
            )
        else:
            change = format_html('<span class="text-body-secondary">{}</span>', cut.get("thin", ""))
            moved = "—"
        rows.append(
            (
                cut["cut"],
                binder["href"],
                urlencode(cut["cut"]),
                binder["period"],
                cut["cut"],
                unit.format_value(cut.get("before")),
                unit.format_value(cut.get("after")),
                change,
                moved,
            )
        )
    return format_html_join(
        "",
        '          <tr class="po-cohort" data-cut="{}">\n'
        '            <th scope="row" class="fw-normal"><a href="{}?cut={}&amp;period={}&amp;span=month">{}</a></th>\n'
        "            <td>{}</td>\n"
        "            <td>{}</td>\n"
        "            <td>{}</td>\n"
        "            <td>{}</td>\n"
        "          </tr>\n",
        rows,
    )


def _leakage_of(metric_id: str) -> str:
    name = metric_id.rpartition(".")[2].lower()
    for key, _label, words in LEAKAGE_CLASSES:
        if any(word in name for word in words):
            return key
    return ""


def _unique(figures: list[dict]) -> list[dict]:
    seen, out = set(), []
    for figure in figures:
        if figure["metric_id"] not in seen:
            seen.add(figure["metric_id"])
            out.append(figure)
    return out


# --- the board -----------------------------------------------------------------------------------


@dataclass
class MonthlyBoard:
    month: datetime.date
    rows: list[CapabilityMonth]
    next_session: object = None
    partial: bool = False

    @property
    def month_label(self) -> str:
        return self.month.strftime("%Y-%m")

    @property
    def previous_month(self) -> str:
        return month_before(self.month).strftime("%Y-%m")

    @property
    def next_month(self) -> str | None:
        following = month_after(self.month)
        return following.strftime("%Y-%m") if following <= month_start_of(timezone.localdate()) else None

    @property
    def decision_counts(self) -> list[tuple[str, str, int]]:
        counts: dict[str, int] = defaultdict(int)
        for row in self.rows:
            counts[row.decision_word] += 1
        return [(word, str(label), counts[word]) for word, label in DECISION_WORD_LABELS.items()]

    @property
    def outcome_contract_ids(self) -> list[str]:
        return [f["metric_id"] for row in self.rows for f in row.outcomes]


def monthly_board(capabilities, *, month: datetime.date, user=None, now=None) -> MonthlyBoard:
    """The monthly value board of the capabilities given for one month: the month's memos where
    they exist, the memo ``memo_drafts`` builds otherwise, the decisions logged and the backlog
    changed in the month, the next release and the next monthly value review session."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    month = month_start_of(month)
    month_end = month_after(month)
    capabilities = list(capabilities)
    ids = tuple(capability.pk for capability in capabilities)
    memos = {memo.capability_id: memo for memo in _memos(ids, month)}
    missing = [capability for capability in capabilities if capability.pk not in memos]
    drafts = memo_drafts(missing, month=month, by=user, now=now) if missing else {}

    start = timezone.make_aware(datetime.datetime.combine(month, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(month_end, datetime.time.min))
    decisions: dict[int, list] = defaultdict(list)
    for decision in _decisions(ids, month, month_end):
        decisions[decision.capability_id].append(decision)
    backlog: dict[int, list] = defaultdict(list)
    for item in _backlog_changes(ids, start, end):
        backlog[item.capability_id].append(item)
    next_release: dict[int, object] = {}
    for release in _coming_releases(ids, today):
        next_release.setdefault(release.capability_id, release)

    guardrail_ids: dict[int, set] = defaultdict(set)
    for capability_id, metric_id in _guardrails(ids):
        guardrail_ids[capability_id].add(metric_id)

    rows = []
    for capability in capabilities:
        memo = memos.get(capability.pk)
        if memo is not None:
            fields, matrix = memo.fields or {}, memo.matrix or {}
        else:
            draft = drafts[capability.pk]
            fields, matrix = draft.fields, draft_matrix(draft)
        rows.append(
            CapabilityMonth(
                capability=capability,
                memo=memo,
                fields=fields,
                matrix=matrix,
                decisions_logged=decisions[capability.pk],
                backlog_changes=backlog[capability.pk],
                next_release=next_release.get(capability.pk),
                guardrail_ids=guardrail_ids[capability.pk],
                month=month,
            )
        )
    rank = {decision: position for position, decision in enumerate(DECISION_ORDER)}
    rows.sort(
        key=lambda row: (rank.get(row.recommendation, len(rank)), -len(row.exceptions), row.capability.name)
    )
    return MonthlyBoard(
        month=month,
        rows=rows,
        next_session=_next_session(capabilities, now),
        partial=month_end > today,
    )


def _next_session(capabilities, now):
    """The next monthly value review session of a forum covering any of the capabilities."""
    found = _sessions_after(tuple(capability.pk for capability in capabilities), now)
    return found[0] if found else None


# --- the board's reads, prepared once per scope and month (productops.prepared) -----------------


@prepared
def contracts_named(metric_ids: tuple):
    """The contracts of these metric ids, each with its capability (the outcome trends' cards)."""
    from contracts.models import MetricContract

    return MetricContract.objects.filter(metric_id__in=metric_ids).select_related("capability")


@prepared
def _memos(ids: tuple, month: datetime.date):
    return ValueMemo.objects.filter(capability_id__in=ids, month=month).select_related("decision")


@prepared
def _decisions(ids: tuple, month: datetime.date, month_end: datetime.date):
    """The decisions logged in the month, the latest first."""
    from decisions.models import Decision

    return Decision.objects.filter(
        capability_id__in=ids, decided_on__gte=month, decided_on__lt=month_end
    ).order_by("-decided_on", "-id")


@prepared
def _backlog_changes(ids: tuple, start: datetime.datetime, end: datetime.datetime):
    """The backlog items created or changed in the month (from ``start`` to ``end``)."""
    from portfolio.models import BacklogItem

    return (
        BacklogItem.objects.filter(capability_id__in=ids)
        .filter(Q(created_at__gte=start, created_at__lt=end) | Q(updated_at__gte=start, updated_at__lt=end))
        .order_by("-priority_score", "id")
    )


@prepared
def _coming_releases(ids: tuple, today: datetime.date):
    """Releases planned from today on and not yet deployed, rejected or rolled back."""
    from releases.choices import ReleaseState
    from releases.models import Release

    return (
        Release.objects.filter(capability_id__in=ids, deployed_date__isnull=True, planned_date__gte=today)
        .exclude(state__in=[ReleaseState.REJECTED, ReleaseState.ROLLED_BACK])
        .order_by("planned_date", "id")
    )


@prepared
def _guardrails(ids: tuple):
    """(capability id, metric id) of each guardrail a contract of these capabilities names."""
    from contracts.models import MetricContract

    return MetricContract.guardrails.through.objects.filter(
        from_metriccontract__capability_id__in=ids
    ).values_list("from_metriccontract__capability_id", "to_metriccontract__metric_id")


@prepared(bound=1)
def _sessions_after(ids: tuple, now: datetime.datetime):
    """The first monthly value review session after ``now`` of a forum covering any of them."""
    from forums.choices import Cadence
    from forums.models import Session

    return (
        Session.objects.filter(scheduled_at__gt=now, forum__cadence=Cadence.MONTHLY_VALUE_REVIEW)
        .covering(ids)
        .select_related("forum")
        .order_by("scheduled_at", "pk")[:1]
    )
