"""Schemathesis hooks (SCHEMATHESIS_HOOKS=tests.fuzz_images): upload parts declared as images get real
images, drawn small in every accepted format, so the fuzzer's valid uploads are valid for the server too."""

from __future__ import annotations

import io

import schemathesis
from hypothesis import strategies as st
from PIL import Image


def _encoded(fmt: str):
    @st.composite
    def image(draw) -> bytes:
        width, height = draw(st.integers(1, 48)), draw(st.integers(1, 48))
        colour = draw(st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)))
        out = io.BytesIO()
        Image.new("RGB", (width, height), colour).save(out, fmt)
        return out.getvalue()

    return image()


for media_type, fmt in (("image/png", "PNG"), ("image/jpeg", "JPEG"), ("image/webp", "WEBP")):
    schemathesis.openapi.media_type(media_type, _encoded(fmt))
