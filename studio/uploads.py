"""Accepting image bytes from outside: type by content, size limits, no decompression bombs.

What is stored is re-encoded from the decoded pixels, never the bytes as sent: anything appended to
or hidden around the image (HTML, a ZIP, a second image) does not survive. Kept is what provenance
needs: PNG text chunks (ComfyUI writes its prompt and workflow there), EXIF and the ICC profile.

Files are stored under a generated content name, written to a temporary name and renamed, so a
failed or concurrent upload never leaves a half-written file where a reader could find it.
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

ALLOWED_FORMATS = {"PNG": ".png", "JPEG": ".jpg", "WEBP": ".webp"}
MAX_PIXELS = 40_000_000  # 8k x 5k; generated frames are far smaller


class UploadRejected(ValueError):
    """The upload is refused; the message says why in one line."""


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    format: str
    extension: str
    width: int
    height: int
    sha256: str


def check_image(data: bytes, *, max_bytes: int, field: str = "file") -> CheckedImage:
    # Imported when an image comes in: the review service and every user of write_atomically()
    # import this module, and Pillow cost them ~15 ms at start-up.
    from PIL import Image

    if not data:
        raise UploadRejected(f"{field}: empty upload")
    if len(data) > max_bytes:
        raise UploadRejected(f"{field}: {len(data)} bytes is over the {max_bytes}-byte limit")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt, (width, height) = probe.format, probe.size
                if width * height > MAX_PIXELS:
                    raise UploadRejected(f"{field}: {width}x{height} pixels is over the limit")
                probe.verify()
            with Image.open(io.BytesIO(data)) as full:
                full.load()  # verify() skips pixel data; a truncated file only fails here
                if fmt in ALLOWED_FORMATS:
                    data = _reencoded(full, fmt)
    except UploadRejected:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(f"{field}: refused as a decompression bomb") from None
    except Exception:
        raise UploadRejected(f"{field}: not a readable PNG, JPEG or WebP image") from None
    if fmt not in ALLOWED_FORMATS:
        raise UploadRejected(f"{field}: {fmt} images are not accepted (PNG, JPEG or WebP)")
    return CheckedImage(data, fmt, ALLOWED_FORMATS[fmt], width, height, hashlib.sha256(data).hexdigest())


def _reencoded(image: Image.Image, fmt: str) -> bytes:
    from PIL import PngImagePlugin

    options: dict = {}
    if icc := image.info.get("icc_profile"):
        options["icc_profile"] = icc
    if exif := image.info.get("exif"):
        options["exif"] = exif
    if fmt == "PNG":
        text = PngImagePlugin.PngInfo()
        for key, value in getattr(image, "text", {}).items():
            text.add_text(key, value)
        options["pnginfo"] = text
    elif fmt == "JPEG":
        options.update(quality=95, subsampling="keep" if image.mode != "P" else 0)
    else:
        options.update(lossless=bool(image.info.get("lossless")), quality=95)
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Unique per process and thread: two writers of one target never share a temporary file.
    tmp = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


# A write takes milliseconds; a temporary file this old belongs to a process killed mid-write.
ABANDONED_AFTER_S = 600


def remove_abandoned_temporaries(folder: Path) -> list[str]:
    """Remove what `write_atomically` left in `folder` when its process was killed mid-write (it ran
    no clean-up); a write in flight is younger and is left alone. The names removed."""
    now = time.time()
    removed = []
    for path in folder.glob(".*.tmp"):
        try:
            if now - path.stat().st_mtime > ABANDONED_AFTER_S:
                path.unlink()
                removed.append(path.name)
        except FileNotFoundError:  # renamed or removed by its writer meanwhile
            continue
    return removed


def store_image(image: CheckedImage, media_root: Path, folder: str) -> str:
    """Store under `folder` with a content name; return the path relative to the media root."""
    relative = f"{folder.strip('/')}/{image.sha256[:20]}{image.extension}"
    target = media_root / relative
    if not target.exists():
        write_atomically(target, image.data)
    return relative
