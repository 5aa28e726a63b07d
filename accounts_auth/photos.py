"""Profile photos: the content is checked with Pillow, never trusted from the client's claim."""

import io
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, UnidentifiedImageError

from athena_site.api.errors import ValidationFailed


@dataclass(frozen=True)
class ProfilePhotoConfig:
    allowed_formats: dict[str, str] = field(
        default_factory=lambda: {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
    )
    max_bytes: int = 2 * 1024 * 1024
    max_width: int = 4096
    max_height: int = 4096
    sizes: dict[str, int] = field(default_factory=lambda: {"small": 64, "medium": 256})

    @property
    def size_names(self) -> tuple[str, ...]:
        return tuple(self.sizes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "allowed_types": list(self.allowed_formats.values()),
            "max_bytes": self.max_bytes,
            "max_width": self.max_width,
            "max_height": self.max_height,
            "sizes": dict(self.sizes),
        }


PROFILE_PHOTO_CONFIG = ProfilePhotoConfig()
# Pillow refuses to decode images above this pixel count, so a small file cannot expand into a
# huge bitmap in memory.
Image.MAX_IMAGE_PIXELS = PROFILE_PHOTO_CONFIG.max_width * PROFILE_PHOTO_CONFIG.max_height


def _invalid(message: str) -> ValidationFailed:
    return ValidationFailed(errors={"profile_photo": [message]})


def profile_photo_process(*, upload: Any, config: ProfilePhotoConfig = PROFILE_PHOTO_CONFIG) -> dict[str, str]:
    """Check an uploaded image and store it with its square renditions.

    Returns storage names by size (`original` and each configured size). Raises ValidationFailed
    naming `profile_photo` for a file that is too large, not an image of an allowed type, or too
    many pixels.
    """
    if upload.size > config.max_bytes:
        raise _invalid(f"The photo is larger than {config.max_bytes} bytes.")
    data = upload.read()
    try:
        with Image.open(io.BytesIO(data)) as probe:
            image_format = probe.format
            width, height = probe.size
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError, ValueError):
        raise _invalid("The file is not a valid image.") from None
    if image_format not in config.allowed_formats:
        allowed = ", ".join(config.allowed_formats.values())
        raise _invalid(f"Images of type {image_format} are not allowed; use one of {allowed}.")
    if width > config.max_width or height > config.max_height:
        raise _invalid(f"The photo is {width}x{height} pixels; the maximum is {config.max_width}x{config.max_height}.")

    folder = f"profile-photos/{uuid.uuid4().hex}"
    extension = image_format.lower().replace("jpeg", "jpg")
    names = {"original": default_storage.save(f"{folder}/original.{extension}", ContentFile(data))}
    rgba = image.convert("RGBA")
    side = min(rgba.size)
    left, top = (rgba.width - side) // 2, (rgba.height - side) // 2
    square = rgba.crop((left, top, left + side, top + side))
    for name, pixels in config.sizes.items():
        buffer = io.BytesIO()
        square.resize((pixels, pixels), Image.Resampling.LANCZOS).save(buffer, format="PNG")
        names[name] = default_storage.save(f"{folder}/{name}.png", ContentFile(buffer.getvalue()))
    return names


def profile_photo_delete(*, names: dict[str, str]) -> None:
    for name in (names or {}).values():
        if name:
            default_storage.delete(name)


def profile_photo_urls(*, user: Any, request: Any = None) -> dict[str, str | None] | None:
    names = user.profile_photo_sizes or {}
    if not names:
        if user.avatar_url:
            return {"original": user.avatar_url, **dict.fromkeys(PROFILE_PHOTO_CONFIG.size_names)}
        return None
    urls = {}
    for size in ("original", *PROFILE_PHOTO_CONFIG.size_names):
        name = names.get(size)
        url = default_storage.url(name) if name else None
        urls[size] = request.build_absolute_uri(url) if (url and request is not None) else url
    return urls
