"""Image files under the media root, as the review page sees them: the original and thumbnails.

A stored path is data, not trusted: it is resolved (symlinks included) and refused unless it lands
inside the media root, so a row holding "../../etc/passwd" or an absolute path serves nothing.
Thumbnails are cached under media_root/thumbs/<size>/ by content hash (an image's bytes never
change under its hash), written atomically so a concurrent reader never sees half a file.
"""

from __future__ import annotations

import io
import threading
import zlib
from pathlib import Path

from studio.uploads import write_atomically

THUMB_DIR = "thumbs"
# The only sizes made: each is a cache folder, so an open range would let callers fill the disk.
THUMB_SIZES = (64, 128, 256, 512, 1024)
MIN_THUMB, MAX_THUMB = THUMB_SIZES[0], THUMB_SIZES[-1]
MEDIA_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}

# Two requests for the same missing thumbnail render it once: it is made under one of these locks
# (striped by name), and the second request finds it made.
_thumb_locks = tuple(threading.Lock() for _ in range(64))


def resolve_media_path(media_root: Path, stored_path: str) -> Path | None:
    """The file a stored path names, or None when it is missing or outside the media root."""
    root = media_root.resolve()
    try:
        candidate = (root / stored_path).resolve()
    except (OSError, RuntimeError, ValueError):  # symlink loops, NUL bytes
        return None
    if not candidate.is_relative_to(root) or not candidate.is_file():
        return None
    return candidate


def media_type(path: Path) -> str:
    return MEDIA_TYPES.get(path.suffix.lower(), "application/octet-stream")


def thumbnail_path(media_root: Path, sha256: str, size: int) -> Path:
    if size not in THUMB_SIZES:
        raise ValueError(f"thumbnail size must be one of {THUMB_SIZES}")
    if not sha256.isalnum():
        raise ValueError("not a content hash")
    return media_root.resolve() / THUMB_DIR / str(size) / f"{sha256}.webp"


def _render_thumbnail(source: Path, size: int) -> bytes:
    # Imported when a thumbnail is first made, not when the review service starts (~15 ms).
    from PIL import Image, ImageOps

    with Image.open(source) as image:
        image = ImageOps.exif_transpose(image)
        image.thumbnail((size, size))
        if image.mode not in ("RGB", "RGBA"):
            image = image.convert("RGBA" if "A" in image.getbands() else "RGB")
        out = io.BytesIO()
        image.save(out, format="WEBP", quality=85)
        return out.getvalue()


def ensure_thumbnail(media_root: Path, source: Path, sha256: str, size: int) -> tuple[Path, bool]:
    """(thumbnail path, whether it was made now). Blocking: call it in a worker thread."""
    target = thumbnail_path(media_root, sha256, size)
    if target.is_file():
        return target, False
    with _thumb_locks[zlib.crc32(str(target).encode()) % len(_thumb_locks)]:
        if target.is_file():  # another thread made it while this one waited
            return target, False
        write_atomically(target, _render_thumbnail(source, size))
        return target, True
