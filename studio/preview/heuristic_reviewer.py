"""The CPU stand-in for the vision reviewer: sharpness, exposure and key-colour match.

It cannot judge species, so for a non-human character it leaves species_ok unset and says a person
must check; with `decide` (humans only auto-approve) a non-human character is never auto-approved,
like the real reviewer.
"""

from __future__ import annotations

import contextlib
import io
import math

import numpy as np
from PIL import Image, UnidentifiedImageError

from studio.domain.appearance import Appearance
from studio.domain.review import ChecklistItem, ReviewResult

MODEL = "heuristic-v1"
MAX_BYTES = 50_000_000
MAX_PIXELS = 40_000_000
# Scores are computed on a copy no larger than this, so thresholds do not depend on resolution.
REVIEW_SIDE = 256
# Laplacian variance (grey 0-255, at REVIEW_SIDE) scored on a log scale between these two. Measured on
# 336 good previews: 300-1000; the blurred flaw: about 1; tuned for drawn previews, not photographs.
BLURRED_VARIANCE = 15.0
SHARP_VARIANCE = 150.0
# Exposure: mean grey inside this band is fine; the score falls to 0 over EXPOSURE_FALLOFF beyond it.
MEAN_BAND = (55.0, 200.0)
EXPOSURE_FALLOFF = 45.0
CLIP_LOW, CLIP_HIGH = 6, 249
# A key colour is "found" when this fraction of pixels lies within COLOUR_DISTANCE (RGB) of it:
# large enough that a stray edge pixel does not count, small enough for a pair of eyes.
COLOUR_DISTANCE = 40.0
COLOUR_MIN_FRACTION = 0.001


@contextlib.contextmanager
def _readable():
    """Turn whatever Pillow raises on bad data into one clear ValueError."""
    try:
        yield
    except Image.DecompressionBombError as exc:
        raise ValueError(f"image is too large to review: {exc}") from None
    except UnidentifiedImageError:
        raise ValueError("not a readable image: unknown format") from None
    except Exception as exc:  # truncated or corrupt data surfaces as many different exception types
        raise ValueError(f"not a readable image: {type(exc).__name__}: {exc}") from None


def _decode(image_bytes: bytes) -> Image.Image:
    """Open untrusted bytes as RGB, refusing non-images, corrupt files and decompression bombs."""
    if not image_bytes:
        raise ValueError("not a readable image: no bytes")
    if len(image_bytes) > MAX_BYTES:
        raise ValueError(f"image of {len(image_bytes)} bytes is too large to review")
    # Pillow itself refuses beyond about 179 MP (DecompressionBombError); our lower limit is checked
    # from the header, before any pixel is decoded.
    with _readable():
        with Image.open(io.BytesIO(image_bytes)) as probe:
            width, height = probe.size
            if width * height <= MAX_PIXELS:
                probe.verify()  # checks structure and checksums without decoding the pixels
    if width * height > MAX_PIXELS:
        raise ValueError(f"image of {width}x{height} pixels is too large to review")
    with _readable():
        image = Image.open(io.BytesIO(image_bytes))
        image.load()
    return image.convert("RGB")


def laplacian_variance(grey: np.ndarray) -> float:
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.var()) if lap.size else 0.0  # under 3x3 pixels (an upload can be 1x1): no edges


def _sharpness_score(variance: float) -> float:
    span = math.log(SHARP_VARIANCE) - math.log(BLURRED_VARIANCE)
    return min(1.0, max(0.0, (math.log(max(variance, 1e-6)) - math.log(BLURRED_VARIANCE)) / span))


def _exposure_score(grey: np.ndarray) -> float:
    mean = float(grey.mean())
    low, high = MEAN_BAND
    off_band = max(0.0, low - mean, mean - high) / EXPOSURE_FALLOFF
    clipped = float(((grey <= CLIP_LOW) | (grey >= CLIP_HIGH)).mean())
    # Some clipping is normal (outlines, highlights); a third of the picture at black or white is not.
    return max(0.0, 1.0 - off_band) * max(0.0, 1.0 - max(0.0, clipped - 0.05) * 3.0)


def _colour_fraction(pixels: np.ndarray, hex_colour: str) -> float:
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)
    squared = ((pixels - target) ** 2).sum(axis=1)
    return float((squared < COLOUR_DISTANCE ** 2).mean())


def review_preview_image(image_bytes: bytes, appearance: Appearance) -> ReviewResult:
    """Score a picture of a character; ValueError if the bytes are not a readable image."""
    image = _decode(image_bytes)
    image.thumbnail((REVIEW_SIDE, REVIEW_SIDE))
    rgb = np.asarray(image, dtype=np.float32)
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    sharpness = _sharpness_score(laplacian_variance(grey))
    exposure = _exposure_score(grey)
    pixels = rgb.reshape(-1, 3)
    found = {name: _colour_fraction(pixels, colour) >= COLOUR_MIN_FRACTION
             for name, colour in appearance.key_colors.items()}
    colour_match = sum(found.values()) / len(found) if found else 1.0

    # Blur or bad exposure alone can sink a picture; wrong colours alone leave it for a person (0.4-0.6).
    quality = sharpness * exposure * (0.4 + 0.6 * colour_match)
    checklist = [ChecklistItem(item=f"{name} colour {appearance.key_colors[name]}", passed=ok)
                 for name, ok in found.items()]
    checklist += [ChecklistItem(item="sharp", passed=sharpness >= 0.6),
                  ChecklistItem(item="well exposed", passed=exposure >= 0.7)]
    problems = [c.item for c in checklist if not c.passed]
    reason = "problems: " + ", ".join(problems) if problems else "sharp, well exposed, key colours present"
    if not appearance.is_human:
        reason += "; species needs a person to check (the heuristic cannot judge species)"
    return ReviewResult(quality_score=round(min(1.0, max(0.0, quality)), 3), solo=True, checklist=checklist,
                        species_ok=None, reason=reason, backend="preview", model=MODEL)
