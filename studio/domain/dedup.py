"""Perceptual-hash duplicate detection for generated images.

pHash is an exact/near-exact filter only: at distance 10 it misses most near-duplicates of generated
images (imagededup's own benchmark), so the threshold below was measured on our own preview images
by bench/bench_dedup.py (JPEG re-encodes, 0.9 resizes, 1-2 px shifts, small brightness changes
against pictures of the same characters from other seeds).
"""

from __future__ import annotations

from collections.abc import Iterable

import imagehash
import numpy as np
from PIL import Image

# Measured by bench/bench_dedup.py (5 characters x 40 seeds, 800 near-duplicates, 19,900 distinct pairs):
# near-duplicates land at 0-6, distinct pictures at 10 or more (12 within one character); 8 is mid-gap,
# 0 % false positives and 0 % false negatives there. pHash sets half its bits, so distances are nearly always even.
NEAR_DUPLICATE_DISTANCE = 8
# What `nearest` answers for an empty index: farther than any two 64-bit hashes can be.
NO_MATCH_DISTANCE = 65

_MASK64 = (1 << 64) - 1


def signed64(value: int) -> int:
    """Unsigned 64-bit pattern -> the int64 with the same bits (what a PostgreSQL bigint stores)."""
    value &= _MASK64
    return value - (1 << 64) if value >> 63 else value


def unsigned64(value: int) -> int:
    """int64 -> the unsigned 64-bit pattern with the same bits."""
    return value & _MASK64


PHASH_SIZE = 32  # imagehash.phash's default: the DCT runs on a 32x32 grey picture


def phash_signed(image: Image.Image) -> int:
    """64-bit pHash as a signed int64, so it fits a PostgreSQL bigint.

    imagehash shrinks the whole picture to 32x32 with Lanczos in one step: ~9 ms for an 832x1216
    image, most of a dataset image's CPU. Pillow's `reducing_gap` box-reduces first and then applies
    Lanczos, ten times faster; the hash is the same bits or differs by 2 (a median tie), far inside
    NEAR_DUPLICATE_DISTANCE, so hashes stored before and after compare as before.
    """
    small = image.convert("L").resize((PHASH_SIZE, PHASH_SIZE), Image.Resampling.LANCZOS, reducing_gap=3.0)
    return signed64(int(str(imagehash.phash(small, hash_size=8, highfreq_factor=PHASH_SIZE // 8)), 16))


def hamming(a: int, b: int) -> int:
    """Bits that differ between two hashes, signed or unsigned."""
    return ((a ^ b) & _MASK64).bit_count()


class HashIndex:
    """Hashes in one growable numpy int64 array; a query is one vectorised XOR + popcount over all of them."""

    def __init__(self, hashes: Iterable[int] = ()):
        self._hashes = np.empty(0, dtype=np.int64)
        self._size = 0
        self.extend(hashes)

    def __len__(self) -> int:
        return self._size

    def append(self, h: int) -> None:
        self.extend((h,))

    add = append  # the name the dataset batch uses

    def extend(self, hashes: Iterable[int]) -> None:
        new = np.fromiter((signed64(h) for h in hashes), dtype=np.int64)
        needed = self._size + len(new)
        if needed > len(self._hashes):  # grow geometrically: appends one at a time stay amortised O(1)
            grown = np.empty(max(needed, 2 * len(self._hashes), 64), dtype=np.int64)
            grown[:self._size] = self._hashes[:self._size]
            self._hashes = grown
        self._hashes[self._size:needed] = new
        self._size = needed

    def nearest(self, h: int) -> tuple[int, int]:
        """(distance, index) of the closest stored hash, the first on ties; (NO_MATCH_DISTANCE, -1) when empty."""
        if not self._size:
            return NO_MATCH_DISTANCE, -1
        stored = self._hashes[:self._size].view(np.uint64)
        # As uint64: on signed integers np.bitwise_count counts the bits of the absolute value.
        distances = np.bitwise_count(stored ^ np.uint64(unsigned64(h)))
        index = int(np.argmin(distances))
        return int(distances[index]), index

    def has_near_duplicate(self, h: int, max_distance: int = NEAR_DUPLICATE_DISTANCE) -> bool:
        return self.nearest(h)[0] <= max_distance
