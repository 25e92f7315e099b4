from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReadinessConfig(AppConfig):
    """Operating readiness (playbook 25) and onboarding (5.3, 20): reads every register and
    forum, like the boards; nothing imports it."""

    name = "readiness"
    verbose_name = _("Operating readiness")

    def ready(self):
        from forums import pack_extras
        from readiness.packs import readiness_pack_section

        # The quarterly pack freezes each capability's readiness with the rest of its evidence.
        pack_extras.register("readiness", readiness_pack_section)
