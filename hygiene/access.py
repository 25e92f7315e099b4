"""Loading hygiene records for a request: 404 when the person holds no role on the capability."""

from django.shortcuts import get_object_or_404

from hygiene.models import Finding
from portfolio.access import get_capability_for_user  # noqa: F401  (the capability page loads through it)


def get_finding_for_user(user, pk: int) -> Finding:
    return get_object_or_404(Finding.objects.visible_to(user).select_related("run__capability"), pk=pk)
