"""The evidence binder (playbook 18.1): from a figure to its contract, source, signals, decisions
and action closure. Not built yet: the boards issue fills it in."""

from django.http import Http404
from django.views.decorators.http import require_GET


@require_GET
def evidence_binder(request, metric_id):
    raise Http404
