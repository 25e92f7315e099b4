"""Files people attach as evidence (closure evidence, release attestations): the one check
every upload goes through before it is stored outside the static root."""

import os

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _


@deconstructible
class EvidenceFileValidator:
    """A known document or image type, at most ``max_bytes``; the error names the file."""

    def __init__(self, extensions, max_bytes: int = 10 * 1024 * 1024):
        self.extensions = list(extensions)
        self.max_bytes = max_bytes

    def __call__(self, file) -> None:
        name = os.path.basename(file.name or "")
        extension = os.path.splitext(name)[1].lower().lstrip(".")
        if extension not in self.extensions:
            raise ValidationError(
                _("Evidence files must be one of %(types)s; “%(name)s” is not."),
                code="file_type",
                params={"types": ", ".join(self.extensions), "name": name},
            )
        if file.size is not None and file.size > self.max_bytes:
            raise ValidationError(
                _("Evidence files may be at most %(limit)s MB; “%(name)s” is %(size).1f MB."),
                code="file_size",
                params={
                    "limit": self.max_bytes // (1024 * 1024),
                    "name": name,
                    "size": file.size / (1024 * 1024),
                },
            )

    def __eq__(self, other):
        return (
            isinstance(other, EvidenceFileValidator)
            and self.extensions == other.extensions
            and self.max_bytes == other.max_bytes
        )
