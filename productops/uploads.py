"""Files people attach as evidence (closure evidence, release attestations): the one check
every upload goes through before it is stored outside the static root, and the one way a stored
file is handed back (to people the caller's access helper has already let in).

The type is judged by the file's content, not only by its name: a script or a web page renamed
``sample.pdf`` is refused, so a reviewer who downloads "a PDF" gets one."""

import io
import json
import os
import zipfile

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext as gettext_now
from django.utils.translation import gettext_lazy as _

# How many bytes of a text file are read to judge it (the whole of a small file).
_TEXT_SAMPLE = 64 * 1024
_SIGNATURES = {
    "pdf": (b"%PDF-",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}
# Office documents are ZIP packages; the part that makes one a workbook or a document.
_OFFICE_PARTS = {"xlsx": "xl/workbook.xml", "docx": "word/document.xml"}
_TEXT_TYPES = {"csv", "txt", "md"}
# Content no text evidence starts with: documents, images, archives, programs.
_BINARY_STARTS = (
    b"%PDF-",
    b"\x89PNG",
    b"\xff\xd8\xff",
    b"GIF8",
    b"PK\x03\x04",
    b"MZ",
    b"\x7fELF",
    b"\xca\xfe\xba\xbe",
)
# Markup a browser would run as a page if it were ever shown inline.
_MARKUP_STARTS = (b"<!doctype html", b"<html", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe")


def _head(file, size: int) -> bytes:
    """The first ``size`` bytes of an upload (or a stored file), leaving it rewound."""
    file.seek(0)
    head = file.read(size)
    file.seek(0)
    return head if isinstance(head, bytes) else head.encode()


def _is_office_package(file, part: str) -> bool:
    file.seek(0)
    try:
        with zipfile.ZipFile(io.BytesIO(file.read())) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    finally:
        file.seek(0)
    return "[Content_Types].xml" in names and part in names


def _is_text(head: bytes) -> bool:
    if b"\x00" in head or head.startswith(_BINARY_STARTS):
        return False
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith(_MARKUP_STARTS):
        return False
    # A multi-byte character may be cut at the end of a sample.
    sample = head if len(head) < _TEXT_SAMPLE else head[:-4]
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        # Excel's CSV in a Western code page: text too, as long as it has no control bytes.
        return not any(byte < 0x09 or 0x0E <= byte < 0x20 for byte in head)
    return True


def content_matches(file, extension: str) -> bool:
    """Whether the file's bytes are what its extension says (PDF, image, workbook, text ...)."""
    if extension in _SIGNATURES:
        return _head(file, 16).startswith(_SIGNATURES[extension])
    if extension in _OFFICE_PARTS:
        return _head(file, 4) == b"PK\x03\x04" and _is_office_package(file, _OFFICE_PARTS[extension])
    if extension == "json":
        file.seek(0)
        try:
            json.loads(file.read())
        except (ValueError, UnicodeDecodeError):
            return False
        finally:
            file.seek(0)
        return True
    if extension in _TEXT_TYPES:
        return _is_text(_head(file, _TEXT_SAMPLE))
    return False


@deconstructible
class EvidenceFileValidator:
    """A known document or image type whose content matches its name, at most ``max_bytes``;
    the error names the file."""

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
        if not content_matches(file, extension):
            raise ValidationError(
                _("“%(name)s” is not a %(type)s file: its content does not match its name."),
                code="file_content",
                params={"name": name, "type": extension.upper()},
            )

    def __eq__(self, other):
        return (
            isinstance(other, EvidenceFileValidator)
            and self.extensions == other.extensions
            and self.max_bytes == other.max_bytes
        )


def evidence_file_response(file, filename: str) -> FileResponse:
    """A stored evidence file as a download, for a person the view has already let in.

    Always an attachment, never shown inline, and sandboxed should a browser render it anyway:
    a file cannot run script in ProductOps' origin."""
    if not file:
        raise Http404(gettext_now("This evidence has no file."))
    try:
        handle = file.open("rb")
    except FileNotFoundError as error:
        raise Http404(gettext_now("The evidence file is missing from storage.")) from error
    response = FileResponse(handle, as_attachment=True, filename=filename)
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
