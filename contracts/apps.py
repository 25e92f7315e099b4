from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = _("Contracts")

    def ready(self):
        from actions import closure_checks
        from contracts.services import closure_data_check

        # The action page shows whether the data now proves a signal's action done.
        closure_checks.register(closure_data_check)
