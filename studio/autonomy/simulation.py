"""A simulated world for the learner: the preview generator stamps each image with the parameters it was
made with, and a preview reviewer approves with odds that depend on them, around an optimum the learner
is never told. Used by tests and bench/bench_autonomy.py (`learning_gain`), never by the studio itself.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import logging
import random
from dataclasses import dataclass

from PIL import Image, PngImagePlugin

from studio.autonomy.learning_store import load_learning_data, recommend_one
from studio.datasets.batch import run_batch
from studio.datasets.generators import PreviewImageGenerator
from studio.datasets.models import BatchParameters, CharacterContext, GeneratedImage, GenerationRequest
from studio.domain.review import ChecklistItem, ReviewResult

PNG_KEY = "studio_parameters"
SAMPLER_FIT = {"dpmpp_2m": 1.0, "dpmpp_2m_sde": 0.7, "euler": 0.45, "euler_ancestral": 0.35}
SCHEDULER_FIT = {"karras": 1.0, "normal": 0.6}
OPTIMUM = {"cfg": 8.5, "steps": 40, "ipadapter_weight": 0.8}
# Which checklist item fails when a dimension is the worst one: the reason the corrections read.
FAILED_ITEM = {"steps": "sharp", "cfg": "style consistent", "sampler": "sharp", "scheduler": "style consistent",
               "ipadapter_weight": "hair colour matches"}


def fits(params: dict) -> dict[str, float]:
    return {
        "sampler": SAMPLER_FIT.get(params["sampler"], 0.5),
        "scheduler": SCHEDULER_FIT.get(params["scheduler"], 0.6),
        "cfg": max(0.2, 1 - 0.15 * abs(params["cfg"] - OPTIMUM["cfg"])),
        "steps": max(0.2, 1 - 0.025 * abs(params["steps"] - OPTIMUM["steps"])),
        "ipadapter_weight": max(0.2, 1 - 1.0 * abs(params["ipadapter_weight"] - OPTIMUM["ipadapter_weight"])),
    }


def approval_odds(params: dict) -> float:
    product = 1.0
    for value in fits(params).values():
        product *= value
    return 0.03 + 0.95 * product


class StampingGenerator(PreviewImageGenerator):
    """The preview drawer, with the request's parameters in a PNG text chunk (as A1111 writes them)."""

    async def generate(self, request: GenerationRequest, log: logging.Logger) -> GeneratedImage:
        image = await super().generate(request, log)
        style = request.style
        stamp = {"cfg": style.cfg, "steps": style.steps, "sampler": style.sampler, "scheduler": style.scheduler,
                 "ipadapter_weight": request.ipadapter_weight, "width": style.width, "height": style.height}
        info = PngImagePlugin.PngInfo()
        info.add_text(PNG_KEY, json.dumps(stamp))
        picture = Image.open(io.BytesIO(image.data))
        out = io.BytesIO()
        picture.save(out, "PNG", pnginfo=info)
        return image.model_copy(update={"data": out.getvalue()})


class OddsReviewer:
    """Approves (score 0.9) with the hidden odds, else rejects (0.2) naming the worst-fitting dimension."""

    backend = "preview"

    def __init__(self, seed: int = 0):
        self.seed = seed

    def session(self):
        return contextlib.nullcontext()

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult:
        params = json.loads(Image.open(io.BytesIO(image)).text[PNG_KEY])
        rng = random.Random(f"{self.seed}:{hashlib.sha256(image).hexdigest()}")
        if rng.random() < approval_odds(params):
            return ReviewResult(quality_score=0.9, solo=True, backend="preview", model="odds", reason="approved")
        worst = min(fits(params).items(), key=lambda kv: kv[1])[0]
        return ReviewResult(quality_score=0.2, solo=True, backend="preview", model="odds",
                            checklist=[ChecklistItem(item=FAILED_ITEM[worst], passed=False)],
                            reason=f"worst: {worst}")


@dataclass
class SimulatedBatch:
    approved: int
    rejected: int
    parameters: dict

    @property
    def rate(self) -> float:
        decided = self.approved + self.rejected
        return self.approved / decided if decided else 0.0


async def simulate(pool, character: CharacterContext, media_root, *, batches: int, batch_size: int = 3,
                   seed: int = 0) -> list[SimulatedBatch]:
    """Learn over `batches` batches; each batch's parameters come from the learner and corrections."""
    generator, reviewer = StampingGenerator(max_side=128), OddsReviewer(seed)
    results = []
    for index in range(batches):
        async with pool.acquire() as conn:
            data = await load_learning_data(conn, [character.id])
        chosen = recommend_one(data, character.id, random.Random(f"{seed}:{index}"))
        report = await run_batch(pool, character, generator, reviewer, media_root, count=batch_size,
                                 run_id=f"sim-{seed}-{index}", parameters=BatchParameters(**chosen))
        results.append(SimulatedBatch(report.counts["approved"], report.counts["rejected"], chosen))
    return results


def learning_gain(results: list[SimulatedBatch], window: int = 5) -> float:
    first = sum(r.approved for r in results[:window]) / max(1, sum(r.approved + r.rejected for r in results[:window]))
    last = sum(r.approved for r in results[-window:]) / max(1, sum(r.approved + r.rejected for r in results[-window:]))
    return last / first if first else float("inf") if last else 1.0
