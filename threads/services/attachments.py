"""Store uploaded files as attachments: detect their type, extract their text, and make image variants."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import os
import re
import unicodedata
import uuid
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from PIL import Image, UnidentifiedImageError

from athena_site.api.errors import ValidationFailed
from threads.conf import thread_setting
from threads.errors import AttachmentTooLarge, UnsupportedFileType
from threads.models import Attachment, Media

logger = logging.getLogger(__name__)

OCTET_STREAM = "application/octet-stream"
# Leading bytes of the binary formats Athena reads, checked before anything the client declares.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
# Images larger than this are refused rather than decoded (a small file can expand enormously).
MAX_IMAGE_PIXELS = 50_000_000
EXTENSIONS = {
    "text/plain": ".txt",
    "text/markdown": ".md",
    "text/csv": ".csv",
    "application/json": ".json",
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
}
_UNSAFE_FILENAME_CHARACTERS = re.compile(r"[^\w.\- ()]+")
MAX_FILENAME_CHARS = 200


def sanitize_filename(name: str) -> str:
    """Return a display filename without directories, control characters or path tricks."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").split("/")[-1]
    name = "".join(character for character in name if unicodedata.category(character)[0] != "C")
    name = _UNSAFE_FILENAME_CHARACTERS.sub("_", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME_CHARS:
        stem, extension = os.path.splitext(name)
        name = stem[: MAX_FILENAME_CHARS - len(extension[:20])] + extension[:20]
    return name or "file"


def detect_content_type(data: bytes, filename: str) -> str:
    """Return the content type of `data` judged from its bytes.

    Binary formats are recognised by their signature (images are also decoded by Pillow). Valid
    UTF-8 text without NUL characters is JSON when it parses as an object or array, CSV or
    Markdown when the filename says so and the content agrees, and plain text otherwise.
    """
    for signature, content_type in _SIGNATURES:
        if data.startswith(signature):
            return _checked_image(data, content_type) if content_type.startswith("image/") else content_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return _checked_image(data, "image/webp")
    if b"\x00" in data:
        return OCTET_STREAM
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return OCTET_STREAM
    extension = os.path.splitext(filename)[1].lower()
    if text.lstrip()[:1] in ("{", "["):
        try:
            json.loads(text)
        except ValueError:
            pass
        else:
            return "application/json"
    if extension == ".csv" and _looks_like_csv(text):
        return "text/csv"
    if extension in (".md", ".markdown"):
        return "text/markdown"
    return "text/plain"


def _checked_image(data: bytes, claimed: str) -> str:
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > MAX_IMAGE_PIXELS:
                return OCTET_STREAM
            image.verify()
            return _IMAGE_FORMATS.get(image.format or "", OCTET_STREAM)
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return OCTET_STREAM


def _looks_like_csv(text: str) -> bool:
    try:
        csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        return False
    return True


def extract_text(data: bytes, content_type: str) -> str:
    """Return the text sent to the model for a text, Markdown, CSV, JSON or PDF file, or an empty string for images."""
    if content_type == "application/pdf":
        return _pdf_text(data)
    if content_type.startswith("text/") or content_type == "application/json":
        return data.decode("utf-8-sig")
    return ""


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        raise ValidationFailed(errors={"file": ["The PDF could not be read."]}) from None
    return "\n\n".join(page.strip() for page in pages if page.strip())


def attachment_create(*, workspace: Any, user: Any, upload: UploadedFile) -> Attachment:
    """Store an uploaded file as an attachment of the workspace and return it.

    Raises AttachmentTooLarge (413) above ATHENA_ATTACHMENT_MAX_BYTES, UnsupportedFileType (422)
    when the detected type is not in ATHENA_ATTACHMENT_ALLOWED_TYPES, and ValidationFailed for
    an unreadable PDF. Images also get a Media row with a thumbnail variant.
    """
    limit = int(thread_setting("ATHENA_ATTACHMENT_MAX_BYTES"))
    if upload.size is not None and upload.size > limit:
        raise AttachmentTooLarge(f"The file is larger than the limit of {limit} bytes.")
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise AttachmentTooLarge(f"The file is larger than the limit of {limit} bytes.")
    if not data:
        raise ValidationFailed(errors={"file": ["The submitted file is empty."]})

    filename = sanitize_filename(upload.name or "")
    content_type = detect_content_type(data, filename)
    allowed = list(thread_setting("ATHENA_ATTACHMENT_ALLOWED_TYPES"))
    if content_type not in allowed:
        raise UnsupportedFileType(
            f"Files of type {content_type} are not accepted. Accepted types: {', '.join(allowed)}.",
            errors={"file": [f"The content is {content_type}, which is not an accepted type."]},
        )
    text = extract_text(data, content_type)

    storage_name = f"{uuid.uuid4().hex}{EXTENSIONS.get(content_type, '')}"
    with transaction.atomic():
        attachment = Attachment(
            workspace=workspace,
            uploaded_by=user if getattr(user, "is_authenticated", False) else None,
            filename=filename,
            content_type=content_type,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            extracted_text=text,
        )
        attachment.file.save(storage_name, ContentFile(data), save=False)
        if content_type.startswith("image/"):
            attachment.media = _media_create(workspace=workspace, data=data, attachment=attachment)
        attachment.save()
    logger.info(
        "Attachment stored",
        extra={"workspace_id": str(workspace.pk), "attachment_id": str(attachment.pk), "size": len(data)},
    )
    return attachment


def _media_create(*, workspace: Any, data: bytes, attachment: Attachment) -> Media:
    size = int(thread_setting("ATHENA_MEDIA_THUMBNAIL_SIZE"))
    with Image.open(io.BytesIO(data)) as image:
        width, height = image.size
        thumbnail = image.convert("RGBA") if image.mode not in ("RGB", "RGBA") else image.copy()
    thumbnail.thumbnail((size, size))
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="PNG")
    media = Media(workspace=workspace, content_type=attachment.content_type, size=len(data), width=width, height=height)
    # The original is the attachment's own stored file, so only the variant is written.
    media.file.name = attachment.file.name
    stem = os.path.splitext(attachment.file.name)[0]
    variant_name = media.file.storage.save(f"{stem}-thumbnail.png", ContentFile(buffer.getvalue()))
    media.variants = {
        "thumbnail": {
            "path": variant_name,
            "width": thumbnail.width,
            "height": thumbnail.height,
            "content_type": "image/png",
        }
    }
    media.save()
    return media


def attachment_delete(*, attachment: Attachment) -> None:
    """Delete an attachment, its media and their stored files. Messages that used it lose the link."""
    storage = attachment.file.storage
    names = [attachment.file.name]
    media = attachment.media
    if media is not None:
        names.extend(variant["path"] for variant in (media.variants or {}).values())
    with transaction.atomic():
        attachment.delete()
        if media is not None:
            media.delete()
        # Files are removed after the commit, so a rollback never leaves a row without its file.
        transaction.on_commit(lambda: _delete_files(storage, names))


def _delete_files(storage: Any, names: list[str]) -> None:
    for name in names:
        if name:
            storage.delete(name)
