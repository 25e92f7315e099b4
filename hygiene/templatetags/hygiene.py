"""The hygiene score where other pages show it: the boards (latest runs) and the review packs
(the runs as they stood when the pack was built, so a pack renders the same later)."""

import datetime

from django import template
from django.db.models import OuterRef, Subquery
from django.utils.dateparse import parse_datetime

from hygiene.models import Run
from hygiene.querysets import board_runs
from productops.permissions import visible_capability_ids

register = template.Library()

# The boards show the portfolio average and this many of the lowest scores.
BOARD_LOWEST = 5


@register.simple_tag(takes_context=True)
def hygiene_board_scores(context, capability=None) -> dict:
    """{"runs": latest runs (lowest score first), "average", "more"} for the chosen capability,
    or for every capability the person may read. One query."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if capability is not None:
        return {"runs": board_runs([capability.pk]), "average": None, "more": 0}
    if not getattr(user, "is_authenticated", False):
        return {"runs": [], "average": None, "more": 0}
    visible = visible_capability_ids(user)
    runs = board_runs(None if visible is None else sorted(visible))
    average = round(sum(run.score for run in runs) / len(runs)) if runs else None
    return {"runs": runs[:BOARD_LOWEST], "average": average, "more": max(0, len(runs) - BOARD_LOWEST)}


@register.simple_tag
def hygiene_pack_scores(capability_names, built_at) -> list[Run]:
    """The latest run of each named capability made before ``built_at`` (an ISO time to the
    minute, as a pack's meta keeps it: runs of that minute are left out, so the PDF built then
    and the page rendered later agree). Runs are never changed: a pack shows the same scores."""
    moment = parse_datetime(built_at) if isinstance(built_at, str) else built_at
    if not capability_names or not isinstance(moment, datetime.datetime):
        return []
    newest = (
        Run.objects.filter(capability_id=OuterRef("capability_id"), started_at__lt=moment)
        .order_by("-started_at", "-id")
        .values("pk")[:1]
    )
    return list(
        Run.objects.filter(capability__name__in=list(capability_names), started_at__lt=moment)
        .filter(pk=Subquery(newest))
        .select_related("capability")
        .order_by("capability__name")
    )
