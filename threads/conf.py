"""Settings of the threads app, each read when used so that tests and deployments can override it."""

from typing import Any

from django.conf import settings

# Setting name -> default.
DEFAULTS: dict[str, Any] = {
    # Largest attachment, in bytes (20 MiB).
    "ATHENA_ATTACHMENT_MAX_BYTES": 20 * 1024 * 1024,
    # Content types an attachment may have, as detected from its bytes.
    "ATHENA_ATTACHMENT_ALLOWED_TYPES": [
        "text/plain",
        "text/markdown",
        "text/csv",
        "application/json",
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
    ],
    # Characters of an attachment's extracted text sent to the model. The rest is cut.
    "ATHENA_ATTACHMENT_MAX_TEXT_CHARS": 100_000,
    # Longest side of the thumbnail variant of an image, in pixels.
    "ATHENA_MEDIA_THUMBNAIL_SIZE": 256,
    # A run lock older than this is taken to belong to a crashed process and may be taken over.
    "ATHENA_THREAD_RUN_STALE_SECONDS": 600,
    # Name an unnamed thread in the background after its first reply.
    "ATHENA_THREAD_AUTO_NAME": True,
    # Tokens kept free for the reply when the agent and its model set no output limit.
    "ATHENA_THREAD_REPLY_RESERVE_TOKENS": 1024,
    # Largest `content` of a message, in characters.
    "ATHENA_THREAD_MAX_CONTENT_CHARS": 100_000,
    "ATHENA_THREAD_MAX_ATTACHMENTS": 10,
}


def thread_setting(name: str) -> Any:
    """Return the setting `name`, or its default from DEFAULTS."""
    return getattr(settings, name, DEFAULTS[name])
