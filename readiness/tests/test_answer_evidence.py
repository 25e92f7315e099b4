"""An answer's evidence (the records that answer a question, named and linked) is listed when it
is first read: the portfolio board and the readiness table show only the gaps, so they never pay
for it, and the capability page and the API read the same records as before."""

import pytest

from readiness.questions import MAX_EVIDENCE, Answer, Evidence, capability_readiness
from readiness.tests import world as w

pytestmark = pytest.mark.django_db


def test_the_evidence_is_listed_once_when_first_read_and_at_most_max_evidence():
    calls = []

    def evidence_of():
        calls.append(1)
        return [Evidence(f"DEC-{n:04}", f"/decisions/DEC-{n:04}/") for n in range(MAX_EVIDENCE + 2)]

    answer = Answer(
        key="decision_evidence", question="Which evidence?", answered=True, evidence_of=evidence_of
    )
    assert calls == []
    assert [item.label for item in answer.evidence] == [f"DEC-{n:04}" for n in range(MAX_EVIDENCE)]
    assert answer.as_dict()["evidence"][0] == {"label": "DEC-0000", "url": "/decisions/DEC-0000/"}
    assert calls == [1]


def test_an_answer_without_evidence_reads_none():
    assert Answer(key="x", question="?", answered=False, gap="Missing.").evidence == []


def test_the_answers_evidence_names_and_links_the_records(capability, pm):
    built = w.build(capability, pm)
    readiness = capability_readiness(capability, today=w.TODAY)
    by_key = {answer.key: answer for answer in readiness.answers}
    assert by_key["evidence_contracts"].evidence == [
        Evidence(
            f"{built.contract.metric_id} ({built.contract.evidence_level})", built.contract.get_absolute_url()
        )
    ]
    assert by_key["proven_closures"].evidence == [
        Evidence(f"{built.action.readable_id} · {built.action.action}", built.action.get_absolute_url())
    ]
