"""A contact sheet: the approved set at a glance, for the materialization's metadata."""

from __future__ import annotations

import base64
import io
import math
from pathlib import Path

from PIL import Image, ImageOps

TILE = 160


def contact_sheet(paths: list[Path], *, columns: int = 6, tile: int = TILE) -> Image.Image:
    rows = max(1, math.ceil(len(paths) / columns))
    sheet = Image.new("RGB", (columns * tile, rows * tile), (24, 24, 28))
    for i, path in enumerate(paths):
        with Image.open(path) as picture:
            thumb = ImageOps.fit(picture.convert("RGB"), (tile - 4, tile - 4))
        sheet.paste(thumb, ((i % columns) * tile + 2, (i // columns) * tile + 2))
    return sheet


def as_markdown_image(sheet: Image.Image, *, width: int = 480, alt: str = "contact sheet") -> str:
    """A small inline JPEG, so the Dagster UI shows the sheet without serving any file."""
    small = sheet.copy()
    small.thumbnail((width, width))
    buffer = io.BytesIO()
    small.save(buffer, "JPEG", quality=80)
    return f"![{alt}](data:image/jpeg;base64,{base64.b64encode(buffer.getvalue()).decode()})"
