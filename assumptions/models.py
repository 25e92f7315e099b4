"""The assumption ledger (playbook 14.2) and its review rows (playbook 21.4)."""

import re

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from assumptions.choices import (
    LIVE_STATUSES,
    TRANSITIONS,
    AssumptionStatus,
    AssumptionType,
    Confidence,
    ObjectType,
)
from assumptions.querysets import AssumptionQuerySet
from productops.errors import DomainError
from productops.links import reverse
from productops.mixins import ReadableIdModel, TrackedModel
from productops.permissions import require_change
from productops.roles import Activity
from productops.transitions import check_transition, lock

# A metric contract id as the contracts app names it: ``<capability_key>.<metric_key>``,
# e.g. ``cc_agent_assist.repeat_contact_7d``.
CONTRACT_ID = re.compile(r"^[a-z0-9_]+\.[a-z0-9_]+$")


def validate_contract_ids(value) -> None:
    """A list of metric contract ids (``cc_agent_assist.repeat_contact_7d``)."""
    if not isinstance(value, list):
        raise ValidationError(_("Give a list of metric contract ids."), code="invalid")
    bad = [str(item) for item in value if not isinstance(item, str) or not CONTRACT_ID.match(item)]
    if bad:
        raise ValidationError(
            _(
                "Not a metric contract id: %(ids)s. Write <capability>.<metric> in lower case, "
                "e.g. cc_agent_assist.repeat_contact_7d."
            ),
            code="invalid",
            params={"ids": ", ".join(bad)},
        )


def validate_object_types(value) -> None:
    """A list of release object types (model, prompt, data, knowledge, tool, policy, workflow)."""
    if not isinstance(value, list):
        raise ValidationError(_("Give a list of object types."), code="invalid")
    bad = [str(item) for item in value if item not in ObjectType.values]
    if bad:
        raise ValidationError(
            _("Not an object type a release changes: %(types)s. Choose among %(allowed)s."),
            code="invalid",
            params={"types": ", ".join(bad), "allowed": ", ".join(ObjectType.values)},
        )


class Assumption(ReadableIdModel, TrackedModel):
    """A belief a capability's roadmap or business case rests on (playbook 14.2): value,
    adoption, risk, cost, capacity, policy or technical, with its owner, the evidence for it,
    how confident the owner is, until when it may be relied on, and what decision depends on it.

    Its status changes only through ``review``: each change is one ``AssumptionReview`` row.
    """

    READABLE_ID_PREFIX = "ASM"
    READABLE_ID_DIGITS = 4

    capability = models.ForeignKey(
        "portfolio.Capability",
        on_delete=models.PROTECT,
        related_name="assumptions",
        verbose_name=_("capability"),
    )
    statement = models.TextField(_("statement"))
    type = models.CharField(_("type"), max_length=16, choices=AssumptionType.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_assumptions",
        verbose_name=_("owner"),
    )
    evidence = models.TextField(
        _("evidence"),
        blank=True,
        help_text=_(
            "What the current status rests on, with its source and evidence level. A review "
            "replaces it with its new evidence (earlier evidence stays in the reviews and history)."
        ),
    )
    # Three words rather than a 0-100 score: they are what people can honestly say in a forum,
    # and the evidence quality level (E1-E5) of the contracts that test it carries the rest.
    confidence = models.CharField(
        _("confidence"), max_length=8, choices=Confidence.choices, default=Confidence.MEDIUM
    )
    expires_on = models.DateField(
        _("expiry"), help_text=_("The last day the ledger may rely on it without a new review.")
    )
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AssumptionStatus.choices,
        default=AssumptionStatus.NEEDS_EVIDENCE,
        editable=False,
    )
    decision_impact = models.TextField(
        _("decision impact"),
        blank=True,
        help_text=_("What decision or roadmap item depends on it, and what changes if it fails."),
    )
    # A lazy reference to the metric contracts that test the belief: the contracts app sits
    # above this one, so this stores their metric ids (``cc_agent_assist.repeat_contact_7d``)
    # and the contracts app resolves them (MetricContract.metric_id); an id with no contract yet
    # is an evidence gap, not an error.
    tested_by_contracts = models.JSONField(
        _("tested by contracts"),
        default=list,
        blank=True,
        validators=[validate_contract_ids],
        help_text=_("Metric contract ids, e.g. cc_agent_assist.repeat_contact_7d."),
    )
    # What a release may change under the belief: when a release changes one of these on the
    # capability, the releases app calls services.assumptions_expire_for_release.
    depends_on_object_types = models.JSONField(
        _("depends on"),
        default=list,
        blank=True,
        validators=[validate_object_types],
        help_text=_("When a release changes one of these, the assumption turns expired."),
    )
    next_review_on = models.DateField(_("next review"), null=True, blank=True, editable=False)

    objects = AssumptionQuerySet.as_manager()

    class Meta:
        verbose_name = _("assumption")
        verbose_name_plural = _("assumptions")
        ordering = ["-pk"]
        indexes = [models.Index(fields=["status", "expires_on"], name="assumption_status_expiry")]

    def __str__(self):
        return f"{self.readable_id} {self.statement[:80]}"

    def get_absolute_url(self):
        return reverse("assumptions:assumption-detail", kwargs={"readable_id": self.readable_id})

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    def allowed_statuses(self) -> list[str]:
        """The statuses a review may lead to from here, in the order of the choices."""
        allowed = TRANSITIONS.get(self.status, set())
        return [value for value in AssumptionStatus.values if value in allowed]

    @transaction.atomic
    def review(
        self,
        *,
        by,
        new_status: str,
        new_evidence: str,
        roadmap_impact: str = "",
        next_review=None,
        source=None,
        expires_on=None,
        confidence: str | None = None,
    ) -> "AssumptionReview":
        """Record one assumption review (playbook 21.4) and move the status with it.

        ``by`` is the reviewer (None: the ledger itself, e.g. the daily expiry job). ``source``
        is the forum session or decision where the review happened (any saved model instance).
        Leaving *expired* for a live status needs a new expiry date after today (``expires_on``);
        a review may also reset the expiry date and the confidence.
        Raises PermissionDenied, TransitionNotAllowed (409) or DomainError naming the field.
        """
        if by is not None:
            require_change(by, Activity.ASSUMPTION_LEDGER, self.capability)
        current = lock(self)
        check_transition(TRANSITIONS, current.status, new_status, choices=AssumptionStatus)
        new_evidence = (new_evidence or "").strip()
        if not new_evidence:
            raise DomainError(
                gettext("A review needs new evidence: say what was observed."), field="new_evidence"
            )
        today = timezone.localdate()
        if next_review is not None and next_review < today:
            raise DomainError(gettext("The next review cannot be in the past."), field="next_review")
        if expires_on is not None and expires_on <= today:
            raise DomainError(gettext("The new expiry date must be after today."), field="expires_on")
        if new_status in LIVE_STATUSES:
            if current.status == AssumptionStatus.EXPIRED and expires_on is None:
                raise DomainError(
                    gettext(
                        "An expired assumption is re-opened only with new evidence and a new expiry date."
                    ),
                    field="expires_on",
                )
            if expires_on is None and current.expires_on < today:
                raise DomainError(
                    gettext("Its expiry date has passed: give a new expiry date."), field="expires_on"
                )
        if confidence is not None and confidence not in Confidence.values:
            raise DomainError(gettext("Choose low, medium or high."), field="confidence")

        previous_status = current.status
        # The ledger's evidence column says what the current status rests on; what it said
        # before stays in the review rows and the history.
        current.evidence = new_evidence
        current.status = new_status
        current.next_review_on = next_review
        if expires_on is not None:
            current.expires_on = expires_on
        if confidence is not None:
            current.confidence = confidence
        current._history_user = by
        current._change_reason = gettext("Review: %(old)s → %(new)s") % {
            "old": AssumptionStatus(previous_status).label,
            "new": AssumptionStatus(new_status).label,
        }
        current.save()
        row = AssumptionReview(
            assumption=current,
            previous_status=previous_status,
            new_evidence=new_evidence,
            new_status=new_status,
            roadmap_impact=(roadmap_impact or "").strip(),
            next_review=next_review,
            reviewed_by=by,
        )
        if source is not None:
            row.source_type = ContentType.objects.get_for_model(source)
            row.source_id = source.pk
        row.save()
        for name in ["status", "evidence", "next_review_on", "expires_on", "confidence", "updated_at"]:
            setattr(self, name, getattr(current, name))
        return row


class AssumptionReview(models.Model):
    """One row of the playbook's assumption review table (21.4): the status an assumption had,
    the new evidence, the status it moved to, the roadmap impact and the next review — with who
    reviewed it (no one: the ledger itself), when, and where (forum session or decision)."""

    assumption = models.ForeignKey(
        Assumption, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("assumption")
    )
    previous_status = models.CharField(_("previous status"), max_length=16, choices=AssumptionStatus.choices)
    new_evidence = models.TextField(_("new evidence"))
    new_status = models.CharField(_("new status"), max_length=16, choices=AssumptionStatus.choices)
    roadmap_impact = models.TextField(_("roadmap impact"), blank=True)
    next_review = models.DateField(_("next review"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assumption_reviews",
        verbose_name=_("reviewed by"),
        help_text=_("Empty: the ledger itself (expiry date passed, or a release changed what it rests on)."),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), default=timezone.now)
    # Where the review happened: a forum session or a decision. Generic, because those apps sit
    # above (forums) or beside (decisions) this one.
    source_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("source type"),
    )
    source_id = models.PositiveBigIntegerField(_("source id"), null=True, blank=True)
    source = GenericForeignKey("source_type", "source_id")

    class Meta:
        verbose_name = _("assumption review")
        verbose_name_plural = _("assumption reviews")
        ordering = ["reviewed_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(source_type__isnull=True, source_id__isnull=True)
                | models.Q(source_type__isnull=False, source_id__isnull=False),
                name="assumption_review_source_complete",
            )
        ]

    def __str__(self):
        return f"{self.assumption_id}: {self.previous_status} → {self.new_status}"

    def save(self, *args, **kwargs):
        # A review row is the record of what was decided on which evidence: never rewritten.
        if not self._state.adding:
            raise DomainError(gettext("A recorded review is never changed."))
        super().save(*args, **kwargs)
