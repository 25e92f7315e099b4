from django.apps import AppConfig
from django.db.models.signals import post_migrate, pre_delete
from django.utils.translation import gettext_lazy as _


class ProductOpsConfig(AppConfig):
    name = "productops"
    verbose_name = _("ProductOps")

    def ready(self):
        from django.contrib.auth import get_user_model

        from productops import audit, checks, choice_labels  # noqa: F401  (checks: registers the system checks)

        # get_<field>_display without translating every label of the field on each call.
        choice_labels.install()

        # The audit history is append-only (productops.audit): every history table gets its
        # trigger after each migrate, and a person who acted in it is never deleted.
        post_migrate.connect(audit.guard_after_migrate, sender=self, dispatch_uid="productops-history-guards")
        pre_delete.connect(
            audit.refuse_deleting_people_in_the_history,
            sender=get_user_model(),
            dispatch_uid="productops-people-in-history",
        )
