"""Perceptual-hash dedup on our own preview images: which threshold, how fast.

(a) Preview pictures of several characters at many seeds, and near-duplicates of each (JPEG
    re-encode, 0.9 resize, 1-2 px shift, slight brightness change): distance distributions of
    near-duplicate pairs vs distinct pairs, a threshold chosen in the gap, and the FP/FN rates of the
    threshold the code uses (studio.domain.dedup.NEAR_DUPLICATE_DISTANCE).
(b) One query against 100,000 stored random hashes: median and p99 over many queries.

Run: .venv/bin/python -m bench.bench_dedup
"""

from __future__ import annotations

import io
import itertools
import random
import statistics
import time

import numpy as np
from PIL import Image, ImageEnhance

from bench.results import record
from studio.domain.appearance import Appearance
from studio.domain.dedup import NEAR_DUPLICATE_DISTANCE, HashIndex, hamming, phash_signed
from studio.preview.character_image import draw_character

CHARACTERS = {
    "mika": Appearance(species="human", key_colors={"hair": "#1f2a5c", "eyes": "#e0a030", "outfit": "#f2c21b",
                                                     "skin": "#f3d2b8"}),
    "ember": Appearance(species="dragon — NOT human", key_colors={"scales": "#e8642a", "belly": "#f6e3c0",
                                                                   "eyes": "#2c8f6e"}),
    "shelly": Appearance(species="turtle — NOT human", key_colors={"shell": "#3d6b2f", "skin": "#9acd70"}),
    "pip": Appearance(species="mouse — NOT human", key_colors={"fur": "#9a8f86", "scarf": "#2a7fd4"}),
    "rin": Appearance(species="human", key_colors={"hair": "#d94f8a", "outfit": "#222222", "skin": "#e8b995"}),
}
SEEDS_PER_CHARACTER = 40
INDEX_SIZE = 100_000
QUERIES = 2_000


def _jpeg(image: Image.Image) -> Image.Image:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")


def _resized(image: Image.Image) -> Image.Image:
    return image.resize((round(image.width * 0.9), round(image.height * 0.9)), Image.Resampling.LANCZOS)


def _shifted(image: Image.Image, rng: random.Random) -> Image.Image:
    dx, dy = rng.choice((-2, -1, 1, 2)), rng.choice((-2, -1, 1, 2))
    # Translate and fill the uncovered strip with the nearest edge pixels (a crop-and-pad, like a re-frame).
    shifted = Image.new("RGB", image.size)
    shifted.paste(image, (dx, dy))
    pixels = np.asarray(shifted).copy()
    src = np.asarray(image)
    if dx > 0:
        pixels[:, :dx] = src[:, :1]
    elif dx < 0:
        pixels[:, dx:] = src[:, -1:]
    if dy > 0:
        pixels[:dy] = pixels[dy:dy + 1]
    elif dy < 0:
        pixels[dy:] = pixels[dy - 1:dy]
    return Image.fromarray(pixels)


def _brighter(image: Image.Image, rng: random.Random) -> Image.Image:
    return ImageEnhance.Brightness(image).enhance(rng.choice((0.92, 0.95, 1.05, 1.08)))


def _summary(distances: list[int]) -> str:
    q = np.percentile(distances, [0, 1, 5, 50, 95, 99, 100])
    return "min {:.0f}  p1 {:.0f}  p5 {:.0f}  median {:.0f}  p95 {:.0f}  p99 {:.0f}  max {:.0f}".format(*q)


def _histogram(distances: list[int], upto: int = 24) -> str:
    counts = np.bincount(np.minimum(distances, upto), minlength=upto + 1)
    return " ".join(f"{d}{'+' if d == upto else ''}:{c}" for d, c in enumerate(counts) if c)


def measure_threshold() -> dict[str, float]:
    rng = random.Random(7)
    originals: list[int] = []
    near: dict[str, list[int]] = {"jpeg": [], "resize_0.9": [], "shift_1-2px": [], "brightness": []}
    for name, appearance in CHARACTERS.items():
        for seed in range(SEEDS_PER_CHARACTER):
            image = draw_character(appearance, seed=seed, width=512, height=512, name=name)
            h = phash_signed(image)
            originals.append(h)
            near["jpeg"].append(hamming(h, phash_signed(_jpeg(image))))
            near["resize_0.9"].append(hamming(h, phash_signed(_resized(image))))
            near["shift_1-2px"].append(hamming(h, phash_signed(_shifted(image, rng))))
            near["brightness"].append(hamming(h, phash_signed(_brighter(image, rng))))
    near_all = [d for ds in near.values() for d in ds]
    # Every pair of distinct pictures, same character or not (dedup runs per character; both are shown).
    per_character = SEEDS_PER_CHARACTER
    same, other = [], []
    for i, j in itertools.combinations(range(len(originals)), 2):
        (same if i // per_character == j // per_character else other).append(hamming(originals[i], originals[j]))
    distinct = same + other

    print(f"{len(originals)} pictures, {len(near_all)} near-duplicates, {len(distinct)} distinct pairs")
    for kind, ds in near.items():
        print(f"  near-duplicate {kind:12s} {_summary(ds)}")
    print(f"  distinct, same character     {_summary(same)}")
    print(f"  distinct, other characters   {_summary(other)}")
    print(f"  histogram near-duplicates: {_histogram(near_all)}")
    print(f"  histogram distinct:        {_histogram(distinct)}")

    # Suggest the middle of the gap: as far as possible from both the worst near-duplicate and the
    # closest distinct pair, because unseen edits and unseen seeds will widen both tails.
    suggested = (max(near_all) + min(distinct)) // 2
    false_negative = sum(d > NEAR_DUPLICATE_DISTANCE for d in near_all) / len(near_all)
    false_positive = sum(d <= NEAR_DUPLICATE_DISTANCE for d in distinct) / len(distinct)
    print(f"  suggested threshold (mid-gap): {suggested}; in use: {NEAR_DUPLICATE_DISTANCE}")
    if suggested != NEAR_DUPLICATE_DISTANCE:
        print("  NOTE: the measured mid-gap differs from studio.domain.dedup.NEAR_DUPLICATE_DISTANCE")
    return {"dedup_threshold": NEAR_DUPLICATE_DISTANCE,
            "dedup_false_positive_rate": round(false_positive, 5),
            "dedup_false_negative_rate": round(false_negative, 5)}


def measure_query_time() -> dict[str, float]:
    rng = np.random.default_rng(11)
    stored = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=INDEX_SIZE, dtype=np.int64,
                          endpoint=True)
    index = HashIndex(stored.tolist())
    queries = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=QUERIES, dtype=np.int64,
                           endpoint=True).tolist()
    for query in queries[:50]:  # warm caches and numpy's dispatch
        index.nearest(query)
    timings = []
    for query in queries:
        start = time.perf_counter_ns()
        index.has_near_duplicate(query)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    p99 = float(np.percentile(timings, 99))
    print(f"query against {INDEX_SIZE:,} hashes: median {statistics.median(timings):.3f} ms, p99 {p99:.3f} ms")
    return {"dedup_query_ms": round(statistics.median(timings), 4), "dedup_query_p99_ms": round(p99, 4)}


def main() -> None:
    started = time.perf_counter()
    figures = measure_threshold() | measure_query_time()
    print(f"bench_dedup took {time.perf_counter() - started:.1f} s")
    record(figures)


if __name__ == "__main__":
    main()
