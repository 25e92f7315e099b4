from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssumptionsConfig(AppConfig):
    name = "assumptions"
    verbose_name = _("Assumptions")
