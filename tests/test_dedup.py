"""Perceptual-hash dedup: signed storage, distances on real preview pictures, the numpy index."""

import io
import random

import imagehash
import numpy as np
from PIL import Image

from studio.domain.appearance import Appearance
from studio.domain.dedup import (
    NEAR_DUPLICATE_DISTANCE,
    NO_MATCH_DISTANCE,
    HashIndex,
    hamming,
    phash_signed,
    signed64,
    unsigned64,
)
from studio.preview.character_image import draw_character, flaw_for

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MIKA = Appearance(species="human", key_colors={"hair": "#1f2a5c", "outfit": "#f2c21b", "skin": "#f3d2b8"})
GOOD_SEEDS = [s for s in range(40) if flaw_for(s) is None][:3]


def _picture(seed):
    return draw_character(MIKA, seed=seed, width=384, height=384)


def test_signed_conversion_round_trips_at_the_edges_of_int64():
    for unsigned in (0, 1, 2**63 - 1, 2**63, 2**63 + 1, 2**64 - 1, 0xDEADBEEFCAFEBABE):
        signed = signed64(unsigned)
        assert INT64_MIN <= signed <= INT64_MAX
        assert unsigned64(signed) == unsigned
        assert int(np.int64(signed)) == signed  # fits a numpy int64 / PostgreSQL bigint
    assert signed64(2**64 - 1) == -1 and signed64(2**63) == INT64_MIN


def test_phash_signed_is_imagehash_phash_within_a_median_tie():
    """The faster shrink may flip a tie at the median (2 bits), never enough to matter for dedup."""
    distances = []
    for seed in range(12):
        picture = draw_character(MIKA, seed=seed, width=832, height=1216)
        signed = phash_signed(picture)
        assert INT64_MIN <= signed <= INT64_MAX
        distances.append(hamming(unsigned64(signed), int(str(imagehash.phash(picture)), 16)))
    assert max(distances) <= 2 and distances.count(0) >= 8, distances
    assert any(phash_signed(_picture(s)) < 0 for s in range(12))  # the top bit is used, so negatives occur


def test_hamming_counts_differing_bits_for_signed_and_unsigned_values():
    assert hamming(0, 0) == 0
    assert hamming(-1, 0) == 64
    assert hamming(INT64_MIN, 0) == 1
    assert hamming(signed64(0xF0), 0x0F) == 8
    assert hamming(-1, 2**64 - 1) == 0  # the same bits, one signed and one unsigned


def test_identical_picture_is_at_distance_zero_even_after_a_lossless_round_trip():
    picture = _picture(GOOD_SEEDS[0])
    png = io.BytesIO()
    picture.save(png, "PNG")
    assert hamming(phash_signed(picture), phash_signed(Image.open(io.BytesIO(png.getvalue())))) == 0


def test_reencoded_and_resized_copies_are_near_duplicates_and_other_seeds_are_not():
    original = _picture(GOOD_SEEDS[0])
    jpeg = io.BytesIO()
    original.save(jpeg, "JPEG", quality=80)
    copies = [Image.open(io.BytesIO(jpeg.getvalue())), original.resize((346, 346), Image.Resampling.LANCZOS)]
    index = HashIndex([phash_signed(original)])
    for copy in copies:
        assert index.has_near_duplicate(phash_signed(copy))
    for seed in GOOD_SEEDS[1:]:
        distance, _ = index.nearest(phash_signed(_picture(seed)))
        assert distance > NEAR_DUPLICATE_DISTANCE


def test_nearest_matches_a_brute_force_search_on_random_hashes():
    rng = random.Random(3)
    hashes = [rng.randint(INT64_MIN, INT64_MAX) for _ in range(3000)]
    index = HashIndex(hashes[:1000])
    index.extend(hashes[1000:2000])
    for h in hashes[2000:]:  # one at a time, through several capacity doublings
        index.append(h)
    assert len(index) == len(hashes)
    queries = [rng.randint(INT64_MIN, INT64_MAX) for _ in range(40)]
    queries += [hashes[123] ^ 0b1011, signed64(unsigned64(hashes[2999]) ^ (1 << 63))]  # planted neighbours
    for query in queries:
        distances = [hamming(query, h) for h in hashes]
        best = min(distances)
        assert index.nearest(query) == (best, distances.index(best))
        assert index.has_near_duplicate(query, best) and not index.has_near_duplicate(query, best - 1)
    assert index.nearest(queries[-2]) == (3, 123)
    assert index.nearest(queries[-1]) == (1, 2999)


def test_an_empty_index_has_no_duplicates():
    index = HashIndex()
    assert len(index) == 0
    assert index.nearest(42) == (NO_MATCH_DISTANCE, -1)
    assert not index.has_near_duplicate(42, 64)
    index.add(42)  # the dataset batch's name for append
    assert index.nearest(42) == (0, 0)
