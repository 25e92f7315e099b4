"""The list of boards: which one answers what, for whom, how often (playbook 18.1)."""

from django.shortcuts import render
from django.views.decorators.http import require_GET

from boards.registry import BOARDS


@require_GET
def index(request):
    return render(request, "boards/index.html", {"boards": BOARDS})
