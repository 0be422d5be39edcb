"""Perceptual-hash duplicate detection for generated images.

pHash is an exact/near-exact filter only: at distance 10 it misses most near-duplicates of generated
images (imagededup's own benchmark), so the threshold below was measured on our own preview images
by bench/bench_dedup.py (re-encodes, 0.9 resizes, small shifts vs different seeds).
"""

from __future__ import annotations

import imagehash
import numpy as np
from PIL import Image

# Measured by bench/bench_dedup.py: re-encoded/resized/shifted copies land at 0-6, distinct seeds
# of one character at 14 or more, so 8 separates them with margin on both sides.
NEAR_DUPLICATE_DISTANCE = 8

_SIGN = 1 << 63


def phash_signed(image: Image.Image) -> int:
    """64-bit pHash as a signed int64, so it fits a PostgreSQL bigint."""
    value = int(str(imagehash.phash(image)), 16)
    return value - (1 << 64) if value >= _SIGN else value


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & 0xFFFF_FFFF_FFFF_FFFF).bit_count()


class HashIndex:
    """Hashes in one numpy int64 array; a query is one vectorised XOR + popcount."""

    def __init__(self, hashes: list[int] | None = None):
        self._hashes = np.asarray(hashes or [], dtype=np.int64)

    def __len__(self) -> int:
        return len(self._hashes)

    def add(self, h: int) -> None:
        self._hashes = np.append(self._hashes, np.int64(h))

    def extend(self, hashes: list[int]) -> None:
        self._hashes = np.concatenate([self._hashes, np.asarray(hashes, dtype=np.int64)])

    def nearest(self, h: int) -> tuple[int, int]:
        """(distance, index) of the closest stored hash; (65, -1) when empty."""
        if not len(self._hashes):
            return 65, -1
        # On signed integers numpy's bitwise_count counts the bits of the absolute value: XOR as uint64.
        distances = np.bitwise_count(self._hashes.view(np.uint64) ^ np.uint64(h & 0xFFFF_FFFF_FFFF_FFFF))
        index = int(np.argmin(distances))
        return int(distances[index]), index

    def has_near_duplicate(self, h: int, max_distance: int = NEAR_DUPLICATE_DISTANCE) -> bool:
        return self.nearest(h)[0] <= max_distance
