"""What a batch ran with, written beside its generation_history row: the learner reads it back."""

from __future__ import annotations

from studio.datasets.models import BatchParameters, StyleParams


def used_parameters(style: StyleParams, ipadapter_weight: float) -> dict:
    """The generation parameters in the shape studio.domain.learning.GenerationParams reads."""
    return {"checkpoint": style.checkpoint, "cfg": round(style.cfg, 2), "steps": style.steps,
            "sampler": style.sampler, "scheduler": style.scheduler, "width": style.width,
            "height": style.height, "ipadapter_weight": round(ipadapter_weight, 2)}


def provenance(style: StyleParams, parameters: BatchParameters | None) -> dict:
    chosen = parameters or BatchParameters()
    return {"used": used_parameters(style, chosen.ipadapter_weight_or_default),
            "extra_negatives": chosen.extra_negatives, **chosen.provenance}


async def record_parameters(conn, history_id: int, record: dict) -> None:
    await conn.execute("UPDATE generation_history SET parameters = $2, strategy = $3 WHERE id = $1",
                       history_id, record, record.get("strategy"))
