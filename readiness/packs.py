"""Operating readiness in the quarterly portfolio review's pack (playbook 9 and 25): each
capability's state and gaps, frozen with the pack (forums.pack_extras)."""

from forums.choices import Cadence
from readiness.questions import readiness_for


def readiness_pack_section(*, capabilities, cadence: str, today):
    """The pack's readiness table for a quarterly portfolio review (None for other cadences):
    per capability its state, how many of the eight questions are answered, and each gap."""
    if cadence != Cadence.QUARTERLY_PORTFOLIO_REVIEW:
        return None
    rows = []
    for readiness in readiness_for(capabilities, today=today):
        rows.append(
            {
                "capability": readiness.capability.name,
                "state": readiness.state,
                "state_label": readiness.state_label,
                "answered": readiness.answered_count,
                "questions": len(readiness.answers),
                "gaps": [{"question": answer.question, "gap": answer.gap} for answer in readiness.gaps],
            }
        )
    return {"rows": rows}
