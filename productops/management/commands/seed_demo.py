"""Load the demo organisation: idempotent, from a fixed random seed.

``--scale N`` then adds regions (the six demo capabilities again per region or business line, a
year of telemetry each; see ``portfolio/demo_scale.py`` and ``contracts/demo_scale.py``) until
the organisation holds at least N observations in all: 1,000,000 takes about four minutes on
PostgreSQL. SQLite is refused above ``SQLITE_SCALE_MAX`` observations (it would work, for a long
time, with a database file of gigabytes): the boards at scale are measured on PostgreSQL.
"""

import contextlib
import importlib
import io
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import override_settings
from django.utils import timezone

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
    "hygiene.demo",
    "readiness.demo",
]

DEMO_SEED = 20260701

# What each region of the scaled demo runs after ``portfolio.demo_scale`` has made its
# capabilities and owners, bottom layer first, as DEMO_BUILDERS do for the home capabilities.
SCALE_BUILDERS = [
    "actions.demo_scale",
    "contracts.demo_scale",
    "releases.demo",
    "incidents.demo",
]
# The most observations --scale asks of SQLite: the home demo and one region.
SQLITE_SCALE_MAX = 300_000


class Command(BaseCommand):
    help = "Create or refresh the demo organisation (six financial-retail capabilities and their people)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load the demo logins even with DEBUG off (never in production).",
        )
        parser.add_argument(
            "--scale",
            type=int,
            default=0,
            metavar="N",
            help="Then add regions (the six capabilities again, a year of telemetry each) until there "
            "are at least N observations in all, e.g. 1000000. PostgreSQL only above "
            f"{SQLITE_SCALE_MAX:,}.",
        )

    def handle(self, *args, **options):
        if not settings.DEBUG and not options["force"]:
            raise CommandError(
                "Refusing to create demo logins with a known password while DEBUG is off. "
                "Use --force only on a throw-away install."
            )
        scale = options["scale"]
        if scale < 0:
            raise CommandError("--scale takes a number of observations, e.g. --scale 1000000.")
        if scale > SQLITE_SCALE_MAX and connection.vendor != "postgresql":
            raise CommandError(
                f"--scale {scale:,} needs PostgreSQL: on {connection.vendor} only up to "
                f"{SQLITE_SCALE_MAX:,} observations. Set DATABASE_URL=postgres://user@host:5432/name."
            )
        context = DemoContext(seed=DEMO_SEED, password=settings.DEMO_PASSWORD)
        # The demo's story writes notifications (expiries, escalations, Sev1 alerts); they are
        # recorded and shown in the product, but e-mailed to no one while the demo loads.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
            with transaction.atomic():
                for module_name in DEMO_BUILDERS:
                    importlib.import_module(module_name).seed(context)
            if scale:
                self.scale(context, scale)
        self.stdout.write(self.style.SUCCESS("Demo organisation loaded."))
        self.stdout.write("Logins (password from DEMO_PASSWORD, default 'demo'):")
        from portfolio.demo import DEMO_LOGINS

        for username, first, last, role, scope in DEMO_LOGINS:
            where = ", ".join(scope) if scope else "all capabilities"
            self.stdout.write(f"  {username:<10} {first + ' ' + last:<16} {role.label} on {where}")

    def scale(self, context, observations: int) -> None:
        """Add regions until the organisation holds at least ``observations`` observations; each
        region in its own transaction, so an interrupted run keeps the regions it finished and a
        second run writes nothing new."""
        from contracts.models import Observation
        from portfolio.demo_scale import HOME_SLUGS, region_seed
        from productops.models import Notification

        total = Observation.objects.filter(contract__capability__slug__in=HOME_SLUGS).count()
        index = 0
        while total < observations:
            started, clock = timezone.now(), time.monotonic()
            with transaction.atomic():
                region = region_seed(context, index)
                # The home builders print one line each: a region prints its own summary below.
                with contextlib.redirect_stdout(io.StringIO()):
                    for module_name in SCALE_BUILDERS:
                        importlib.import_module(module_name).seed(region)
                Notification.objects.filter(created_at__gte=started, sent_at__isnull=True).update(
                    sent_at=timezone.now()
                )
            total += region.summary["observations"]
            index += 1
            self.stdout.write(
                "Scale: {name} ({code}), {contracts} contracts, {observations:,} observations "
                "({written:,} written), {evaluated} evaluated in {seconds:.1f} s.".format(
                    name=region.name, code=region.code, seconds=time.monotonic() - clock, **region.summary
                )
            )
        self.stdout.write(f"Scale: {index} regions, {total:,} observations in all.")
