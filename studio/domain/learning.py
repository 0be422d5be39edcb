"""Choosing the next batch's generation parameters from what was approved before.

The parameter space is a grid per dimension (checkpoint, cfg, steps, sampler, scheduler, resolution,
IP-Adapter weight) inside the bounds the style allows. Learning is factorised Thompson sampling: every
value of every dimension is an arm with a Beta posterior over its approval rate (each decided image
counts for the value of each dimension it was made with); the next batch takes, per dimension, the
value whose posterior draw is highest. The style's own value starts with a prior worth one extra
approval, so with no history the style is the favourite but not the only candidate.
Pinned dimensions keep their pinned value; with learning off every dimension keeps the style's value.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from typing import Iterable

DIMENSIONS = ("checkpoint", "cfg", "steps", "sampler", "scheduler", "resolution", "ipadapter_weight")
DEFAULT_SAMPLERS = ("euler", "euler_ancestral", "dpmpp_2m", "dpmpp_2m_sde")
DEFAULT_SCHEDULERS = ("normal", "karras")
# Beta prior of the style's own value (alpha, beta) and of every other value.
STYLE_PRIOR = (2.0, 1.0)
OTHER_PRIOR = (1.0, 1.0)


@dataclass(frozen=True)
class GenerationParams:
    checkpoint: str
    cfg: float
    steps: int
    sampler: str
    scheduler: str
    width: int
    height: int
    ipadapter_weight: float = 0.7

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    def value(self, dimension: str):
        return self.resolution if dimension == "resolution" else getattr(self, dimension)

    def with_value(self, dimension: str, value) -> "GenerationParams":
        return self.with_values({dimension: value})

    def with_values(self, values: dict) -> "GenerationParams":
        """A copy with several dimensions changed at once (one copy, not one per dimension)."""
        changes = dict(values)
        if "resolution" in changes:
            changes["width"], changes["height"] = parse_resolution(changes.pop("resolution"))
        return replace(self, **changes)

    def key(self) -> str:
        """A stable name of the parameter set, for grouping approvals by it."""
        return "|".join(f"{d}={self.value(d)}" for d in DIMENSIONS)

    def as_dict(self) -> dict:
        # Every field is a str or a number: a shallow copy is what dataclasses.asdict's deep walk makes.
        return dict(vars(self))

    @classmethod
    def from_dict(cls, data: dict) -> "GenerationParams":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


def parse_resolution(value: str) -> tuple[int, int]:
    try:
        width, height = (int(v) for v in str(value).lower().split("x"))
    except ValueError:
        raise ValueError(f"resolution {value!r} is not WIDTHxHEIGHT") from None
    if width <= 0 or height <= 0 or width % 8 or height % 8:
        raise ValueError(f"resolution {value!r}: sides must be positive multiples of 8")
    return width, height


def _grid(low: float, high: float, step: float, anchor: float, digits: int) -> tuple:
    values = {round(anchor, digits)}
    v = low
    while v <= high + 1e-9:
        values.add(round(v, digits))
        v += step
    return tuple(sorted(x for x in values if low - 1e-9 <= x <= high + 1e-9) or [round(anchor, digits)])


def _round8(x: float) -> int:
    return max(64, int(round(x / 64.0)) * 64)


@dataclass(frozen=True)
class ParameterSpace:
    """The candidate values per dimension; `style` is the prior (and what learning-off uses)."""

    style: GenerationParams
    candidates: dict[str, tuple] = field(default_factory=dict)

    def values(self, dimension: str) -> tuple:
        return self.candidates[dimension]

    def contains(self, dimension: str, value) -> bool:
        return value in self.candidates[dimension]

    def neighbour(self, dimension: str, value, direction: int):
        """The next candidate above (direction 1) or below (-1) `value`; None at the bound."""
        ordered = sorted(self.candidates[dimension])
        later = [v for v in ordered if (v > value if direction > 0 else v < value)]
        if not later:
            return None
        return later[0] if direction > 0 else later[-1]


def parameter_space(style: GenerationParams, bounds: dict | None = None) -> ParameterSpace:
    """Candidates within `bounds` (generation_styles.learning_bounds); missing bounds default around
    the style's own values. Raises ValueError naming the bound that is wrong."""
    b = dict(bounds or {})
    cfg_low, cfg_high = b.get("cfg", (max(1.0, style.cfg - 2.0), style.cfg + 2.0))
    steps_low, steps_high = b.get("steps", (max(1, round(style.steps * 0.7)), round(style.steps * 1.5)))
    ip_low, ip_high = b.get("ipadapter_weight", (0.5, 0.9))
    for name, (low, high) in (("cfg", (cfg_low, cfg_high)), ("steps", (steps_low, steps_high)),
                              ("ipadapter_weight", (ip_low, ip_high))):
        if low > high:
            raise ValueError(f"learning_bounds.{name}: low {low} is above high {high}")
    resolutions = b.get("resolutions") or [style.resolution,
                                           f"{_round8(style.width * 0.875)}x{_round8(style.height * 0.875)}"]
    for r in resolutions:
        parse_resolution(r)
    candidates = {
        "checkpoint": tuple(dict.fromkeys([style.checkpoint, *b.get("checkpoints", [])])),
        "cfg": _grid(cfg_low, cfg_high, float(b.get("cfg_step", 1.0)), style.cfg, 2),
        "steps": tuple(int(s) for s in _grid(steps_low, steps_high, int(b.get("steps_step", 5)), style.steps, 0)),
        "sampler": tuple(dict.fromkeys([style.sampler, *b.get("samplers", DEFAULT_SAMPLERS)])),
        "scheduler": tuple(dict.fromkeys([style.scheduler, *b.get("schedulers", DEFAULT_SCHEDULERS)])),
        "resolution": tuple(dict.fromkeys([style.resolution, *resolutions])),
        "ipadapter_weight": _grid(ip_low, ip_high, float(b.get("ipadapter_step", 0.1)), style.ipadapter_weight, 2),
    }
    return ParameterSpace(style=style, candidates=candidates)


@dataclass
class ArmStats:
    """Decided images per (dimension, value): approved and rejected counts."""

    counts: dict[tuple[str, object], list[int]] = field(default_factory=dict)

    def add(self, params: GenerationParams, approved: int, rejected: int) -> None:
        for d in DIMENSIONS:
            entry = self.counts.setdefault((d, params.value(d)), [0, 0])
            entry[0] += approved
            entry[1] += rejected

    def get(self, dimension: str, value) -> tuple[int, int]:
        approved, rejected = self.counts.get((dimension, value), (0, 0))
        return approved, rejected


def arm_stats(history: Iterable[tuple[dict, int, int]]) -> ArmStats:
    """From (parameters, approved, rejected) rows, e.g. per past batch."""
    stats = ArmStats()
    for params, approved, rejected in history:
        stats.add(GenerationParams.from_dict(params), approved, rejected)
    return stats


@dataclass(frozen=True)
class Choice:
    params: GenerationParams
    style: GenerationParams
    mode: str  # "thompson", "learning off"
    sampled: dict  # dimension -> {value: posterior draw} of the dimensions that were learned
    pinned: tuple[str, ...]

    @property
    def draws(self) -> dict:
        """The draws for reading: values as text, draws to 4 places. Made on demand: nothing in a
        sensor tick reads them, and rounding 25 floats per choice was ~4% of a tick's instructions."""
        return {d: {str(v): round(p, 4) for v, p in values.items()} for d, values in self.sampled.items()}

    def why(self) -> str:
        if self.mode != "thompson":
            return f"learning off: the style's values{' with pins' if self.pinned else ''}"
        changed = [d for d in DIMENSIONS if d not in self.pinned and self.params.value(d) != self.style.value(d)]
        return "thompson sampling" + (f"; pinned {', '.join(self.pinned)}" if self.pinned else "") + (
            f"; differs from the style in {', '.join(changed)}" if changed else "; the style's values")


def validate_pins(space: ParameterSpace, pins: dict) -> dict:
    """Pins as the space's values; ValueError naming the pin that is outside the style's bounds."""
    clean = {}
    for dimension, value in pins.items():
        if dimension not in DIMENSIONS:
            raise ValueError(f"pins.{dimension}: unknown parameter (known: {', '.join(DIMENSIONS)})")
        if dimension in ("cfg", "ipadapter_weight"):
            value = round(float(value), 2)
        elif dimension == "steps":
            value = int(value)
        if not space.contains(dimension, value):
            raise ValueError(f"pins.{dimension}: {value!r} is outside the style's bounds "
                             f"{list(space.values(dimension))}")
        clean[dimension] = value
    return clean


def choose(space: ParameterSpace, stats: ArmStats, rng: random.Random, *, pins: dict | None = None,
           learning_enabled: bool = True) -> Choice:
    pins = dict(pins or {})
    if not learning_enabled:
        return Choice(space.style.with_values(pins), space.style, "learning off", {}, tuple(sorted(pins)))
    chosen = dict(pins)
    drawn: dict[str, dict] = {}
    for dimension in DIMENSIONS:
        if dimension in pins:
            continue
        style_value = space.style.value(dimension)
        sampled = {}
        for value in space.values(dimension):  # fixed order: the same seed draws the same numbers
            a0, b0 = STYLE_PRIOR if value == style_value else OTHER_PRIOR
            approved, rejected = stats.get(dimension, value)
            sampled[value] = rng.betavariate(a0 + approved, b0 + rejected)
        chosen[dimension] = max(sampled, key=sampled.get)
        drawn[dimension] = sampled
    return Choice(space.style.with_values(chosen), space.style, "thompson", drawn, tuple(sorted(pins)))


def posterior_mean(approved: int, rejected: int, prior: tuple[float, float] = OTHER_PRIOR) -> float:
    return (prior[0] + approved) / (prior[0] + prior[1] + approved + rejected)
