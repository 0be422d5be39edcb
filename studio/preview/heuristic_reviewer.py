"""The CPU stand-in for the vision reviewer: sharpness, exposure and key-colour match.

It cannot judge species, so for a non-human character it leaves species_ok unset and says a person
must check: together with `decide`, a non-human character is never auto-approved, like the real one.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from studio.domain.appearance import Appearance
from studio.domain.review import ChecklistItem, ReviewResult

MAX_PIXELS = 40_000_000
SHARP_VARIANCE = 60.0  # Laplacian variance of a crisp 256 px preview is well above this
COLOUR_DISTANCE = 48.0
COLOUR_MIN_FRACTION = 0.003


def _decode(image_bytes: bytes) -> Image.Image:
    try:
        with Image.open(io.BytesIO(image_bytes)) as probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise ValueError(f"image of {probe.width}x{probe.height} pixels is too large to review")
            probe.verify()
        image = Image.open(io.BytesIO(image_bytes))
        image.load()
        return image.convert("RGB")
    except ValueError:
        raise
    except Exception:
        raise ValueError("not a readable image") from None


def _sharpness(grey: np.ndarray) -> float:
    lap = 4 * grey[1:-1, 1:-1] - grey[:-2, 1:-1] - grey[2:, 1:-1] - grey[1:-1, :-2] - grey[1:-1, 2:]
    return float(lap.var())


def _exposure_score(grey: np.ndarray) -> tuple[float, float]:
    mean = float(grey.mean())
    clipped = float(((grey < 8) | (grey > 247)).mean())
    off = max(0.0, abs(mean - 128.0) - 45.0) / 60.0
    return max(0.0, 1.0 - off) * max(0.0, 1.0 - 2.0 * clipped), mean


def _colour_found(pixels: np.ndarray, hex_colour: str) -> bool:
    target = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)
    distance = np.sqrt(((pixels - target) ** 2).sum(axis=1))
    return float((distance < COLOUR_DISTANCE).mean()) >= COLOUR_MIN_FRACTION


def review_preview_image(image_bytes: bytes, appearance: Appearance) -> ReviewResult:
    image = _decode(image_bytes)
    image.thumbnail((256, 256))
    rgb = np.asarray(image, dtype=np.float32)
    grey = rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    sharp_score = min(1.0, _sharpness(grey) / SHARP_VARIANCE)
    exposure, mean = _exposure_score(grey)
    pixels = rgb.reshape(-1, 3)
    colours = {part: _colour_found(pixels, colour) for part, colour in appearance.key_colors.items()}
    colour_score = sum(colours.values()) / len(colours) if colours else 1.0

    quality = round(sharp_score ** 0.5 * exposure * (0.4 + 0.6 * colour_score), 3)
    checklist = [ChecklistItem(item=f"{part} colour {appearance.key_colors[part]}", passed=found)
                 for part, found in colours.items()]
    checklist += [ChecklistItem(item="sharp", passed=sharp_score >= 0.5),
                  ChecklistItem(item="well exposed", passed=exposure >= 0.7)]
    problems = [c.item for c in checklist if not c.passed]
    reason = "looks on-model" if not problems else "problems: " + ", ".join(problems)
    if not appearance.is_human:
        reason += "; species needs a person to check"
    return ReviewResult(quality_score=min(1.0, max(0.0, quality)), solo=True, checklist=checklist,
                        species_ok=None, reason=reason, backend="preview", model="heuristic-v1")
