"""``manage.py drain_job_outbox``: queue now the jobs recorded while the broker was away."""

from django.core.management.base import BaseCommand

from productops.jobs import broker_state, outbox_drain


class Command(BaseCommand):
    help = "Queue the background jobs recorded while the job service (Redis) was unreachable."

    def handle(self, *args, **options):
        done = outbox_drain()
        self.stdout.write(
            f"{done.queued} job(s) queued, {done.waiting} still waiting (job service: {broker_state()})."
        )
        if done.waiting:
            raise SystemExit(1)
