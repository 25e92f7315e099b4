from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProductOpsConfig(AppConfig):
    name = "productops"
    verbose_name = _("ProductOps")

    def ready(self):
        from productops import checks  # noqa: F401  (registers the system checks)
