"""The review pack of a session as it was sent, and its delivery to each attendee."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from forums.choices import DeliveryStatus


class ReviewPack(models.Model):
    """The evidence review pack of one session (playbook 11.1) as a frozen snapshot.

    ``snapshot`` is the plain data the pack shows (forums.packs.pack_snapshot) and ``charts``
    the trend-chart images drawn from it when it was built, so rendering the pack later, after
    the data moved on, gives the same pages. ``pdf`` is the very file that was e-mailed. A pack
    may be rebuilt while the session is still scheduled; once sent (``sent_at``) it is frozen.
    """

    session = models.OneToOneField(
        "forums.Session", on_delete=models.CASCADE, related_name="pack", verbose_name=_("session")
    )
    snapshot = models.JSONField(_("snapshot"))
    charts = models.JSONField(
        _("chart images"), default=dict, blank=True, help_text=_("Metric id -> PNG image (base64).")
    )
    pdf = models.BinaryField(_("PDF"))
    pdf_sha256 = models.CharField(_("PDF checksum (SHA-256)"), max_length=64)
    page_count = models.PositiveSmallIntegerField(_("pages"), default=0)
    built_at = models.DateTimeField(_("built at"))
    built_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("built by"),
        help_text=_("Empty: the scheduled pack job."),
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review pack")

    def __str__(self):
        return f"{self.session} — {_('review pack')}"

    @property
    def is_frozen(self) -> bool:
        return self.sent_at is not None


class PackDelivery(models.Model):
    """One attendee's copy of a review pack by e-mail. The sending job claims the row with a
    conditional UPDATE before it sends, so a retry after a failure never sends twice; the claim
    names the task that holds it, so that task redelivered after its worker was killed takes its
    own claim back at once instead of waiting for the claim to go stale."""

    pack = models.ForeignKey(ReviewPack, on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    email = models.EmailField(_("e-mail address"))
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by task"), max_length=64, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("pack delivery")
        verbose_name_plural = _("pack deliveries")
        ordering = ["pack", "email", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pack", "recipient"], name="forums_pack_delivery_once_per_person"
            ),
        ]

    def __str__(self):
        return f"{self.email}: {self.get_status_display()}"
