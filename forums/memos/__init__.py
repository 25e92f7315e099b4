"""The monthly value review (playbook 8.1-8.4): the decision matrix of 8.3 and the monthly
decision memo of 8.4, generated for one capability from one month's data, edited while it is a
draft, sent to the forum's attendees and then kept as sent; the forum's decision is written to
the decision log and the memo's assumption ledger update to the assumption ledger (14.2).

Three parts:

- ``decision_matrix(evidence)``: a pure function over plain figures (``MatrixEvidence``) that
  returns the recommended decision of 8.3, the pattern that fired, the figures it fired on and
  the patterns a "not net" guardrail blocked. No database, no clock: the tests call it directly.
- ``memo_build(...)``: reads the month's data (contracts and their observations, evaluations,
  signals, incidents, releases with their impact reviews, experiments, assumptions, actions) in
  a fixed number of queries and turns it into the memo's sections, each figure naming its
  contract and evidence level, plus the plain figures the matrix reads.
- Services (``memo_generate``, ``memo_update``, ``memo_send``, ``memo_decide``): the one path
  the pages, the API and any job take; permission checks and state rules live here.

One module per area, each importing only those above it in this list:

- ``matrix``: the decision matrix of 8.3 (``MemoDecision``, ``DECISION_TYPES``,
  ``MatrixEvidence``, ``RULES``, ``decision_matrix``, ``options_considered``);
- ``sections``: the memo of 8.4, its sections and lines, and the month a session reviews;
- ``figures``: each contract's figures of the month, their words, and the plain figures the
  matrix reads;
- ``month``: the month's records (assumptions, releases, experiments, incidents, signals,
  actions) as the memo reads them;
- ``lines``: the words of the memo's lines;
- ``build``: ``memo_build``, the memo built from the month;
- ``reading``: the memo's sections, its Markdown text and a session's memos;
- ``services``: generate, edit, send, decide, and the access helpers.

The names below are what the rest of the project imports from ``forums.memos``.
"""

from forums.memos.build import memo_drafts
from forums.memos.matrix import (
    DECISION_TYPES,
    FALLING,
    FLAT,
    HIGH,
    IMPROVED,
    JUDGMENTS,
    LOW,
    MIXED,
    MODERATE,
    RISING,
    STABLE,
    UNKNOWN,
    WORSE,
    MatrixEvidence,
    MemoDecision,
    decision_matrix,
    options_considered,
)
from forums.memos.reading import memo_sections, memo_text, session_memo_rows
from forums.memos.sections import ACTIVITY, READ_ONLY_LINES, SECTIONS, month_reviewed
from forums.memos.services import (
    can_decide_memo,
    can_edit_memo,
    evidence_with_judgments,
    memo_decide,
    memo_for_user,
    memo_generate,
    memo_send,
    memo_update,
    memos_visible_to,
)

__all__ = [
    "ACTIVITY",
    "DECISION_TYPES",
    "FALLING",
    "FLAT",
    "HIGH",
    "IMPROVED",
    "JUDGMENTS",
    "LOW",
    "MIXED",
    "MODERATE",
    "READ_ONLY_LINES",
    "RISING",
    "SECTIONS",
    "STABLE",
    "UNKNOWN",
    "WORSE",
    "MatrixEvidence",
    "MemoDecision",
    "can_decide_memo",
    "can_edit_memo",
    "decision_matrix",
    "evidence_with_judgments",
    "memo_decide",
    "memo_drafts",
    "memo_for_user",
    "memo_generate",
    "memo_sections",
    "memo_send",
    "memo_text",
    "memo_update",
    "memos_visible_to",
    "month_reviewed",
    "options_considered",
    "session_memo_rows",
]
