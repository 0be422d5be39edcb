"""Auto-correction: after rejections, which change the next attempt makes, chosen from the reasons.

Each rejection category points at strategies, the first the likelier fix. A strategy's score is the
number of rejections pointing at it (half for a second choice) times its measured effect so far (the
posterior mean approval rate of attempts that used it), so a strategy that did not help loses ground
to the next one. Strategies that cannot change anything (a pinned or bounded dimension, learning off
for a parameter change) are not candidates; "new seed" always is.
"""

from __future__ import annotations

from dataclasses import dataclass

from studio.domain.feedback_rules import REJECTION_CATEGORIES
from studio.domain.learning import ArmStats, GenerationParams, ParameterSpace, posterior_mean

NEW_SEED = "new_seed"
RAISE_STEPS = "raise_steps"
ADJUST_CFG = "adjust_cfg"
STRENGTHEN_NEGATIVES = "strengthen_negatives"
RAISE_IPADAPTER_WEIGHT = "raise_ipadapter_weight"
SWITCH_SAMPLER = "switch_sampler"
CHANGE_RESOLUTION = "change_resolution"
STRATEGIES = (NEW_SEED, RAISE_STEPS, ADJUST_CFG, STRENGTHEN_NEGATIVES, RAISE_IPADAPTER_WEIGHT,
              SWITCH_SAMPLER, CHANGE_RESOLUTION)

# The parameter each strategy changes (None: prompt or seed only, allowed with learning off).
_DIMENSION = {RAISE_STEPS: "steps", ADJUST_CFG: "cfg", RAISE_IPADAPTER_WEIGHT: "ipadapter_weight",
              SWITCH_SAMPLER: "sampler", CHANGE_RESOLUTION: "resolution", NEW_SEED: None,
              STRENGTHEN_NEGATIVES: None}

FIXES: dict[str, tuple[str, ...]] = {
    "blurry": (RAISE_STEPS, SWITCH_SAMPLER),
    "bad_anatomy": (RAISE_STEPS, CHANGE_RESOLUTION),
    "extra_limbs": (CHANGE_RESOLUTION, STRENGTHEN_NEGATIVES),
    "not_solo": (STRENGTHEN_NEGATIVES, NEW_SEED),
    "wrong_species": (STRENGTHEN_NEGATIVES, RAISE_IPADAPTER_WEIGHT),
    "off_model_colours": (RAISE_IPADAPTER_WEIGHT, ADJUST_CFG),
    "style_drift": (ADJUST_CFG, SWITCH_SAMPLER),
    "other": (NEW_SEED,),
}
assert set(FIXES) == set(REJECTION_CATEGORIES)

# How much stronger learned negatives get under STRENGTHEN_NEGATIVES (prompt weighting syntax).
NEGATIVE_WEIGHT = 1.3


def reasons_from_review(review: dict | None) -> list[str]:
    """Rejection categories read from an automatic review (a person's rejection names them itself)."""
    if not review:
        return ["other"]
    reasons = []
    if review.get("species_ok") is False:
        reasons.append("wrong_species")
    if review.get("solo") is False:
        reasons.append("not_solo")
    for item in review.get("checklist") or []:
        if item.get("passed"):
            continue
        text = str(item.get("item", "")).lower()
        if "sharp" in text or "blur" in text or "focus" in text:
            reasons.append("blurry")
        elif "colour" in text or "color" in text:
            reasons.append("off_model_colours")
        elif "anatomy" in text or "hand" in text:
            reasons.append("bad_anatomy")
        elif "limb" in text:
            reasons.append("extra_limbs")
        elif "style" in text:
            reasons.append("style_drift")
    return list(dict.fromkeys(reasons)) or ["other"]


@dataclass(frozen=True)
class Correction:
    strategy: str
    params: GenerationParams
    strengthen_negatives: bool
    reasons: dict[str, int]
    scores: dict[str, float]

    def why(self) -> str:
        named = ", ".join(f"{k} x{v}" for k, v in sorted(self.reasons.items(), key=lambda kv: -kv[1]))
        return f"{self.strategy} after rejections ({named or 'none'})"


def _better(stats: ArmStats, dimension: str, options: list):
    """The option with the best approval so far (posterior mean); ties keep the given order."""
    return max(options, key=lambda v: (posterior_mean(*stats.get(dimension, v)), -options.index(v)))


def _applied(strategy: str, params: GenerationParams, space: ParameterSpace,
             stats: ArmStats) -> GenerationParams | None:
    """The parameters after `strategy`, or None when it cannot change them. Where a strategy has a
    choice (which way to move cfg, which sampler), what was approved before decides."""
    if strategy == RAISE_STEPS:
        value = space.neighbour("steps", params.steps, 1)
    elif strategy == RAISE_IPADAPTER_WEIGHT:
        value = space.neighbour("ipadapter_weight", params.ipadapter_weight, 1)
    elif strategy == ADJUST_CFG:
        # Prompt adherence (up) unless going down did better so far.
        moves = [v for v in (space.neighbour("cfg", params.cfg, 1), space.neighbour("cfg", params.cfg, -1)) if v]
        value = _better(stats, "cfg", moves) if moves else None
    elif strategy in (SWITCH_SAMPLER, CHANGE_RESOLUTION):
        dimension = _DIMENSION[strategy]
        values = list(space.values(dimension))
        current = params.value(dimension)
        others = values[values.index(current) + 1:] + values[:values.index(current)] if current in values else values
        value = _better(stats, dimension, others) if others else None
    else:
        return params
    return None if value is None else params.with_value(_DIMENSION[strategy], value)


def choose_correction(reasons: dict[str, int], params: GenerationParams, space: ParameterSpace, *,
                      effects: dict[str, tuple[int, int]] | None = None, pins: dict | None = None,
                      learning_enabled: bool = True, stats: ArmStats | None = None) -> Correction | None:
    """None when there were no rejections to correct. `effects`: strategy -> (approved, rejected)."""
    reasons = {k: v for k, v in reasons.items() if v > 0}
    if not reasons:
        return None
    unknown = [k for k in reasons if k not in FIXES]
    if unknown:
        raise ValueError(f"unknown rejection category {unknown[0]!r} (known: {', '.join(REJECTION_CATEGORIES)})")
    effects, pins, stats = effects or {}, pins or {}, stats or ArmStats()
    scores: dict[str, float] = {}
    for category, count in reasons.items():
        for rank, strategy in enumerate(FIXES[category]):
            scores[strategy] = scores.get(strategy, 0.0) + count * (1.0 if rank == 0 else 0.5)
    options: dict[str, tuple[float, GenerationParams]] = {}
    for strategy, weight in scores.items():
        dimension = _DIMENSION[strategy]
        if dimension is not None and (dimension in pins or not learning_enabled):
            continue
        changed = _applied(strategy, params, space, stats)
        if changed is None:
            continue
        options[strategy] = (weight * posterior_mean(*effects.get(strategy, (0, 0))), changed)
    if not options:
        options[NEW_SEED] = (0.0, params)
    # Highest score; ties in STRATEGIES order, so the choice never depends on dict order.
    best = max(options, key=lambda s: (options[s][0], -STRATEGIES.index(s)))
    return Correction(best, options[best][1], best == STRENGTHEN_NEGATIVES, dict(reasons),
                      {s: round(v[0], 4) for s, v in options.items()})


def strengthened(terms: list[str]) -> list[str]:
    return [f"({term}:{NEGATIVE_WEIGHT})" for term in terms]
