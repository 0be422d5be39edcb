"""The doubles' hand-made PNG files: what Pillow would have written, as far as any reader can tell."""

from __future__ import annotations

import io
import random

import pytest
from PIL import Image, ImageDraw

from tests.doubles.png import rectangles_png, with_text


def _rectangles(seed: int, width: int, height: int):
    rng = random.Random(seed)
    colour = lambda: tuple(rng.randint(0, 255) for _ in range(3))  # noqa: E731
    rectangles = []
    for _ in range(8):  # some reach past the edges, some overlap: clipped, later ones on top
        x0, y0 = rng.randint(-5, width), rng.randint(-5, height)
        rectangles.append((x0, y0, x0 + rng.randint(0, width), y0 + rng.randint(0, height), colour()))
    return colour(), rectangles


@pytest.mark.parametrize("width, height", [(832, 1216), (64, 64), (7, 3), (1, 1)])
def test_the_pixels_are_those_imagedraw_paints(width, height):
    for seed in range(10):
        background, rectangles = _rectangles(seed, width, height)
        expected = Image.new("RGB", (width, height), background)
        draw = ImageDraw.Draw(expected)
        for x0, y0, x1, y1, colour in rectangles:
            draw.rectangle((x0, y0, x1, y1), fill=colour)
        picture = Image.open(io.BytesIO(rectangles_png(width, height, background, rectangles)))
        assert (picture.format, picture.mode, picture.size) == ("PNG", "RGB", (width, height))
        assert picture.tobytes() == expected.tobytes()


def test_a_text_chunk_is_read_back_as_pillow_reads_comfyui_metadata():
    png = with_text(rectangles_png(16, 8, (1, 2, 3), []), "prompt", '{"1": {"class_type": "SaveImage"}}')
    picture = Image.open(io.BytesIO(png))
    picture.load()
    assert picture.text == {"prompt": '{"1": {"class_type": "SaveImage"}}'}
