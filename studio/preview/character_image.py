"""Procedural character pictures drawn from appearance data: the CPU stand-in for ComfyUI.

Deterministic per seed. The seed moves the character, scales it, changes the background and the
light, so two seeds never look like near-duplicates; about one seed in four draws a flawed picture
(blurred, badly exposed or off-model colours) so the reviewer has real work to do.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from studio.domain.appearance import Appearance, species_name

DEFAULTS = {"skin": "#f1c9a5", "hair": "#3a2a1a", "eyes": "#30506e", "outfit": "#5577aa",
            "body": "#7aa05a", "belly": "#e8dcb0", "accent": "#d04040"}
# Which key colour paints which part, for the names creators tend to use.
ALIASES = {"body": ("body", "scales", "fur", "shell", "skin", "cap"), "belly": ("belly", "stem", "outfit"),
           "hair": ("hair", "horns", "mane"), "eyes": ("eyes",), "skin": ("skin", "face"),
           "outfit": ("outfit", "clothes", "coat", "scarf")}
FLAWS = ("blur", "dark", "overexposed", "off_colours")


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def _palette(appearance: Appearance) -> dict[str, tuple[int, int, int]]:
    colours = {k.lower(): v for k, v in appearance.key_colors.items()}
    palette = {}
    for part, default in DEFAULTS.items():
        chosen = next((colours[n] for n in ALIASES.get(part, (part,)) if n in colours), default)
        palette[part] = _rgb(chosen)
    return palette


def _background(draw: ImageDraw.ImageDraw, rng: random.Random, w: int, h: int) -> None:
    base = [rng.randint(40, 200) for _ in range(3)]
    vertical = rng.random() < 0.5
    for i in range(h if vertical else w):
        t = i / (h if vertical else w)
        colour = tuple(int(c * (0.6 + 0.6 * t)) % 256 for c in base)
        draw.line([(0, i), (w, i)] if vertical else [(i, 0), (i, h)], fill=colour)
    for _ in range(rng.randint(3, 7)):  # large shapes: they change the low frequencies pHash sees
        x, y, r = rng.randint(0, w), rng.randint(0, h), rng.randint(w // 10, w // 3)
        draw.ellipse([x - r, y - r, x + r, y + r], fill=tuple(rng.randint(0, 255) for _ in range(3)))


def _human(d, p, cx, cy, s):
    d.rectangle([cx - 0.45 * s, cy + 0.2 * s, cx + 0.45 * s, cy + 1.3 * s], fill=p["outfit"])
    d.ellipse([cx - 0.4 * s, cy - 0.6 * s, cx + 0.4 * s, cy + 0.3 * s], fill=p["skin"])
    d.chord([cx - 0.45 * s, cy - 0.7 * s, cx + 0.45 * s, cy + 0.1 * s], 180, 360, fill=p["hair"])
    for ex in (-0.15, 0.15):
        d.ellipse([cx + (ex - 0.06) * s, cy - 0.15 * s, cx + (ex + 0.06) * s, cy - 0.02 * s], fill=p["eyes"])


def _dragon(d, p, cx, cy, s):
    d.polygon([(cx - 0.3 * s, cy), (cx - 1.0 * s, cy - 0.7 * s), (cx - 0.6 * s, cy + 0.2 * s)], fill=p["hair"])
    d.polygon([(cx + 0.3 * s, cy), (cx + 1.0 * s, cy - 0.7 * s), (cx + 0.6 * s, cy + 0.2 * s)], fill=p["hair"])
    d.line([(cx + 0.4 * s, cy + 0.8 * s), (cx + 1.1 * s, cy + 1.1 * s)], fill=p["body"], width=int(s * 0.15))
    d.ellipse([cx - 0.55 * s, cy - 0.2 * s, cx + 0.55 * s, cy + 1.0 * s], fill=p["body"])
    d.ellipse([cx - 0.3 * s, cy + 0.15 * s, cx + 0.3 * s, cy + 0.9 * s], fill=p["belly"])
    d.ellipse([cx - 0.4 * s, cy - 0.8 * s, cx + 0.4 * s, cy - 0.05 * s], fill=p["body"])
    for hx in (-0.2, 0.2):
        d.polygon([(cx + hx * s, cy - 0.75 * s), (cx + (hx + 0.08) * s, cy - 1.05 * s),
                   (cx + (hx + 0.14) * s, cy - 0.7 * s)], fill=p["hair"])
        d.ellipse([cx + (hx - 0.05) * s, cy - 0.5 * s, cx + (hx + 0.07) * s, cy - 0.38 * s], fill=p["eyes"])


def _turtle(d, p, cx, cy, s):
    d.ellipse([cx + 0.5 * s, cy - 0.1 * s, cx + 1.0 * s, cy + 0.4 * s], fill=p["skin"])
    d.chord([cx - 0.8 * s, cy - 0.6 * s, cx + 0.7 * s, cy + 0.9 * s], 180, 360, fill=p["body"])
    d.rectangle([cx - 0.7 * s, cy + 0.15 * s, cx + 0.6 * s, cy + 0.35 * s], fill=p["belly"])


def _mouse(d, p, cx, cy, s):
    for ex in (-0.45, 0.45):
        d.ellipse([cx + (ex - 0.3) * s, cy - 0.9 * s, cx + (ex + 0.3) * s, cy - 0.3 * s], fill=p["body"])
    d.ellipse([cx - 0.5 * s, cy - 0.5 * s, cx + 0.5 * s, cy + 1.0 * s], fill=p["body"])
    d.ellipse([cx - 0.25 * s, cy + 0.1 * s, cx + 0.25 * s, cy + 0.8 * s], fill=p["belly"])


def _mushroom(d, p, cx, cy, s):
    d.rectangle([cx - 0.25 * s, cy - 0.1 * s, cx + 0.25 * s, cy + 1.0 * s], fill=p["belly"])
    d.chord([cx - 0.8 * s, cy - 0.8 * s, cx + 0.8 * s, cy + 0.4 * s], 180, 360, fill=p["body"])


def _star(d, p, cx, cy, s):
    import math

    points = []
    for k in range(10):
        r = s * (0.9 if k % 2 == 0 else 0.4)
        a = -math.pi / 2 + k * math.pi / 5
        points.append((cx + r * math.cos(a), cy + 0.2 * s + r * math.sin(a)))
    d.polygon(points, fill=p["body"])


def _creature(d, p, cx, cy, s):
    d.ellipse([cx - 0.7 * s, cy - 0.5 * s, cx + 0.7 * s, cy + 1.0 * s], fill=p["body"])
    d.ellipse([cx - 0.2 * s, cy - 0.2 * s, cx + 0.2 * s, cy + 0.1 * s], fill=p["eyes"])


SHAPES = {"dragon": _dragon, "dinosaur": _dragon, "turtle": _turtle, "mouse": _mouse,
          "mushroom": _mushroom, "star": _star}


def flaw_for(seed: int) -> str | None:
    rng = random.Random(f"flaw:{seed}")
    return rng.choice(FLAWS) if rng.random() < 0.25 else None


def draw_character(appearance: Appearance, *, seed: int, width: int = 512, height: int = 512,
                   name: str = "") -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height))
    draw = ImageDraw.Draw(image)
    _background(draw, rng, width, height)
    palette = _palette(appearance)
    flaw = flaw_for(seed)
    if flaw == "off_colours":
        palette = {k: tuple(rng.randint(0, 255) for _ in range(3)) for k in palette}
    if appearance.is_human:
        shape = _human
    else:
        species = species_name(appearance.species)
        shape = next((f for key, f in SHAPES.items() if key in species), _creature)
    size = min(width, height) * rng.uniform(0.22, 0.32)
    cx = width * rng.uniform(0.35, 0.65)
    cy = height * rng.uniform(0.35, 0.5)
    shape(draw, palette, cx, cy, size)
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.9, 1.1))
    if flaw == "blur":
        image = image.filter(ImageFilter.GaussianBlur(radius=max(4, width // 60)))
    elif flaw == "dark":
        image = ImageEnhance.Brightness(image).enhance(0.18)
    elif flaw == "overexposed":
        image = ImageEnhance.Brightness(image).enhance(3.0)
    return image


def encode_png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()
