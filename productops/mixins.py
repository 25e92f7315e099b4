"""Shared model pieces: readable ids and the change history every asset keeps."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from productops import references
from productops.models import ReadableIdSequence


class TrackedModel(models.Model):
    """An asset whose every change is recorded with who, when and what (shown on its page)."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(inherit=True)

    class Meta:
        abstract = True


class ReadableIdModel(models.Model):
    """A record people quote in meetings by a readable id such as ``ACT-0042``.

    Subclasses set ``READABLE_ID_PREFIX`` and ``READABLE_ID_DIGITS``, or override
    ``readable_id_prefix()`` when the prefix depends on the record (``REL-2026``).
    """

    READABLE_ID_PREFIX = ""
    READABLE_ID_DIGITS = 4

    readable_id = models.CharField(_("id"), max_length=32, unique=True, editable=False)

    class Meta:
        abstract = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        references.register(cls.READABLE_ID_PREFIX, cls)

    def save(self, *args, **kwargs):
        self.assign_readable_id()
        super().save(*args, **kwargs)

    def readable_id_prefix(self) -> str:
        return self.READABLE_ID_PREFIX

    def assign_readable_id(self) -> None:
        if not self.readable_id:
            prefix = self.readable_id_prefix()
            number = ReadableIdSequence.take_next(prefix)
            self.readable_id = f"{prefix}-{number:0{self.READABLE_ID_DIGITS}d}"
