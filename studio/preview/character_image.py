"""Procedural character pictures drawn from appearance data: the CPU stand-in for ComfyUI.

Deterministic per seed. The seed moves, scales, poses and tilts the character and builds a different
scene and light around it, so two seeds never look like near-duplicates to a perceptual hash. About
one seed in four (see `flaw_for`) draws a flawed picture — blurred, badly exposed or off-model
colours — so the reviewer and the review page have real work to do.
"""

from __future__ import annotations

import colorsys
import io
import math
import random

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from studio.domain.appearance import Appearance
from studio.preview.species_shapes import RGB, SHAPES, Pen, shape_for

FLAWS = ("blur", "dark", "overexposed", "off_colours")
FLAW_RATE = 0.25
# Lines, eye highlights and the like use whichever candidate is farthest from the key colours, so
# they never stand in for a key colour (near-black eyes would otherwise be "found" in every outline).
DECOR_CANDIDATES: dict[str, tuple[RGB, ...]] = {
    "outline": ((24, 22, 30), (70, 28, 20), (16, 40, 72), (76, 76, 76)),
    "shine": ((255, 255, 255), (200, 235, 255), (255, 230, 200)),
    "spots": ((250, 248, 240), (255, 240, 120), (190, 240, 255)),
    "nose": ((230, 120, 140), (60, 40, 40), (150, 200, 255)),
}
# Key-colour names creators use -> the body part they paint. Anything else is drawn as an accent.
PART_WORDS = {"skin": "skin face", "hair": "hair mane", "eyes": "eyes eye iris",
              "outfit": "outfit clothes clothing coat dress shirt jacket uniform robe kimono",
              "body": "body scales fur feathers hide", "belly": "belly chest underside", "shell": "shell carapace",
              "cap": "cap", "stem": "stem", "wings": "wings wing", "horns": "horns horn spikes"}
PART_OF_NAME = {word: part for part, words in PART_WORDS.items() for word in words.split()}
# A part the drawn species does not have paints its nearest equivalent (a dragon's "skin" is its body).
FALLBACK_PART = {"skin": "body", "body": "skin", "shell": "body", "cap": "body", "wings": "body",
                 "horns": "hair", "hair": "horns", "stem": "belly", "belly": "stem"}
DEFAULT_COLOURS: dict[str, RGB] = {
    "skin": (241, 201, 165), "hair": (58, 42, 26), "eyes": (48, 80, 110), "outfit": (85, 119, 170),
    "body": (122, 160, 90), "belly": (232, 220, 176), "shell": (96, 120, 60), "cap": (200, 50, 50),
    "stem": (240, 230, 210), "wings": (100, 130, 80), "horns": (239, 230, 200),
}
# Scenery keeps this far (RGB distance, after any lighting) from every key colour, so a colour the
# reviewer finds was painted on the character and an off-model picture cannot pass by luck.
SCENERY_MIN_DISTANCE = 90.0
SKY_LIGHT, GROUND_LIGHT, HILL_LIGHT = (0.85, 1.0, 1.1), (0.45, 0.65, 0.85, 1.05), (0.65, 1.0)


def flaw_for(seed: int) -> str | None:
    """Which flaw this seed draws, if any: deterministic, about one seed in four."""
    rng = random.Random(f"flaw:{seed}")
    return rng.choice(FLAWS) if rng.random() < FLAW_RATE else None


def _rgb(hex_colour: str) -> RGB:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _scaled(colour: RGB, factor: float) -> RGB:
    return tuple(min(255, int(c * factor)) for c in colour)


def _distance_to_keys(colour: RGB, keys: list[RGB], lighting: tuple[float, ...]) -> float:
    return min((math.dist(_scaled(colour, m), k) for k in keys for m in lighting), default=math.inf)


def _colour(rng: random.Random, keys: list[RGB], value: tuple[float, float], lighting: tuple[float, ...],
            saturation: tuple[float, float] = (0.2, 0.7), hue: float | None = None) -> RGB:
    """A scenery colour far from the key colours under every `lighting` factor it will be shown at."""
    best, best_distance = (0, 0, 0), -1.0
    for _ in range(40):  # best of several: a dark palette may leave no colour fully clear of all keys
        h = rng.random() if hue is None else (hue + rng.uniform(-0.06, 0.06)) % 1.0
        r, g, b = colorsys.hsv_to_rgb(h, rng.uniform(*saturation), rng.uniform(*value))
        candidate = (int(r * 255), int(g * 255), int(b * 255))
        distance = _distance_to_keys(candidate, keys, lighting)
        if distance > best_distance:
            best, best_distance = candidate, distance
        if distance >= SCENERY_MIN_DISTANCE:
            break
    return best


def _palette(appearance: Appearance, parts: tuple[str, ...]) -> tuple[dict[str, RGB], list[RGB]]:
    """Colours of the drawn parts, and the key colours no part takes (drawn as accents)."""
    palette, accents = {}, []
    for name, hex_colour in appearance.key_colors.items():
        words = name.lower().replace("_", " ").replace("-", " ").split()
        part = next((PART_OF_NAME[w] for w in words if w in PART_OF_NAME), None)
        if part not in parts:
            part = FALLBACK_PART.get(part)
        if part in parts and part not in palette:
            palette[part] = _rgb(hex_colour)
        else:
            accents.append(_rgb(hex_colour))
    if "wings" in parts and "wings" not in palette:  # unnamed wings: a darker shade of the body
        palette["wings"] = _scaled(palette.get("body", DEFAULT_COLOURS["body"]), 0.75)
    return {part: palette.get(part, DEFAULT_COLOURS[part]) for part in parts}, accents


def _decor(keys: list[RGB]) -> dict[str, RGB]:
    return {role: max(candidates, key=lambda c: _distance_to_keys(c, keys, (1.0,)))
            for role, candidates in DECOR_CANDIDATES.items()}


def _scene(rng: random.Random, width: int, height: int, keys: list[RGB]) -> tuple[Image.Image, int]:
    """Sky, ground, sun and hills; large shapes so pHash sees a different layout per seed."""
    daylight = rng.choice(((0.72, 0.9), (0.6, 0.78), (0.45, 0.6)))  # day, dusk, night
    # Lighting factors each colour is shown at: light ramp, ground darkening, the character's shadow.
    sky_top = _colour(rng, keys, daylight, SKY_LIGHT)
    sky_low = _colour(rng, keys, daylight, SKY_LIGHT, hue=colorsys.rgb_to_hsv(*[c / 255 for c in sky_top])[0])
    ground = _colour(rng, keys, (0.4, 0.7), GROUND_LIGHT, saturation=(0.3, 0.7))
    horizon = int(height * rng.uniform(0.45, 0.85))
    t = np.linspace(0.0, 1.0, height)[:, None]
    column = np.where(t * height < horizon, np.array(sky_top) * (1 - t) + np.array(sky_low) * t,
                      np.array(ground) * (1.1 - 0.3 * t))
    light_x = rng.random()
    ramp = 1.1 - 0.25 * np.abs(np.linspace(0.0, 1.0, width) - light_x)  # brighter towards the light
    pixels = column[:, None, :] * ramp[None, :, None]
    scene = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(scene)
    sun_r = int(min(width, height) * rng.uniform(0.06, 0.14))
    sun_x, sun_y = int(light_x * width), int(rng.uniform(0.05, 0.4) * horizon)
    draw.ellipse([sun_x - sun_r, sun_y - sun_r, sun_x + sun_r, sun_y + sun_r],
                 fill=_colour(rng, keys, (0.85, 1.0), (1.0,), saturation=(0.05, 0.4)))
    for _ in range(rng.randint(1, 4)):
        x, r = rng.uniform(-0.2, 1.2) * width, rng.uniform(0.2, 0.6) * width
        top = horizon - rng.uniform(0.05, 0.3) * height
        draw.ellipse([x - r, top, x + r, top + 2 * r], fill=_colour(rng, keys, (0.35, 0.75), HILL_LIGHT))
    return scene, horizon


def _character_layer(draw_shape, rng: random.Random, unit: float, palette: dict[str, RGB],
                     accents: list[RGB], decor: dict[str, RGB]) -> Image.Image:
    width, height = int(2.8 * unit), int(3.5 * unit)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    pen = Pen(ImageDraw.Draw(layer), width / 2, 1.45 * unit, unit, decor)
    anchors = draw_shape(pen, {**decor, **palette}, rng.uniform(0.0, 1.0))
    for i, colour in enumerate(accents):
        x0, y0, x1, y1 = anchors[i % len(anchors)]
        if i >= len(anchors):  # more accents than places: stack them as badges under the first place
            shift = 0.3 * (i // len(anchors))
            x0, y0, x1, y1 = x0, y0 + shift, x0 + 0.28, y0 + shift + 0.28
        pen.rect(x0, y0, x1, y1, colour, radius=0.05)
    if rng.random() < 0.5:
        layer = ImageOps.mirror(layer)
    return layer.rotate(rng.uniform(-14, 14), resample=Image.Resampling.BICUBIC, expand=True)


def draw_character(appearance: Appearance, *, seed: int, width: int = 512, height: int = 512,
                   name: str = "") -> Image.Image:
    """An RGB picture of the character; `name` salts the composition so characters sharing a seed differ."""
    rng = random.Random(f"{name}:{seed}")
    flaw = flaw_for(seed)
    draw_shape, parts = SHAPES[shape_for(appearance)]
    palette, accents = _palette(appearance, parts)
    keys = [_rgb(c) for c in appearance.key_colors.values()]
    decor = _decor(keys)
    keys += list(palette.values())
    scene, horizon = _scene(rng, width, height, keys)
    if flaw == "off_colours":  # every part and accent repainted in a colour far from all key colours
        off_model = [_colour(rng, keys, (0.3, 0.95), (1.0,), saturation=(0.4, 1.0))
                     for _ in range(len(palette) + len(accents))]
        palette, accents = dict(zip(palette, off_model)), off_model[len(palette):]
    # Scale by area, not by the short side, so a portrait frame shows the character as large (the
    # reviewer's colour thresholds are fractions of the picture); cap it so the tilted layer fits.
    unit = min(math.sqrt(width * height) * rng.uniform(0.16, 0.23), width / 3.6, height / 4.1)
    layer = _character_layer(draw_shape, rng, unit, palette, accents, decor)
    left = int(rng.uniform(0, max(0, width - layer.width)))
    standing = horizon - 0.8 * layer.height + rng.uniform(-0.1, 0.1) * height
    top = int(min(max(0, height - layer.height), max(0, standing)))
    shadow = Image.new("L", scene.size, 0)
    feet_y = top + layer.height * 0.85
    ImageDraw.Draw(shadow).ellipse([left + 0.15 * layer.width, feet_y - 0.05 * layer.height,
                                    left + 0.85 * layer.width, feet_y + 0.07 * layer.height], fill=90)
    scene.paste((0, 0, 0), mask=shadow)
    scene.paste(layer, (left, top), layer)
    return _apply_flaw(scene, flaw, rng)


def _apply_flaw(image: Image.Image, flaw: str | None, rng: random.Random) -> Image.Image:
    if flaw == "blur":
        return image.filter(ImageFilter.GaussianBlur(radius=min(image.size) / rng.uniform(45, 60)))
    if flaw == "dark":
        return ImageEnhance.Brightness(image).enhance(rng.uniform(0.12, 0.22))
    if flaw == "overexposed":
        gain, lift = rng.uniform(2.5, 3.5), rng.uniform(50, 80)  # the lift washes out night scenes too
        return image.point(lambda v: min(255, int(v * gain + lift)))
    return ImageEnhance.Brightness(image).enhance(rng.uniform(0.96, 1.04))


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
