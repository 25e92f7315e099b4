from django.db import models
from django.utils.translation import gettext_lazy as _


class ExperimentState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    RUNNING = "running", _("Running")
    READOUT = "readout", _("Readout")
    DECIDED = "decided", _("Decided")


_S = ExperimentState

# The experiment's state machine. A readout that shows too little data may go back to running
# with a later planned end ("extend"); a decided experiment is a record and never moves again.
TRANSITIONS: dict[str, set[str]] = {
    _S.PROPOSED: {_S.RUNNING},
    _S.RUNNING: {_S.READOUT},
    _S.READOUT: {_S.DECIDED, _S.RUNNING},
    _S.DECIDED: set(),
}

# The named moves (one model method each) and the state each leads to from the state it starts
# from. Every pair here is in TRANSITIONS.
MOVES: dict[str, dict[str, str]] = {
    "start": {_S.PROPOSED: _S.RUNNING},
    "begin_readout": {_S.RUNNING: _S.READOUT},
    "extend": {_S.READOUT: _S.RUNNING},
    "decide": {_S.READOUT: _S.DECIDED},
}

MOVE_LABELS = {
    "start": _("Start the experiment"),
    "begin_readout": _("Begin the readout"),
    "extend": _("Extend: run longer"),
    "decide": _("Record the decision"),
}

# The last part of each move's URL: /experiments/EXP-001/readout/ begins the readout.
MOVE_PATHS = {"start": "start", "begin_readout": "readout", "extend": "extend", "decide": "decide"}


class ExperimentDecision(models.TextChoices):
    """What the experiment review decides (playbook 6.1, the "Experiment review" row)."""

    CONTINUE = "continue", _("Continue")
    SCALE = "scale", _("Scale")
    STOP = "stop", _("Stop")
    REDESIGN = "redesign", _("Redesign")


# The decision log's type for each experiment decision (decisions.choices.DecisionType).
# "Stop" is logged as "retire": the playbook retires what failed its assumptions or costs more
# than it is worth (9.3), which is what stopping a treatment says; "pause" is for evidence that
# is not there yet, which here is "continue" or extending the experiment.
DECISION_TYPES = {
    ExperimentDecision.CONTINUE: "continue",
    ExperimentDecision.SCALE: "scale",
    ExperimentDecision.STOP: "retire",
    ExperimentDecision.REDESIGN: "redesign",
}


class AssumptionOutcome(models.TextChoices):
    """What a readout does to the assumption the experiment tests (assumption ledger statuses)."""

    CONFIRMED = "confirmed", _("Confirmed")
    WEAKENED = "weakened", _("Weakened")
    INVALIDATED = "invalidated", _("Invalidated")


class Verdict(models.TextChoices):
    """How one comparison of treatment with control reads."""

    BETTER = "better", _("Better")
    WORSE = "worse", _("Worse")
    NO_CLEAR_CHANGE = "no_clear_change", _("No clear change")
    INSUFFICIENT = "insufficient", _("Too little data")


class GuardrailStatus(models.TextChoices):
    """Whether a guardrail held in the treatment arm (level_of on the treatment's value)."""

    OK = "ok", _("Held")
    WORSE_PAST_WARNING = "worse_past_warning", _("Worse, past warning")
    PAST_WARNING_IN_BOTH = "past_warning_in_both", _("Past warning in both arms")
    INSUFFICIENT = "insufficient", _("Too little data")
