"""Load the demo organisation: idempotent, from a fixed random seed."""

import importlib

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings

from productops.demo_people import DemoContext

# Each asset adds its demo builder here, bottom layer first: a later builder reads what the
# earlier ones made (the context carries capabilities, people, ...).
DEMO_BUILDERS = [
    "portfolio.demo",
    "actions.demo",
    "decisions.demo",
    "assumptions.demo",
    "contracts.demo",
    "releases.demo",
    "experiments.demo",
    "incidents.demo",
    "portfolio.demo_backlog",
    "forums.demo",
]

DEMO_SEED = 20260701


class Command(BaseCommand):
    help = "Create or refresh the demo organisation (six financial-retail capabilities and their people)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo logins even with DEBUG off (never in production).",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create demo logins with a known password while DEBUG is off. "
                "Use --force only on a throw-away install."
            )
        context = DemoContext(seed=DEMO_SEED, password=settings.DEMO_PASSWORD)
        # The demo's story writes notifications (expiries, escalations, Sev1 alerts); they are
        # recorded and shown in the product, but e-mailed to no one while the demo loads.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                for module_name in DEMO_BUILDERS:
                    importlib.import_module(module_name).seed(context)
        self.stdout.write(self.style.SUCCESS("Demo organisation loaded."))
        self.stdout.write("Logins (password from DEMO_PASSWORD, default 'demo'):")
        from portfolio.demo import DEMO_LOGINS

        for username, first, last, role, scope in DEMO_LOGINS:
            where = ", ".join(scope) if scope else "all capabilities"
            self.stdout.write(f"  {username:<10} {first + ' ' + last:<16} {role.label} on {where}")
