"""Template tags and filters of the evidence binder.

The binder's long tables (the evaluations, signals, actions with their closure evidence, and the
decisions) are built here in Python: drawn by template loops, with a level-badge include per row
and a ``blocktranslate`` per cell, they cost more than the binder's SQL. The markup is the one
the templates drew (``contracts/signal_level_badge.html`` for levels); every value is escaped
with ``productops.html.esc`` and each repeated word translated once per table.
"""

from urllib.parse import quote

from django import template
from django.utils.text import Truncator
from django.utils.timezone import template_localtime
from django.utils.translation import gettext, ngettext

from actions.choices import ActionStatus, EvidenceVerdict
from actions.models import STATUS_BADGES
from boards.cards import evidence_url
from contracts.choices import SignalLevel
from productops.formats import person_name
from productops.html import esc, safe_join
from productops.links import reverse

register = template.Library()

# A level's badge colour (contracts/signal_level_badge.html).
LEVEL_BADGES = {
    "ok": "text-bg-success",
    "warning": "text-bg-warning",
    "breach": "text-bg-danger",
    "stop": "text-bg-dark",
}
# How long a decision's text runs in the binder's tables before it is cut.
DECISION_TEXT_CHARS = 240


@register.filter
def person(user) -> str:
    """A person as colleagues know them (full name, else login); "" for nobody (the system, or a
    role not filled). ``x.get_full_name|default:x.username`` fails when ``x`` is empty: a filter
    argument is resolved strictly."""
    return person_name(user)


@register.simple_tag
def binder_url(metric_id: str, cut: str = "", period=None) -> str:
    """Where the evidence behind a board's figure is: ``{% binder_url metric_id period=day as href %}``."""
    return evidence_url(metric_id, cut=cut, period=period)


def day_text(value) -> str:
    """A date (or the local date of a moment) as ``2026-06-08``; "" for none, as the template's
    ``date:"Y-m-d"`` writes it."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = template_localtime(value)
    return f"{value:%Y-%m-%d}"


def moment_text(value) -> str:
    """A moment in the organisation's zone as ``2026-06-08 14:05`` (``date:"Y-m-d H:i"``)."""
    if value is None:
        return ""
    return f"{template_localtime(value):%Y-%m-%d %H:%M}"


class LevelBadges:
    """The level badges of one table, their words translated once."""

    def __init__(self):
        self.labels = {value: str(label) for value, label in SignalLevel.choices}
        self.not_evaluated = f'<span class="text-body-secondary">{esc(gettext("not evaluated"))}</span>'

    def badge(self, level: str) -> str:
        """A level as ``contracts/signal_level_badge.html`` draws it."""
        if not level:
            return self.not_evaluated
        colour = LEVEL_BADGES.get(level, "text-bg-secondary")
        return (
            f'<span class="badge po-level {colour}" data-level="{esc(level)}">'
            f"{esc(self.labels.get(level, level))}</span>"
        )


@register.simple_tag
def evaluation_rows(binder, contract) -> str:
    """The ``<tr>`` of each evaluation of the binder's cut (latest first): its period linked to
    the binder of that period, value, sample, level, level before noise gating, threshold
    crossed, when evaluated; the periods of the binder's figure marked current."""
    if not binder.evaluations:
        return safe_join(
            ['<tr><td colspan="7" class="po-empty">', esc(gettext("Not evaluated yet.")), "</td></tr>"]
        )
    badges = LevelBadges()
    cut = f"cut={esc(quote(binder.cut, safe='/'))}&amp;" if binder.cut else ""
    rows = []
    for evaluation in binder.evaluations:
        day = day_text(evaluation.period_start)
        current = binder.period and binder.period <= evaluation.period_start <= binder.period_end
        crossed = evaluation.threshold_crossed
        rows.append(
            "<tr{current}>"
            '<th scope="row"><a href="?{cut}period={day}">{day}</a></th>'
            '<td class="po-num">{value}</td>'
            '<td class="po-num">{sample}</td>'
            "<td>{level}</td>"
            "<td>{raw}</td>"
            '<td class="po-num">{crossed}</td>'
            '<td class="text-nowrap">{evaluated}</td>'
            "</tr>".format(
                current=' class="po-current" aria-current="true"' if current else "",
                cut=cut,
                day=esc(day),
                value=esc(contract.format_value(evaluation.value)),
                sample=esc(evaluation.sample_size),
                level=badges.badge(evaluation.level),
                raw=esc(badges.labels.get(evaluation.raw_level, evaluation.raw_level)),
                crossed="—" if crossed is None else esc(contract.format_value(crossed)),
                evaluated=esc(moment_text(evaluation.evaluated_at)),
            )
        )
    return safe_join(rows, "\n")


@register.simple_tag
def signal_rows(binder, contract) -> str:
    """The ``<tr>`` of each signal: linked, its cut, level, worst level, the periods it opened,
    was last past its threshold and resolved, the value observed, the action it opened and the
    stop holds its stop rule put on releases."""
    if not binder.signals:
        return safe_join(
            ['<tr><td colspan="9" class="po-empty">', esc(gettext("No signal was raised.")), "</td></tr>"]
        )
    badges = LevelBadges()
    whole = esc(gettext("whole population"))
    still_open = f"<strong>{esc(gettext('open'))}</strong>"
    in_force = f'<div class="small"><strong>{esc(gettext("Stop hold in force"))}</strong></div>'
    lifted = gettext("Stop hold lifted by %(by)s on %(day)s")
    name = gettext("Signal %(id)s")
    rows = []
    for signal in binder.signals:
        action = signal.action
        holds = "".join(
            f'<div class="small">{lifted % {"by": esc(person_name(hold.lifted_by)), "day": esc(day_text(hold.lifted_at))}}</div>'
            if hold.lifted_at
            else in_force
            for hold in binder.stop_holds.get(signal.pk, [])
        )
        rows.append(
            '<tr id="signal-{pk}">'
            '<th scope="row"><a href="{href}">{name}</a></th>'
            "<td>{cut}</td>"
            "<td>{level}</td>"
            "<td>{worst}</td>"
            '<td class="text-nowrap">{opened}</td>'
            '<td class="text-nowrap">{last}</td>'
            '<td class="text-nowrap">{resolved}</td>'
            '<td class="po-num">{observed}</td>'
            "<td>{action}\n{holds}</td>"
            "</tr>".format(
                pk=esc(signal.pk),
                href=esc(signal.get_absolute_url()),
                name=name % {"id": esc(signal.pk)},
                cut=esc(signal.cut) if signal.cut else whole,
                level=badges.badge(signal.level),
                worst=esc(badges.labels.get(signal.worst_level, signal.worst_level)),
                opened=esc(day_text(signal.opened_period)),
                last=esc(day_text(signal.last_period)),
                resolved=esc(day_text(signal.resolved_period)) if signal.resolved_period else still_open,
                observed=esc(contract.format_value(signal.observed_value)),
                action=(
                    f'<a href="{esc(action.get_absolute_url())}">{esc(action.readable_id)}</a>'
                    if action is not None
                    else "—"
                ),
                holds=holds,
            )
        )
    return safe_join(rows, "\n")


class _ActionWords:
    """The words of the actions table, translated once."""

    def __init__(self):
        self.statuses = {value: str(label) for value, label in ActionStatus.choices}
        self.verdicts = {value: str(label) for value, label in EvidenceVerdict.choices}
        self.criterion = esc(gettext("Closure criterion"))
        self.overdue = f' <strong class="po-over">{esc(gettext("overdue"))}</strong>'
        self.closure = {
            "verified": f'<span class="po-check-ok">{esc(gettext("Closed, evidence verified"))}</span>',
            "unverified": f'<span class="po-check-bad">{esc(gettext("Closed without verified evidence"))}</span>',
            "awaiting": esc(gettext("Evidence awaiting verification")),
            "open": esc(gettext("Not closed")),
        }
        self.none_submitted = f'<span class="po-empty">{esc(gettext("None submitted"))}</span>'
        self.system = gettext("the system")
        self.reviewed = gettext("by %(by)s on %(day)s")
        self.submitted = gettext("submitted by %(by)s on %(day)s")


def _evidence_html(evidence, words: _ActionWords) -> str:
    """One piece of closure evidence: its verdict and reviewer, text, link and file, and who
    submitted it when."""
    reviewed = ""
    if evidence.reviewed_by:
        reviewed = " — " + words.reviewed % {
            "by": esc(person_name(evidence.reviewed_by) or words.system),
            "day": esc(moment_text(evidence.reviewed_at)),
        }
    link = (
        f' · <a href="{esc(evidence.link)}" rel="noopener">{esc(evidence.link)}</a>' if evidence.link else ""
    )
    file = (
        f' · <a href="{esc(evidence.get_file_url())}">{esc(evidence.filename)}</a>' if evidence.file else ""
    )
    submitted = words.submitted % {
        "by": esc(person_name(evidence.submitted_by) or words.system),
        "day": esc(moment_text(evidence.submitted_at)),
    }
    comment = f" · {esc(evidence.review_comment)}" if evidence.review_comment else ""
    return (
        '<div class="mb-1">\n'
        f"<strong>{esc(words.verdicts.get(evidence.verdict, evidence.verdict))}</strong>{reviewed}\n"
        f'<div class="small">{esc(evidence.text)}{link}{file}</div>\n'
        f'<div class="small text-body-secondary">{submitted}{comment}</div>\n'
        "</div>"
    )


@register.simple_tag
def action_rows(binder) -> str:
    """The ``<tr>`` of each action the contract's signals raised: linked, what and its closure
    criterion, owner, status (and reopenings), due date, age, closure quality and evidence."""
    if not binder.actions:
        return safe_join(
            ['<tr><td colspan="7" class="po-empty">', esc(gettext("No action was raised.")), "</td></tr>"]
        )
    words = _ActionWords()
    rows = []
    for trace in binder.actions:
        action = trace.action
        reopened = ""
        if action.times_reopened:
            times = ngettext("reopened %(times)s time", "reopened %(times)s times", action.times_reopened)
            reopened = f'<div class="small">{times % {"times": esc(action.times_reopened)}}</div>'
        quality = trace.closure_quality
        evidence = "".join(_evidence_html(item, words) for item in trace.evidence) or words.none_submitted
        rows.append(
            '<tr id="action-{id}">'
            '<th scope="row"><a href="{href}">{id}</a><div class="fw-normal">{what}</div>\n'
            '<div class="small text-body-secondary fw-normal">{criterion_word}: {criterion}</div></th>'
            "<td>{owner}</td>"
            '<td><span class="badge {badge}">{status}</span>{reopened}</td>'
            '<td class="text-nowrap">{due}{overdue}</td>'
            '<td class="po-num">{age}</td>'
            '<td data-closure="{quality}">{closure}</td>'
            "<td>{evidence}</td>"
            "</tr>".format(
                id=esc(action.readable_id),
                href=esc(action.get_absolute_url()),
                what=esc(action.action),
                criterion_word=words.criterion,
                criterion=esc(action.closure_criterion),
                owner=esc(person_name(action.owner)),
                badge=esc(STATUS_BADGES.get(action.status, "text-bg-light")),
                status=esc(words.statuses.get(action.status, action.status)),
                reopened=reopened,
                due=esc(day_text(action.due_date)),
                overdue=words.overdue if action.is_overdue else "",
                age=esc(trace.age_days),
                quality=esc(quality),
                closure=words.closure[quality],
                evidence=evidence,
            )
        )
    return safe_join(rows, "\n")


@register.simple_tag
def decision_rows(traces, empty) -> str:
    """The ``<tr>`` of each decision (``boards.binder.DecisionTrace``): linked, its text (cut
    short), its successor when superseded, the fields a definition change changed, date, type,
    owner, and what of the binder it cites, each linked to its page; ``empty`` when none."""
    if not traces:
        return safe_join(['<tr><td colspan="5" class="po-empty">', esc(empty), "</td></tr>"])
    superseded = gettext("superseded by %(id)s")
    changed = esc(gettext("Changed"))
    by_system = f'<div class="small text-body-secondary">{esc(gettext("recorded by the system"))}</div>'
    rows = []
    for trace in traces:
        decision = trace.decision
        successor = trace.successor
        after = ""
        if successor is not None:
            after = f'<div class="small fw-normal">{superseded % {"id": esc(successor.readable_id)}}</div>'
        details = decision.details if isinstance(decision.details, dict) else {}
        fields = ""
        if details.get("changed_fields"):
            names = ", ".join(esc(name) for name in details["changed_fields"])
            fields = f'<div class="small text-body-secondary fw-normal">{changed}: {names}</div>'
        cites = "".join(
            f'<div><a href="{esc(href)}">{esc(link.display)}</a></div>'
            if href
            else f"<div>{esc(link.display)}</div>"
            for link, href in trace.cites
        )
        rows.append(
            '<tr id="decision-{id}">'
            '<th scope="row"><a href="{href}">{id}</a><div class="fw-normal">{text}</div>\n'
            "{after}\n{fields}</th>"
            '<td class="text-nowrap">{day}</td>'
            "<td>{type}</td>"
            "<td>{owner}{by_system}</td>"
            "<td>{cites}</td>"
            "</tr>".format(
                id=esc(decision.readable_id),
                href=esc(decision.get_absolute_url()),
                text=esc(Truncator(decision.decision).chars(DECISION_TEXT_CHARS)),
                after=after,
                fields=fields,
                day=esc(day_text(decision.decided_on)),
                type=esc(decision.get_type_display()),
                owner=esc(person_name(decision.owner)),
                by_system="" if decision.recorded_by_id else by_system,
                cites=cites,
            )
        )
    return safe_join(rows, "\n")


def _span(first: str, last: str) -> str:
    """``first – last``, or ``first`` alone when they are the same."""
    return first if last == first else f"{first} – {last}"


@register.simple_tag
def source_rows(binder, contract) -> str:
    """The ``<tr>`` of each (ingest source, version set) group of the figure's observations: the
    source (linked to its CSV import), the version set (linked to the contract's chart by
    version), observations, sample, the periods and when ingested."""
    if not binder.observed.rows:
        return safe_join(
            [
                '<tr><td colspan="6" class="po-empty">',
                esc(gettext("No observations for this period and cut.")),
                "</td></tr>",
            ]
        )
    not_given = esc(gettext("(not given)"))
    no_version = esc(gettext("no version"))
    cut = f"&amp;cut={esc(quote(binder.cut, safe='/'))}" if binder.cut else ""
    by_version = f"{esc(contract.get_absolute_url())}?by=version{cut}#contract-chart"
    rows = []
    for row in binder.observed.rows:
        if row.import_job_id:
            job = reverse("contracts:observation-import-status", kwargs={"pk": row.import_job_id})
            source = f'<a href="{esc(job)}">{esc(row.source)}</a>'
        else:
            source = esc(row.source) if row.source else not_given
        periods = _span(esc(day_text(row.first_period)), esc(day_text(row.last_period)))
        ingested = _span(esc(moment_text(row.first_ingested)), esc(moment_text(row.last_ingested)))
        rows.append(
            f"<tr><td>{source}</td>"
            f'<td><a href="{by_version}"><code>{esc(row.versions) if row.versions else no_version}</code></a></td>'
            f'<td class="po-num">{esc(row.observations)}</td>'
            f'<td class="po-num">{esc(row.sample)}</td>'
            f'<td class="text-nowrap">{periods}</td>'
            f'<td class="text-nowrap">{ingested}</td></tr>'
        )
    return safe_join(rows, "\n")


@register.simple_tag
def release_rows(binder, contract) -> str:
    """The ``<tr>`` of each release around the trend (``boards.binder.ReleaseTrace``): linked,
    the change, versions and state; deployed (and rolled back); its latest impact review; this
    contract before and after and whether it regressed."""
    if not binder.releases:
        return safe_join(
            [
                '<tr><td colspan="4" class="po-empty">',
                esc(gettext("No release in these periods.")),
                "</td></tr>",
            ]
        )
    rolled_back = gettext("rolled back %(day)s")
    reviewed = gettext("by %(by)s on %(day)s")
    not_reviewed = f'<span class="po-empty">{esc(gettext("not reviewed yet"))}</span>'
    regression = f' <strong class="po-check-bad">{esc(gettext("regression"))}</strong>'
    no_regression = f' <span class="small">{esc(gettext("no regression"))}</span>'
    rows = []
    for trace in binder.releases:
        release, review, figure = trace.release, trace.review, trace.figure
        deployed = esc(day_text(release.deployed_date) or "—")
        if release.rolled_back_date:
            deployed += (
                f'<div class="small">{rolled_back % {"day": esc(day_text(release.rolled_back_date))}}</div>'
            )
        judged = not_reviewed
        if review:
            by = reviewed % {
                "by": esc(person_name(review.reviewer)),
                "day": esc(day_text(review.reviewed_at)),
            }
            judged = (
                f'{esc(review.get_decision_display())} <span class="small text-body-secondary">{by}</span>'
            )
            if review.decision_record:
                record = review.decision_record
                judged += f' · <a href="{esc(record.get_absolute_url())}">{esc(record.readable_id)}</a>'
        effect = ""
        if figure:
            whole = figure.get("whole") or {}
            effect = f"{esc(contract.format_value(whole.get('before')))} → {esc(contract.format_value(whole.get('after')))}"
        if trace.regressed:
            effect += regression
        elif figure:
            effect += no_regression
        elif not review:
            effect += "—"
        rows.append(
            f'<tr><th scope="row"><a href="{esc(release.get_absolute_url())}">{esc(release.readable_id)}</a>'
            f'<div class="fw-normal">{esc(release.change)}</div>'
            f'<div class="small text-body-secondary fw-normal">{esc(release.version_from or "—")} → '
            f"{esc(release.version_to)} · {esc(release.get_state_display())}</div></th>"
            f'<td class="text-nowrap">{deployed}</td>'
            f"<td>{judged}</td>"
            f"<td>{effect}</td></tr>"
        )
    return safe_join(rows, "\n")
