"""Evidence files: checked by content and size, stored under their SHA-256."""

import hashlib

from django.core.exceptions import ValidationError

from classification.models import EvidenceFile, ReviewAction
from metering import counters

MAX_EVIDENCE_FILES = 5
MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
# Magic numbers of the accepted evidence formats; the uploaded name and type are not trusted.
EVIDENCE_TYPES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def _sniff(upload) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for magic, content_type in EVIDENCE_TYPES:
        if head.startswith(magic):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def evidence_files_check(files) -> list[tuple[object, str]]:
    """Return ``(upload, content type)`` for each file, or raise ``ValidationError({"files"})``
    naming every file that is too large or not a PDF or image (checked by content)."""
    return _check_files(files)


def _check_files(files) -> list[tuple[object, str]]:
    files = list(files or [])
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationError(
            {"files": f"{len(files)} files attached; at most {MAX_EVIDENCE_FILES} are accepted."}
        )
    checked, problems = [], []
    for upload in files:
        if upload.size > MAX_EVIDENCE_BYTES:
            problems.append(
                f"{upload.name} is {upload.size // 1024} KB, above the limit of "
                f"{MAX_EVIDENCE_BYTES // (1024 * 1024)} MB."
            )
            continue
        content_type = _sniff(upload)
        if content_type is None:
            problems.append(f"{upload.name} is not a PDF or an image (PNG, JPEG, GIF, WebP).")
            continue
        checked.append((upload, content_type))
    if problems:
        raise ValidationError({"files": problems})
    return checked


def evidence_files_store(model, checked, **owner) -> list:
    """Save checked uploads as ``model`` rows (an evidence file model with ``name``,
    ``content_type``, ``size``, ``sha256`` and ``file``), each with ``owner``'s fields
    (tenant and the action or link it belongs to); stored under their SHA-256's prefix."""
    stored = []
    for upload, content_type in checked:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        row = model(
            **owner,
            name=upload.name[-200:],
            content_type=content_type,
            size=upload.size,
            sha256=digest.hexdigest(),
        )
        row.file.save(f"{digest.hexdigest()[:16]}-{upload.name[-80:]}", upload, save=False)
        row.full_clean()
        row.save()
        stored.append(row)
    return stored


def _store_files(action: ReviewAction, checked) -> list[EvidenceFile]:
    stored = evidence_files_store(EvidenceFile, checked, tenant_id=action.tenant_id, action=action)
    counters.add_many(
        [
            (action.tenant_id, counters.EVIDENCE_FILES, len(stored)),
            (action.tenant_id, counters.EVIDENCE_BYTES, sum(e.size for e in stored)),
        ]
    )
    return stored
