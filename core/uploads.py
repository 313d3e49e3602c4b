"""Uploaded files (vendor documents, obligation evidence, submitted-measurement evidence): a size
limit, and the type checked by the content, not the name. Every upload goes through ``check_upload``.

Accepted: PDF, PNG, JPEG, XLSX, CSV and plain text. Each is recognised by its first bytes
(``%PDF-``, the PNG signature, JPEG's SOI marker) or its structure (an XLSX is a ZIP holding
``[Content_Types].xml`` and ``xl/workbook.xml``; CSV and text are UTF-8 without NUL bytes), and
the name's extension must agree with what the content is. Files are stored under a random name
of Steward's choosing; the uploader's name is kept only as data.
"""

from __future__ import annotations

import hashlib
import uuid
import zipfile
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_HEAD = 8192

# extension -> (kind the content must be, content type stored and served)
EXTENSIONS: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "png": ("png", "image/png"),
    "jpg": ("jpeg", "image/jpeg"),
    "jpeg": ("jpeg", "image/jpeg"),
    "xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "csv": ("text", "text/csv"),
    "txt": ("text", "text/plain"),
}
KIND_LABELS = {
    "pdf": "a PDF document",
    "png": "a PNG image",
    "jpeg": "a JPEG image",
    "xlsx": "an Excel (XLSX) workbook",
    "text": "plain text",
}
ACCEPTED = "PDF, PNG, JPEG, XLSX, CSV or TXT"


def max_bytes() -> int:
    """The largest upload accepted, in bytes (``STEWARD_UPLOAD_MAX_BYTES``, 10 MB by default)."""
    return int(getattr(settings, "STEWARD_UPLOAD_MAX_BYTES", DEFAULT_MAX_BYTES))


@dataclass(frozen=True)
class CheckedFile:
    """What Steward knows about an accepted upload."""

    original_name: str
    extension: str
    content_type: str
    size: int
    sha256: str

    def stored_name(self) -> str:
        return f"{uuid.uuid4().hex}.{self.extension}"


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _is_xlsx(upload: Any) -> bool:
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names


def _is_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def sniff(head: bytes, upload: Any, whole: bytes | None) -> str | None:
    """The kind of file the content is (a key of KIND_LABELS), or None for anything else."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"PK\x03\x04"):
        return "xlsx" if _is_xlsx(upload) else None
    if whole is not None and _is_text(whole):
        return "text"
    return None


def check_upload(upload: Any, *, field: str = "file") -> CheckedFile:
    """Accept UPLOAD or raise ValidationError naming FIELD; nothing is stored here.

    Reads the file once (hashing it), and leaves it rewound for storage.
    """
    if upload is None:
        raise ValidationError({field: f"Attach a file ({ACCEPTED})."})
    name = str(getattr(upload, "name", "") or "")[:255]
    extension = _extension(name)
    if extension not in EXTENSIONS:
        raise ValidationError({field: f"“{name or 'the file'}” is not accepted: send a {ACCEPTED} file."})
    limit = max_bytes()
    digest = hashlib.sha256()
    size = 0
    head = b""
    chunks: list[bytes] = []
    upload.seek(0)
    for chunk in upload.chunks():
        size += len(chunk)
        if size > limit:
            raise ValidationError(
                {
                    field: f"The file is larger than the {limit // (1024 * 1024) or 1} MB allowed "
                    f"({limit} bytes)."
                }
            )
        digest.update(chunk)
        if len(head) < _HEAD:
            head += chunk[: _HEAD - len(head)]
        if EXTENSIONS[extension][0] == "text":
            chunks.append(chunk)
    if size == 0:
        raise ValidationError({field: "The file is empty."})
    expected, content_type = EXTENSIONS[extension]
    kind = sniff(head, upload, b"".join(chunks) if chunks else None)
    upload.seek(0)
    if kind is None:
        raise ValidationError(
            {
                field: f"The content of “{name}” is not {KIND_LABELS[expected]}, whatever its name says; "
                f"send a {ACCEPTED} file."
            }
        )
    if kind != expected:
        raise ValidationError(
            {field: f"“{name}” is named as {KIND_LABELS[expected]} but its content is {KIND_LABELS[kind]}."}
        )
    return CheckedFile(
        original_name=name,
        extension=extension,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
    )


class files_removed_on_failure:  # noqa: N801 (used as a context manager, reads like one)
    """Delete the files stored inside the block if the block fails: the database rolls back, but
    Django cannot roll back a file write, and an orphan file would be "half-written" input.

    ``with files_removed_on_failure() as keep: obj.file.save(...); keep(obj.file); obj.save()``
    """

    def __init__(self) -> None:
        self.stored: list[Any] = []

    def __enter__(self) -> Any:
        return self.stored.append

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is not None:
            for field_file in self.stored:
                field_file.storage.delete(field_file.name)
