"""How each species is drawn: a silhouette per shape, in character units, for the preview images.

`shape_for` picks the shape from the appearance's species; `SHAPES` maps it to its drawing function
and the body parts it paints (studio.preview.character_image gives the parts their colours).
"""

from __future__ import annotations

import math

from PIL import ImageDraw

from studio.domain.appearance import Appearance, species_name

RGB = tuple[int, int, int]


class Pen:
    """Draws in character units: origin at the body centre, one unit = the character's scale."""

    def __init__(self, draw: ImageDraw.ImageDraw, x0: float, y0: float, unit: float, decor: dict[str, RGB]):
        self.draw, self.x0, self.y0, self.unit = draw, x0, y0, unit
        self.outline, self.shine = decor["outline"], decor["shine"]
        self.outline_width = max(2, round(unit * 0.035))

    def _xy(self, points):
        return [(self.x0 + x * self.unit, self.y0 + y * self.unit) for x, y in points]

    def ellipse(self, x0, y0, x1, y1, fill, outline=True, thin=False):
        self.draw.ellipse(self._xy([(x0, y0), (x1, y1)]), fill=fill, outline=self.outline if outline else None,
                          width=max(1, self.outline_width // 2) if thin else self.outline_width)

    def rect(self, x0, y0, x1, y1, fill, radius=0.0):
        self.draw.rounded_rectangle(self._xy([(x0, y0), (x1, y1)]), radius=radius * self.unit, fill=fill,
                                    outline=self.outline, width=self.outline_width)

    def chord(self, x0, y0, x1, y1, start, end, fill):
        self.draw.chord(self._xy([(x0, y0), (x1, y1)]), start, end, fill=fill, outline=self.outline,
                        width=self.outline_width)

    def polygon(self, points, fill):
        self.draw.polygon(self._xy(points), fill=fill, outline=self.outline, width=self.outline_width)

    def limb(self, x, y, angle, length, width, fill):
        """A thick stroke from (x, y) at `angle` degrees (0 = straight down)."""
        a = math.radians(angle)
        end = (x + length * math.sin(a), y + length * math.cos(a))
        self.draw.line(self._xy([(x, y), end]), fill=self.outline, width=round((width + 0.07) * self.unit))
        self.draw.line(self._xy([(x, y), end]), fill=fill, width=round(width * self.unit))
        return end

    def eyes(self, x, y, spread, size, fill):
        for ex in (x - spread, x + spread):
            # Thin rims: the eye colour must cover enough pixels for the reviewer to find it.
            self.ellipse(ex - size * 0.8, y - size * 1.1, ex + size * 0.8, y + size * 1.1, fill, thin=True)
            self.ellipse(ex - size * 0.4, y - size * 0.75, ex - size * 0.1, y - size * 0.4, self.shine,
                         outline=False)


# Each shape draws one species in units (about x -1.3..1.3, y -1.3..1.9) and returns the boxes where
# accent colours go (scarf, belt, ribbon...), best place first.
def _human(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    for side in (-1, 1):
        pen.limb(side * 0.2, 1.0, side * 8 * pose, 0.75, 0.2, p["outfit"])
        pen.limb(side * 0.45, 0.3, side * (25 + 40 * (pose if side > 0 else 1 - pose)), 0.8, 0.17, p["skin"])
    pen.rect(-0.45, 0.1, 0.45, 1.15, p["outfit"], radius=0.15)
    pen.rect(-0.12, -0.15, 0.12, 0.15, p["skin"])
    pen.rect(-0.5, -0.85, 0.5, -0.1, p["hair"], radius=0.2)
    pen.ellipse(-0.42, -1.0, 0.42, -0.05, p["skin"])
    pen.chord(-0.5, -1.15, 0.5, -0.35, 180, 360, p["hair"])
    pen.eyes(0.0, -0.5, 0.19, 0.14, p["eyes"])
    return [(-0.4, 0.05, 0.4, 0.3), (-0.45, 0.65, 0.45, 0.8), (0.15, -1.2, 0.6, -0.9)]


def _dragon(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    spread = 0.5 + 0.4 * pose
    for side in (-1, 1):
        pen.polygon([(side * 0.3, 0.2), (side * 1.25, -0.4 - spread), (side * 1.2, 0.5), (side * 0.5, 0.8)],
                    p["wings"])
    pen.limb(0.3, 1.0, -60 - 30 * pose, 0.95, 0.2, p["body"])
    for side in (-1, 1):
        pen.ellipse(side * 0.35 - 0.2, 1.0, side * 0.35 + 0.2, 1.45, p["body"])
    pen.ellipse(-0.55, -0.1, 0.55, 1.25, p["body"])
    pen.ellipse(-0.32, 0.2, 0.32, 1.1, p["belly"])
    pen.ellipse(-0.45, -1.0, 0.45, -0.2, p["body"])
    for side in (-1, 1):
        pen.polygon([(side * 0.1, -0.9), (side * (0.3 + 0.1 * pose), -1.4), (side * 0.42, -0.78)], p["horns"])
    pen.ellipse(-0.25, -0.5, 0.25, -0.15, p["belly"])
    pen.eyes(0.0, -0.65, 0.2, 0.14, p["eyes"])
    return [(-0.35, -0.2, 0.35, 0.05), (-0.5, 1.1, 0.5, 1.25), (-0.2, 0.45, 0.2, 0.8)]


def _dinosaur(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    pen.limb(-0.4, 0.7, 60 + 25 * pose, 1.0, 0.3, p["body"])
    for x in (-0.6, -0.25, 0.1):
        pen.polygon([(x - 0.18, -0.15), (x - 0.05, -0.8), (x + 0.18, -0.15)], p["horns"])
    for side in (-1, 1):
        pen.rect(side * 0.3 - 0.15, 0.8, side * 0.3 + 0.15, 1.5, p["body"], radius=0.05)
    pen.ellipse(-0.75, -0.4, 0.6, 1.05, p["body"])
    pen.ellipse(-0.35, 0.0, 0.45, 0.95, p["belly"])
    pen.limb(0.15, 0.0, 145, 0.75, 0.38, p["body"])
    pen.ellipse(0.15, -1.15, 1.1, -0.35, p["body"])
    pen.limb(0.45, 0.3, -70 + 20 * pose, 0.35, 0.1, p["body"])
    pen.eyes(0.62, -0.8, 0.18, 0.14, p["eyes"])
    return [(0.1, -0.45, 0.6, -0.25), (-0.6, 0.8, 0.4, 0.95), (-0.25, 0.3, 0.25, 0.65)]


def _turtle(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    for x in (-0.75, -0.3, 0.3, 0.75):
        pen.rect(x - 0.14, 0.7, x + 0.14, 1.25, p["body"], radius=0.1)
    pen.limb(-0.95, 0.55, 70 + 20 * pose, 0.3, 0.12, p["body"])
    pen.ellipse(0.6, -0.5 + 0.2 * pose, 1.45, 0.35 + 0.2 * pose, p["body"])
    pen.chord(-1.1, -0.7, 0.95, 1.4, 180, 360, p["shell"])
    for x in (-0.55, 0.0, 0.5):
        pen.polygon([(x - 0.22, 0.2), (x - 0.12, -0.15), (x + 0.12, -0.15), (x + 0.22, 0.2)], p["shell"])
    pen.rect(-1.05, 0.35, 0.9, 0.75, p["belly"], radius=0.15)
    pen.eyes(1.05, -0.1 + 0.2 * pose, 0.15, 0.13, p["eyes"])
    return [(0.62, -0.48, 1.4, -0.26), (-0.6, -0.55, 0.4, -0.35), (-0.95, 0.45, -0.4, 0.65)]


def _mouse(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    pen.limb(0.4, 1.0, -80 - 40 * pose, 1.0, 0.07, p["body"])
    for side in (-1, 1):
        pen.ellipse(side * 0.55 - 0.4, -1.3, side * 0.55 + 0.4, -0.5, p["body"])
        pen.ellipse(side * 0.55 - 0.25, -1.15, side * 0.55 + 0.25, -0.65, p["belly"])
    pen.ellipse(-0.6, -0.1, 0.6, 1.4, p["body"])
    pen.ellipse(-0.35, 0.3, 0.35, 1.25, p["belly"])
    pen.ellipse(-0.5, -0.95, 0.5, 0.05, p["body"])
    pen.ellipse(-0.08, -0.3, 0.08, -0.16, p["nose"])
    pen.eyes(0.0, -0.5, 0.2, 0.14, p["eyes"])
    return [(-0.4, 0.0, 0.4, 0.2), (0.25, -1.25, 0.75, -0.9), (-0.45, 1.15, 0.45, 1.35)]


def _mushroom(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    for side in (-1, 1):
        pen.ellipse(side * 0.25 - 0.2, 1.3, side * 0.25 + 0.2, 1.55, p["stem"])
    pen.rect(-0.45, -0.2, 0.45, 1.4, p["stem"], radius=0.25)
    tilt = 0.15 * pose
    pen.chord(-1.15 + tilt, -1.3, 1.15 + tilt, 0.3, 180, 360, p["cap"])
    for x, y, r in ((-0.55, -0.75, 0.15), (0.1, -1.0, 0.18), (0.6, -0.7, 0.13)):
        pen.ellipse(x + tilt - r, y - r, x + tilt + r, y + r, p["spots"])
    pen.eyes(0.0, 0.3, 0.2, 0.14, p["eyes"])
    return [(-0.45, 0.7, 0.45, 0.95), (-0.95, -0.6, -0.4, -0.35), (0.35, -0.55, 0.9, -0.3)]


def _star(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    angles = [math.radians(-90 + 12 * pose + 36 * k) for k in range(10)]
    radii = [1.2, 0.55] * 5  # alternating tips and notches
    pen.polygon([(r * math.cos(a), 0.25 + r * math.sin(a)) for r, a in zip(radii, angles)], p["body"])
    pen.eyes(0.0, 0.1, 0.22, 0.15, p["eyes"])
    return [(-0.5, 0.45, 0.5, 0.68), (-0.3, -0.78, 0.3, -0.52), (-1.0, -0.05, -0.55, 0.2)]


def _creature(pen: Pen, p: dict[str, RGB], pose: float) -> list[tuple]:
    for side in (-1, 1):
        pen.limb(side * 0.3, -0.6, side * (150 + 15 * pose), 0.6, 0.08, p["body"])
        pen.ellipse(side * 0.4 - 0.25, 1.1, side * 0.4 + 0.25, 1.4, p["body"])
    pen.ellipse(-0.8, -0.7, 0.8, 1.3, p["body"])
    pen.ellipse(-0.45, 0.3, 0.45, 1.15, p["belly"])
    pen.eyes(0.0, -0.15, 0.26, 0.16, p["eyes"])
    return [(-0.5, 0.05, 0.5, 0.25), (-1.0, -1.3, -0.5, -0.95), (0.5, -1.3, 1.0, -0.95)]


SHAPES = {"human": (_human, ("skin", "hair", "eyes", "outfit")),
          "dragon": (_dragon, ("body", "belly", "wings", "horns", "eyes")),
          "dinosaur": (_dinosaur, ("body", "belly", "horns", "eyes")),
          "turtle": (_turtle, ("shell", "body", "belly", "eyes")),
          "mouse": (_mouse, ("body", "belly", "eyes")),
          "mushroom": (_mushroom, ("cap", "stem", "eyes")),
          "star": (_star, ("body", "eyes")),
          "creature": (_creature, ("body", "belly", "eyes"))}
SPECIES_WORDS = {"dragon": "dragon", "wyvern": "dragon", "dino": "dinosaur", "rex": "dinosaur",
                 "raptor": "dinosaur", "turtle": "turtle", "tortoise": "turtle", "mouse": "mouse",
                 "mice": "mouse", "rat": "mouse", "hamster": "mouse", "mushroom": "mushroom",
                 "fung": "mushroom", "star": "star"}


def shape_for(appearance: Appearance) -> str:
    """The silhouette drawn for a species: a known keyword, else human or a generic creature."""
    species = species_name(appearance.species)
    for word, shape in SPECIES_WORDS.items():
        if word in species:
            return shape
    return "human" if appearance.is_human else "creature"
