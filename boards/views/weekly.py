"""The weekly board (playbook 18). Not built yet: the boards issue fills it in."""

from django.http import Http404
from django.views.decorators.http import require_GET


@require_GET
def weekly_board(request):
    raise Http404
