"""The gaps and the records they name, as the readiness table, the capability card and the
answers page show them: escaped, and linked."""

from readiness.questions import Answer, Evidence, Readiness
from readiness.templatetags.readiness import readiness_faults, readiness_gaps


def answer(**kwargs):
    return Answer(
        **{"key": "forum_decisions", "question": "What decision?", "answered": False, "gap": "", **kwargs}
    )


def test_a_gap_lists_its_question_its_words_and_its_records_escaped():
    gap = answer(
        gap="No forum covers <b>A&B</b>.",
        faults=[Evidence("DEC-0001", "/decisions/DEC-0001/"), Evidence("F <x>", "/forums/1/?a=1&b=2")],
    )
    html = readiness_gaps(Readiness(capability=None, answers=[gap, answer(key="x", answered=True)]))
    assert html == (
        '<li data-question="forum_decisions"><strong>What decision?</strong> No forum covers '
        "&lt;b&gt;A&amp;B&lt;/b&gt;. "
        '<span class="small text-nowrap-md po-readiness-faults">Open: '
        '<a href="/decisions/DEC-0001/">DEC-0001</a>, <a href="/forums/1/?a=1&amp;b=2">F &lt;x&gt;</a></span></li>'
    )


def test_a_gap_naming_no_record_shows_no_open_list():
    assert readiness_faults(answer(gap="Missing.")) == ""
    assert "po-readiness-faults" not in readiness_gaps(Readiness(capability=None, answers=[answer(gap="x")]))
