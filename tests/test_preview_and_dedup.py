"""The CPU preview backends and perceptual-hash dedup, on real pictures."""

import io
import itertools
import random

import pytest
from PIL import Image

from studio.domain.appearance import Appearance
from studio.domain.dedup import NEAR_DUPLICATE_DISTANCE, HashIndex, hamming, phash_signed
from studio.domain.review import decide
from studio.preview.character_image import draw_character, encode_png, flaw_for
from studio.preview.heuristic_reviewer import review_preview_image

MIKA = Appearance(species="human", key_colors={"hair": "#1f2a5c", "outfit": "#f2c21b", "skin": "#f3d2b8"})
EMBER = Appearance(species="dragon — NOT human", key_colors={"scales": "#e8642a", "belly": "#f6e3c0"})
GOOD = [s for s in range(40) if flaw_for(s) is None][:6]
FLAWED = {f: next(s for s in range(200) if flaw_for(s) == f) for f in ("blur", "dark", "overexposed")}


def test_same_seed_same_picture_different_seeds_not_near_duplicates():
    assert encode_png(draw_character(MIKA, seed=3)) == encode_png(draw_character(MIKA, seed=3))
    hashes = [phash_signed(draw_character(MIKA, seed=s, width=256, height=256)) for s in range(10)]
    assert min(hamming(a, b) for a, b in itertools.combinations(hashes, 2)) > NEAR_DUPLICATE_DISTANCE


def test_good_human_preview_auto_approves_and_a_dragon_never_does():
    for seed in GOOD[:3]:
        human = review_preview_image(encode_png(draw_character(MIKA, seed=seed)), MIKA)
        assert human.quality_score >= 0.8 and decide(human, is_human=True) == "approved"
        dragon = review_preview_image(encode_png(draw_character(EMBER, seed=seed)), EMBER)
        assert dragon.species_ok is None and "species" in dragon.reason
        assert decide(dragon, is_human=False) != "approved"


@pytest.mark.parametrize("flaw", ["blur", "dark", "overexposed"])
def test_flawed_previews_score_low(flaw):
    result = review_preview_image(encode_png(draw_character(MIKA, seed=FLAWED[flaw])), MIKA)
    assert result.quality_score < 0.8
    assert decide(result, is_human=True) != "approved"
    assert any(not item.passed for item in result.checklist)


def test_garbage_bytes_are_a_clear_error():
    with pytest.raises(ValueError, match="not a readable image"):
        review_preview_image(b"GIF89a-not-really", MIKA)


def test_reencoded_and_resized_copies_are_near_duplicates():
    original = draw_character(MIKA, seed=GOOD[0])
    jpeg = io.BytesIO()
    original.save(jpeg, "JPEG", quality=80)
    copies = [Image.open(io.BytesIO(jpeg.getvalue())), original.resize((460, 460))]
    index = HashIndex([phash_signed(original)])
    for copy in copies:
        assert index.has_near_duplicate(phash_signed(copy))
    assert not index.has_near_duplicate(phash_signed(draw_character(MIKA, seed=GOOD[1])))


def test_signed_hashes_fit_bigint_and_index_matches_brute_force():
    rng = random.Random(1)
    hashes = [rng.randint(-(2**63), 2**63 - 1) for _ in range(2000)]
    index = HashIndex(hashes)
    for _ in range(20):
        query = rng.randint(-(2**63), 2**63 - 1)
        distance, position = index.nearest(query)
        assert distance == min(hamming(query, h) for h in hashes)
        assert hamming(query, hashes[position]) == distance
    assert -(2**63) <= phash_signed(draw_character(EMBER, seed=1)) < 2**63
