"""The CPU preview backends on real pictures: the procedural drawer and the heuristic reviewer."""

import io
import itertools
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from studio.domain.appearance import Appearance
from studio.domain.dedup import NEAR_DUPLICATE_DISTANCE, hamming, phash_signed
from studio.domain.review import decide
from studio.preview.character_image import FLAWS, draw_character, encode_png, flaw_for
from studio.preview.species_shapes import shape_for
from studio.preview.heuristic_reviewer import review_preview_image

MIKA = Appearance(species="human", key_colors={"hair": "#1f2a5c", "eyes": "#e0a030", "outfit": "#f2c21b",
                                               "skin": "#f3d2b8"})
EMBER = Appearance(species="dragon — NOT human", key_colors={"scales": "#e8642a", "belly": "#f6e3c0",
                                                              "eyes": "#2c8f6e"})
# "bandana" names no body part: it must still be painted (as an accent) and found.
SHELLY = Appearance(species="turtle — NOT human", key_colors={"shell": "#3d6b2f", "skin": "#9acd70",
                                                               "bandana": "#c0392b"})
PIP = Appearance(species="mouse (NOT human)", key_colors={"fur": "#9a8f86", "eyes": "#111111"})
GOOD_SEEDS = [s for s in range(60) if flaw_for(s) is None][:5]
FIRST_SEED_WITH = {flaw: next(s for s in range(500) if flaw_for(s) == flaw) for flaw in FLAWS}


def _review(appearance, seed, **size):
    return review_preview_image(encode_png(draw_character(appearance, seed=seed, **size)), appearance)


def _rgb(hex_colour):
    return np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])


def test_same_seed_and_name_give_the_same_bytes_and_the_name_changes_the_picture():
    first = encode_png(draw_character(MIKA, seed=5, width=256, height=256, name="mika"))
    assert first == encode_png(draw_character(MIKA, seed=5, width=256, height=256, name="mika"))
    assert first != encode_png(draw_character(MIKA, seed=5, width=256, height=256, name="rin"))
    assert draw_character(MIKA, seed=5, width=320, height=200).size == (320, 200)


def test_different_seeds_are_not_near_duplicates():
    for appearance in (MIKA, EMBER):
        hashes = [phash_signed(draw_character(appearance, seed=s, width=256, height=256)) for s in range(12)]
        closest = min(hamming(a, b) for a, b in itertools.combinations(hashes, 2))
        assert closest > NEAR_DUPLICATE_DISTANCE


def test_species_words_choose_the_silhouette():
    shapes = {species: shape_for(Appearance(species=species)) for species in (
        "human", "elf", "dragon — NOT human", "Turtle (NOT human)", "field mouse — NOT human",
        "mushroom — NOT human", "star-shaped — NOT human", "dinosaur — NOT human", "slime — NOT human")}
    assert shapes == {"human": "human", "elf": "human", "dragon — NOT human": "dragon",
                      "Turtle (NOT human)": "turtle", "field mouse — NOT human": "mouse",
                      "mushroom — NOT human": "mushroom", "star-shaped — NOT human": "star",
                      "dinosaur — NOT human": "dinosaur", "slime — NOT human": "creature"}


def test_species_silhouettes_differ():
    # One colour for every part, the same seed (so the same scene, place and scale): only the silhouette
    # differs, and no two species may overlap much.
    parts = ("body", "skin", "hair", "outfit", "belly", "shell", "cap", "stem", "horns", "wings")
    masks = {}
    for species in ("human", "dragon — NOT human", "turtle — NOT human", "mouse — NOT human",
                    "mushroom — NOT human", "star — NOT human", "dinosaur — NOT human", "blob — NOT human"):
        appearance = Appearance(species=species, key_colors={p: "#ff00ff" for p in parts})
        pixels = np.asarray(draw_character(appearance, seed=GOOD_SEEDS[0], width=256, height=256), dtype=int)
        masks[species] = np.abs(pixels - [255, 0, 255]).sum(axis=2) < 30
        assert masks[species].sum() > 1000
    for (a, mask_a), (b, mask_b) in itertools.combinations(masks.items(), 2):
        overlap = (mask_a & mask_b).sum() / (mask_a | mask_b).sum()
        assert overlap < 0.6, f"{a} and {b} look alike ({overlap:.2f})"


@pytest.mark.parametrize("appearance", [MIKA, EMBER, SHELLY, PIP], ids=["human", "dragon", "turtle", "mouse"])
def test_key_colours_are_painted_in_good_pictures(appearance):
    for seed in GOOD_SEEDS[:3]:
        pixels = np.asarray(draw_character(appearance, seed=seed, width=384, height=384), dtype=int).reshape(-1, 3)
        for name, colour in appearance.key_colors.items():
            close = (np.abs(pixels - _rgb(colour)).sum(axis=1) < 24).sum()
            assert close > 150, f"seed {seed}: {name} {colour} covers only {close} pixels"
        review = _review(appearance, seed, width=384, height=384)
        assert all(item.passed for item in review.checklist), review.reason


def test_about_one_seed_in_four_is_flawed_and_every_flaw_occurs():
    flaws = [flaw_for(s) for s in range(2000)]
    assert 0.2 < sum(f is not None for f in flaws) / len(flaws) < 0.3
    assert set(flaws) == {None, *FLAWS}


@pytest.mark.parametrize("flaw", ["blur", "dark", "overexposed"])
def test_blurred_and_badly_exposed_pictures_are_rejected(flaw):
    result = _review(MIKA, FIRST_SEED_WITH[flaw])
    assert result.quality_score < 0.4
    assert decide(result, is_human=True) == "rejected"
    failed = {item.item for item in result.checklist if not item.passed}
    assert ("sharp" if flaw == "blur" else "well exposed") in failed


def test_off_model_colours_go_to_a_person_not_to_the_dataset():
    result = _review(MIKA, FIRST_SEED_WITH["off_colours"])
    assert result.quality_score < 0.8
    assert decide(result, is_human=True) != "approved"
    colour_items = [item for item in result.checklist if "colour" in item.item]
    assert sum(not item.passed for item in colour_items) >= 3


def test_good_human_pictures_auto_approve():
    for seed in GOOD_SEEDS[:3]:
        result = _review(MIKA, seed)
        assert result.quality_score >= 0.8 and result.solo and result.species_ok is None
        assert (result.backend, result.model) == ("preview", "heuristic-v1")
        assert decide(result, is_human=True) == "approved"
    portrait = _review(MIKA, GOOD_SEEDS[0], width=344, height=504)  # an 832x1216 style, scaled down
    assert decide(portrait, is_human=True) == "approved"


def test_a_dragon_is_never_auto_approved_even_when_the_picture_is_good():
    for seed in GOOD_SEEDS[:3]:
        result = _review(EMBER, seed)
        assert result.quality_score >= 0.8  # the picture is fine; only the species needs a person
        assert result.species_ok is None and "species needs a person" in result.reason
        assert decide(result, is_human=EMBER.is_human) == "pending"


def test_other_formats_and_modes_are_reviewed():
    picture = draw_character(MIKA, seed=GOOD_SEEDS[0], width=256, height=256)
    jpeg = io.BytesIO()
    picture.save(jpeg, "JPEG", quality=92)
    assert review_preview_image(jpeg.getvalue(), MIKA).quality_score >= 0.8
    assert review_preview_image(encode_png(picture.convert("RGBA")), MIKA).quality_score >= 0.8


def _png_header_only(width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) \
        + chunk(b"IEND", b"")


def test_bytes_that_are_not_a_picture_are_a_clear_error():
    with pytest.raises(ValueError, match="not a readable image"):
        review_preview_image(b"GIF89a-not-really", MIKA)
    with pytest.raises(ValueError, match="not a readable image"):
        review_preview_image(b"", MIKA)
    truncated = encode_png(draw_character(MIKA, seed=1, width=128, height=128))[:-400]
    with pytest.raises(ValueError, match="not a readable image"):
        review_preview_image(truncated, MIKA)
    with pytest.raises(ValueError, match="too large"):
        review_preview_image(_png_header_only(8000, 8000), MIKA)  # refused from the header alone


def test_the_helper_png_header_is_a_valid_image_header():
    # Guards the test above: the header must parse, so "too large" is about size, not corruption.
    with Image.open(io.BytesIO(_png_header_only(8000, 8000))) as probe:
        assert probe.size == (8000, 8000)
