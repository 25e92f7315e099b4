from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HygieneConfig(AppConfig):
    name = "hygiene"
    verbose_name = _("Ops hygiene")

    def ready(self):
        from forums.signals import minutes_published
        from hygiene.receivers import run_after_minutes

        # A forum session's published minutes change what the checks see (decisions recorded,
        # actions closed): its capabilities are checked again.
        minutes_published.connect(run_after_minutes, dispatch_uid="hygiene-run-after-minutes")
