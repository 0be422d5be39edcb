"""The learner's view of history and the next batch's parameters, for many characters at once.

Three queries whatever the number of characters: their styles and pins, their batches with the
current outcome of each batch's images (a person's later decision counts), and the rejection reasons
of each one's latest batch. The choice itself is studio/domain/learning.py and corrections.py.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
import json
from dataclasses import dataclass, field

from studio.domain.appearance import Appearance
from studio.domain.corrections import choose_correction, reasons_from_review, strengthened
from studio.domain.feedback_rules import learned_negatives
from studio.domain.learning import GenerationParams, arm_stats, choose, parameter_space, validate_pins

STYLES_SQL = """
SELECT c.id, c.appearance_data, s.checkpoint, s.cfg, s.steps, s.sampler, s.scheduler, s.width, s.height,
       s.learning_bounds, coalesce(ca.pins, '{}'::jsonb) AS pins,
       coalesce(ca.learning_enabled, true) AS learning_enabled
  FROM characters c JOIN generation_styles s ON s.id = c.style_id
  LEFT JOIN character_autonomy ca ON ca.character_id = c.id
 WHERE c.id = ANY($1::bigint[])
"""

# Images are counted per batch before the join: sorting every image row with its batch's parameters
# spilled to disk at 200,000 images.
BATCHES_SQL = """
SELECT gh.id, gh.character_id, gh.parameters -> 'used' AS used, gh.strategy,
       coalesce(o.approved, 0) AS approved, coalesce(o.rejected, 0) AS rejected
  FROM generation_history gh
  LEFT JOIN (SELECT character_id, dagster_run_id,
                    count(*) FILTER (WHERE status = 'approved') AS approved,
                    count(*) FILTER (WHERE status = 'rejected') AS rejected
               FROM images WHERE character_id = ANY($1::bigint[]) AND dagster_run_id IS NOT NULL
              GROUP BY character_id, dagster_run_id) o
    ON o.character_id = gh.character_id AND o.dagster_run_id = gh.dagster_run_id
 WHERE gh.character_id = ANY($1::bigint[]) AND gh.parameters IS NOT NULL
 ORDER BY gh.id
"""

# A batch can be a thousand images: the latest REASON_SAMPLE rejections of it say what went wrong as
# well as all of them, and keep a tick's work from growing with batch size.
REASON_SAMPLE = 10
LAST_BATCH_REJECTIONS_SQL = f"""
SELECT r.character_id, r.review, f.categories
  FROM (SELECT i.id, i.character_id, i.review,
               row_number() OVER (PARTITION BY i.character_id ORDER BY i.id DESC) AS nth
          FROM (SELECT DISTINCT ON (character_id) character_id, dagster_run_id FROM generation_history
                 WHERE character_id = ANY($1::bigint[]) ORDER BY character_id, id DESC) last
          JOIN images i ON i.character_id = last.character_id AND i.dagster_run_id = last.dagster_run_id
         WHERE i.status = 'rejected') r
  LEFT JOIN LATERAL (SELECT categories FROM review_feedback rf
                      WHERE rf.image_id = r.id AND rf.decision = 'rejected' ORDER BY rf.id DESC LIMIT 1) f ON true
 WHERE r.nth <= {REASON_SAMPLE}
"""


def style_params(row) -> GenerationParams:
    return GenerationParams(checkpoint=row["checkpoint"], cfg=round(row["cfg"], 2), steps=row["steps"],
                            sampler=row["sampler"], scheduler=row["scheduler"], width=row["width"],
                            height=row["height"])


@dataclass
class LearningData:
    styles: dict[int, object]
    batches: dict[int, list]
    reasons: dict[int, Counter]
    _effects: dict | None = None
    _spaces: dict = field(default_factory=dict)

    def space(self, style: GenerationParams, bounds: dict):
        """Characters of one style share its parameter space: built once per tick."""
        key = (style, json.dumps(bounds, sort_keys=True))
        if key not in self._spaces:
            self._spaces[key] = parameter_space(style, bounds)
        return self._spaces[key]

    def effects(self) -> dict[str, tuple[int, int]]:
        """Approved and rejected images of batches that used each correction strategy."""
        if self._effects is None:
            self._effects = self._count_effects()
        return self._effects

    def _count_effects(self) -> dict[str, tuple[int, int]]:
        totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for rows in self.batches.values():
            for r in rows:
                if r["strategy"]:
                    totals[r["strategy"]][0] += r["approved"]
                    totals[r["strategy"]][1] += r["rejected"]
        return {k: (a, b) for k, (a, b) in totals.items()}


async def load_learning_data(conn, character_ids: list[int]) -> LearningData:
    styles = {r["id"]: r for r in await conn.fetch(STYLES_SQL, character_ids)}
    batches: dict[int, list] = defaultdict(list)
    for r in await conn.fetch(BATCHES_SQL, character_ids):
        batches[r["character_id"]].append(r)
    reasons: dict[int, Counter] = defaultdict(Counter)
    for r in await conn.fetch(LAST_BATCH_REJECTIONS_SQL, character_ids):
        reasons[r["character_id"]].update(r["categories"] or reasons_from_review(r["review"]))
    return LearningData(styles, batches, reasons)


def recommend_one(data: LearningData, character_id: int, rng: random.Random, *,
                  project_learning: bool = True) -> dict | None:
    """BatchParameters (as a dict, for run config) for the next batch; None without a style."""
    row = data.styles.get(character_id)
    if row is None:
        return None
    style = style_params(row)
    space = data.space(style, row["learning_bounds"])
    pins = validate_pins(space, row["pins"])
    learning = project_learning and row["learning_enabled"]
    history = data.batches.get(character_id, [])
    stats = arm_stats((r["used"], r["approved"], r["rejected"]) for r in history)
    choice = choose(space, stats, rng, pins=pins, learning_enabled=learning)
    params, why = choice.params, choice.why()
    reasons = dict(data.reasons.get(character_id, {}))
    correction = choose_correction(reasons, params, space, effects=data.effects(), pins=pins,
                                   learning_enabled=learning, stats=stats)
    extra_negatives: list[str] = []
    if correction is not None:
        params = correction.params
        why = f"{why}; {correction.why()}"
        if correction.strengthen_negatives:
            appearance = Appearance.model_validate(row["appearance_data"])
            extra_negatives = strengthened(learned_negatives(reasons, appearance))
    return {**params.as_dict(), "extra_negatives": extra_negatives,
            "provenance": {"mode": choice.mode, "arm": choice.params.as_dict(),
                           "strategy": correction.strategy if correction else None,
                           "reasons": reasons, "why": why, "batches_learned_from": len(history)}}
