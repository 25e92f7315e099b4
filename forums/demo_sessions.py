"""The demo organisation's recent forum sessions, held through the same services a PM uses in
the browser: two weekly ops reviews of the contact-centre agent assist (pack sent the day
before, decisions logged, actions raised and one closed with evidence, minutes published), the
last monthly value review with a decision memo per capability, the last quarterly portfolio
review with its scorecard and a decision per capability, and a decision requested on the next
weekly review.

The services stamp "now" on what they do; a demo session happened days ago, so each stamp is
moved back to the session's own time right after the service wrote it (the packs are built as
of the day before their session, so they show the data known then). Idempotent: a session whose
minutes are published is left alone.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from actions.choices import TriggerKind
from actions.models import Action
from contracts.models import MetricContract
from forums import meeting
from forums.choices import Cadence, ScorecardDimension, SessionState
from forums.memos import DECISION_TYPES, memo_decide, memo_generate, memo_send, month_reviewed
from forums.models import Forum, PackDelivery, PortfolioReview, ReviewPack, Session, SessionOutcome, ValueMemo
from forums.pack_delivery import pack_build, pack_send
from forums.portfolio_review import (
    portfolio_review_close,
    portfolio_review_open,
    quarter_of,
    scorecard_decide,
    scorecard_rate,
)
from forums.recurrence import next_occurrences
from portfolio.models import Capability
from releases.models import Release

WEEKLY_SLUG = "cc-agent-assist"
REPEAT_CONTACT = "cc_agent_assist.repeat_contact_7d"
PACK_LEAD = datetime.timedelta(hours=24)


def _past_times(forum: Forum, now: datetime.datetime, count: int, *, days: int) -> list[datetime.datetime]:
    """The forum's last ``count`` meeting times before now (looking back ``days``)."""
    times = next_occurrences(forum, now - datetime.timedelta(days=days), 500, until=now)
    return [moment for moment in times if moment < now][-count:]


def _session(forum: Forum, at: datetime.datetime) -> Session:
    session, _created = Session.objects.get_or_create(forum=forum, scheduled_at=at)
    return session


def _done(session: Session) -> bool:
    return session.state == SessionState.MINUTES_PUBLISHED


def _send_pack(session: Session, decision_requested: str) -> None:
    """The decision requested, then the pack built and e-mailed as the pack job does it, the day
    before the session."""
    Session.objects.filter(pk=session.pk).update(decision_requested=decision_requested)
    session.decision_requested = decision_requested
    sent_at = session.scheduled_at - PACK_LEAD
    pack = pack_send(session=session, by=None, now=sent_at)
    ReviewPack.objects.filter(pk=pack.pk).update(built_at=sent_at, sent_at=sent_at)
    PackDelivery.objects.filter(pack=pack).update(created_at=sent_at, claimed_at=sent_at, sent_at=sent_at)


def _start(session: Session, by, present) -> None:
    meeting.meeting_start(session=session, by=by)
    Session.objects.filter(pk=session.pk).update(started_at=session.scheduled_at)
    session.started_at = session.scheduled_at
    meeting.meeting_attendance_set(session=session, by=by, present=[person.pk for person in present])


def _close(session: Session, by) -> None:
    """End the meeting and publish its minutes, stamped at the session's end."""
    ended = session.scheduled_at + datetime.timedelta(minutes=session.forum.duration_minutes)
    meeting.session_end(session=session, by=by)
    Session.objects.filter(pk=session.pk).update(ended_at=ended)
    session.ended_at = ended
    # The outcomes were recorded a few minutes apart during the meeting.
    for index, pk in enumerate(session.outcomes.order_by("pk").values_list("pk", flat=True)):
        SessionOutcome.objects.filter(pk=pk).update(
            recorded_at=session.scheduled_at + datetime.timedelta(minutes=6 + 4 * index)
        )
    meeting.session_publish_minutes(session=session, by=by)
    published = ended + datetime.timedelta(minutes=20)
    session.refresh_from_db(fields=["minutes"])
    minutes = {**session.minutes, "published_at": timezone.localtime(published).isoformat(timespec="minutes")}
    Session.objects.filter(pk=session.pk).update(minutes_published_at=published, minutes=minutes)


def _backdate_action(action: Action, at: datetime.datetime) -> None:
    Action.objects.filter(pk=action.pk).update(created_at=at)


def _people(context, slug: str, roles) -> list:
    return [context.owners[(slug, role)] for role in roles if (slug, role) in context.owners]


# --- the two weekly ops reviews ---------------------------------------------------------------


def _weekly(context, now: datetime.datetime) -> None:
    capability = context.capabilities[WEEKLY_SLUG]
    forum = Forum.objects.get(name=f"Weekly ops review — {capability.name}")
    first, second = (_session(forum, at) for at in _past_times(forum, now, 2, days=20))
    pm = context.logins["pm"]
    ops = context.owners[(WEEKLY_SLUG, "ops")]
    architect = context.owners[(WEEKLY_SLUG, "ai_architect")]
    present = [pm, *_people(context, WEEKLY_SLUG, ["ops", "analytics", "ai_architect", "risk_compliance"])]
    release = (
        Release.objects.filter(capability=capability, object_type="prompt", deployed_date__isnull=False)
        .order_by("-deployed_date")
        .first()
    )
    release_ref = release.readable_id if release else "the prompt release"
    repeat = MetricContract.objects.get(metric_id=REPEAT_CONTACT)
    evidence = [item for item in (release, repeat) if item is not None]
    quality, decisions, releases = "Quality and eval", "Decision requests", "Release and experiments"

    if not _done(first):
        _send_pack(
            first,
            f"Restrict prompt v12 on billing intents? 7-day repeat contact on billing calls has stood "
            f"past breach since {release_ref}; card, payments and account intents are within target.",
        )
        _start(first, pm, present)
        meeting.meeting_note_save(
            session=first,
            by=pm,
            block=decisions,
            text="Billing repeat contact past breach for the third week; the forum takes the restriction first.",
        )
        meeting.meeting_decision_record(
            session=first,
            by=pm,
            capability=capability,
            type="restrict",
            decision=(
                "Route billing and fee intents back to prompt v11 until a 50-call QA sample shows the "
                "fee-explanation defect below warning; card, payments and account intents stay on v12."
            ),
            owner=pm,
            options_considered="Roll v12 back on every intent; restrict v12 on billing intents; keep v12 and sample.",
            evidence=evidence,
            review_trigger="Billing repeat contact still past breach at the next two weekly reviews.",
            agenda_block=decisions,
        )
        sample = meeting.meeting_action_create(
            session=first,
            by=pm,
            capability=capability,
            action="Sample 50 edited billing suggestions and update the billing knowledge article",
            owner=ops,
            reviewer=pm,
            due_date=timezone.localdate(first.scheduled_at) + datetime.timedelta(days=6),
            closure_criterion="QA sample shows the fee-explanation defect class below its warning threshold",
            source_signal="Contact-centre repeat contact up in billing calls after prompt v12",
            reopen_trigger={
                "kind": TriggerKind.CONTRACT_LEVEL,
                "contract_metric_id": REPEAT_CONTACT,
                "comparison": "at_or_above",
                "level": Decimal(str(repeat.warning)),
                "periods": 2,
            },
            agenda_block=quality,
        )
        _backdate_action(sample, first.scheduled_at + datetime.timedelta(minutes=20))
        eval_action = meeting.meeting_action_create(
            session=first,
            by=pm,
            capability=capability,
            action="Add the sampled fee-explanation cases to the prompt regression eval",
            owner=architect,
            reviewer=pm,
            due_date=timezone.localdate(first.scheduled_at) + datetime.timedelta(days=13),
            closure_criterion="Regression eval holds at least 40 billing fee cases and the next prompt passes it",
            agenda_block=releases,
        )
        _backdate_action(eval_action, first.scheduled_at + datetime.timedelta(minutes=55))
        meeting.meeting_note_save(
            session=first,
            by=pm,
            block=quality,
            text="Edits on billing suggestions doubled since v12: agents remove the fee citation by hand.",
        )
        _close(first, pm)

    if not _done(second):
        sample = Action.objects.filter(
            forum_object_id=first.pk, action__startswith="Sample 50 edited billing"
        ).first()
        if sample is not None and sample.status in ("open", "in_progress"):
            sample.submit_evidence(
                by=ops,
                text=(
                    "QA sample of 50 edited billing suggestions: the fee-explanation defect fell from 7 "
                    "to 1 case (2%, warning 3%); billing article KB-2231 updated to version 7."
                ),
                link="https://qa.bank.example/samples/cc-billing-50",
            )
        _send_pack(
            second,
            "Keep billing intents on prompt v11, or canary the corrected prompt? The QA sample is back "
            "and the fee-explanation defect is under warning.",
        )
        _start(second, pm, present)
        if sample is not None and sample.status == "awaiting_verification":
            meeting.meeting_action_move(
                session=second,
                by=pm,
                action=sample,
                move="verify",
                comment="Sample read in the meeting: the defect class is under warning.",
                agenda_block="Action closure",
            )
        canary = meeting.meeting_action_create(
            session=second,
            by=pm,
            capability=capability,
            action="Canary the corrected prompt on 10% of billing calls with repeat contact as its guardrail",
            owner=architect,
            reviewer=pm,
            due_date=timezone.localdate(second.scheduled_at) + datetime.timedelta(days=14),
            closure_criterion="Two weeks of canary with billing repeat contact below warning",
            agenda_block=releases,
        )
        _backdate_action(canary, second.scheduled_at + datetime.timedelta(minutes=50))
        meeting.meeting_decision_record(
            session=second,
            by=pm,
            capability=capability,
            type="continue",
            decision="Keep billing intents on prompt v11 until the canary shows repeat contact below warning for two weeks.",
            owner=pm,
            options_considered="Return billing to v12 now; canary the corrected prompt; stay on v11 indefinitely.",
            evidence=evidence,
            review_trigger="Canary repeat contact at or above warning in any week.",
            agenda_block=releases,
        )
        _close(second, pm)


# --- the monthly value review -----------------------------------------------------------------


def _monthly(context, now: datetime.datetime) -> None:
    forum = Forum.objects.get(cadence=Cadence.MONTHLY_VALUE_REVIEW, name="Monthly value review")
    times = _past_times(forum, now, 1, days=40)
    if not times:
        return
    session = _session(forum, times[0])
    if _done(session):
        return
    chair = forum.owner
    month = month_reviewed(session)
    memos = []
    # Fresh rows: the release calendar's demo has moved their version sets since they were made.
    for capability in Capability.objects.order_by("slug"):
        slug = capability.slug
        pm = context.owners[(slug, "ai_pm")]
        memo = ValueMemo.objects.filter(capability=capability, month=month).first()
        if memo is None or not memo.is_sent:
            # Generated the day before the session, once the month is over, and sent an hour later.
            generated = session.scheduled_at - datetime.timedelta(days=1)
            memo = memo_generate(capability=capability, month=month, session=session, by=pm, now=generated)
            memo_send(memo=memo, by=pm)
            ValueMemo.objects.filter(pk=memo.pk).update(sent_at=generated + datetime.timedelta(hours=1))
        memos.append((slug, memo))
    _send_pack(
        session,
        f"Scale, restrict, redesign or retire: each capability's decision for {month:%B %Y}, on the "
        "decision memos attached (one per capability, with the decision matrix's recommendation).",
    )
    _start(session, chair, [chair, context.logins["exec"], context.logins["risk"], context.logins["ops"]])
    for slug, memo in memos:
        if memo.decision_id:
            continue
        pm = context.owners[(slug, "ai_pm")]
        recommended = memo.recommendation or "continue"
        allowed = [t for t in DECISION_TYPES[recommended] if t in forum.decision_types]
        pattern = (memo.matrix or {}).get("pattern") or ""
        memo_decide(
            memo=memo,
            by=pm,
            decision=recommended,
            type=allowed[0] if allowed else None,
            text=f"{memo.capability.name}: {(memo.matrix or {}).get('label', recommended)}. {pattern}".strip(),
            owner=pm,
        )
    _close(session, chair)


# --- the quarterly portfolio review --------------------------------------------------------------

# The forum's decision per capability, with its 9.4 output row: a spread that includes restrict,
# pause and platformize, not only expansion (rule 6.2: every quarterly review can retire).
QUARTER_DECISIONS = {
    "cc-agent-assist": (
        "scale_selectively",
        "AHT down on card and payments intents; billing repeat contact past breach since the prompt release",
        "Hold funding flat; one engineer moves to the billing prompt fix",
        "Billing intents stay restricted until repeat contact is under warning for two weeks",
    ),
    "complaint-intelligence": (
        "fund",
        "Regulatory complaint routing faster with the false-negative sample clean",
        "Fund two analysts for the root-cause tracker",
        "False-negative regulatory sample stays under warning",
    ),
    "kyc-onboarding": (
        "restrict",
        "Cycle time down for individuals; complex-entity false passes past the stop rule",
        "No expansion funding this quarter",
        "No expansion to complex entities until the false-pass sample stays clean for a quarter",
    ),
    "collections-hardship": (
        "scale",
        "Arrangement suitability and kept promises up with no rise in pressure complaints",
        "Fund the rollout to the second collections site",
        "Vulnerability flag misses stay under warning",
    ),
    "aml-triage": (
        "platformize",
        "Narrative drafting reused by two teams; cost per alert creeping past warning",
        "Move the retrieval corpus to the shared platform budget",
        "Escalation audit pass rate holds while cost per alert comes down",
    ),
    "pricing-governance": (
        "pause",
        "Margin gain unproven against control; segment price disparity under review",
        "Freeze new work until the fairness review closes",
        "Resume only with the fairness dashboard live and disparity within appetite",
    ),
}


def _quarterly(context, now: datetime.datetime) -> None:
    forum = Forum.objects.get(cadence=Cadence.QUARTERLY_PORTFOLIO_REVIEW)
    times = _past_times(forum, now, 1, days=120)
    if not times:
        return
    session = _session(forum, times[0])
    if _done(session):
        return
    chair = context.logins["exec"]
    day = timezone.localdate(session.scheduled_at)
    review = portfolio_review_open(
        quarter=quarter_of(day), session=session, by=chair, today=day - datetime.timedelta(days=2)
    )
    _send_pack(
        session,
        "Fund, scale, restrict, consolidate, platformize, pause or retire: the decision for each "
        "capability on the scorecard, retirement candidates first.",
    )
    _start(session, chair, [chair, context.logins["risk"]])
    next_review = f"{quarter_of(day + datetime.timedelta(days=92))} quarterly portfolio review"
    for row in review.rows.select_related("capability"):
        for dimension in ScorecardDimension.values:
            entry = (row.ratings or {}).get(dimension) or {}
            if entry.get("rating") is not None:
                continue
            if entry.get("suggested") is not None:
                row = scorecard_rate(row=row, dimension=dimension, by=chair, accept=True)
            else:
                row = scorecard_rate(
                    row=row,
                    dimension=dimension,
                    by=chair,
                    rating=3,
                    note="Rated by the forum: no data speaks to this dimension.",
                )
        decision, basis, funding, condition = QUARTER_DECISIONS.get(
            row.capability.slug, ("fund", "Scorecard as rated", "No change", "Within appetite")
        )
        scorecard_decide(
            row=row,
            by=chair,
            decision=decision,
            evidence_basis=basis,
            funding_change=funding,
            risk_condition=condition,
            next_review=next_review,
        )
    portfolio_review_close(review=review, by=chair)
    PortfolioReview.objects.filter(pk=review.pk).update(
        decided_at=session.scheduled_at + datetime.timedelta(minutes=session.forum.duration_minutes)
    )
    _close(session, chair)


# --- the next weekly review -------------------------------------------------------------------------


def _next_weekly(context, now: datetime.datetime) -> None:
    """The next weekly review of the agent assist has its decision requested and a pack built for
    the PM to read before the pack job sends it the day before."""
    capability = context.capabilities[WEEKLY_SLUG]
    session = (
        Session.objects.filter(forum__name=f"Weekly ops review — {capability.name}", scheduled_at__gt=now)
        .order_by("scheduled_at")
        .first()
    )
    if session is None or session.state != SessionState.SCHEDULED or session.decision_requested:
        return
    Session.objects.filter(pk=session.pk).update(
        decision_requested="Return billing intents to the corrected prompt after its canary, or keep them on v11?"
    )
    session.refresh_from_db()
    pack_build(session=session, by=None, now=now)


def seed(context, *, now: datetime.datetime) -> None:
    _weekly(context, now)
    _monthly(context, now)
    _quarterly(context, now)
    _next_weekly(context, now)
