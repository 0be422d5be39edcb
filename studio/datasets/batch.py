"""One dataset batch for one character: generate, drop duplicates, register, review, decide.

Jobs are submitted together (bounded by `queue_depth`) so the GPU always has the next job queued
while the current one runs; each result is registered and reviewed as soon as it arrives.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import AsyncContextManager, Protocol

import asyncpg
from PIL import Image

from studio.datasets import repository as repo
from studio.db.advisory import HeldLock
from studio.db.pool import DATABASE_AWAY
from studio.db.retry import in_transaction, one_statement
from studio.review.automatic_decision import record_automatic_review
from studio.review.decisions import feedback_counts
from studio.autonomy.provenance import provenance, record_parameters
from studio.datasets.models import BatchParameters, CharacterContext, GeneratedImage, GenerationRequest
from studio.domain.dedup import NEAR_DUPLICATE_DISTANCE, HashIndex, phash_signed
from studio.domain.feedback_rules import correction_hints, learned_negatives
from studio.domain.prompts import build_negative_prompt, build_positive_prompt
from studio.domain.progress import Progress, progress_line
from studio.domain.review import ReviewResult, decide
from studio.media_layout import dataset_images_folder
from studio.run_progress import record_progress, start_progress
from studio.training.active_lora import with_active_lora
from studio.uploads import remove_abandoned_temporaries, write_atomically


class ImageGenerator(Protocol):
    backend: str

    async def generate(self, request: GenerationRequest, log: logging.Logger) -> GeneratedImage: ...

    def session(self) -> AsyncContextManager: ...


class ImageReviewer(Protocol):
    backend: str

    async def review(self, image: bytes, character: CharacterContext, log: logging.Logger) -> ReviewResult: ...

    def session(self) -> AsyncContextManager: ...


@dataclass
class BatchReport:
    character: str
    requested: int
    counts: Counter = field(default_factory=Counter)
    gpu_seconds: float = 0.0
    prompt: str = ""
    negative_prompt: str = ""
    seeds: list[int] = field(default_factory=list)
    image_ids: list[int] = field(default_factory=list)
    prompt_ids: list[str] = field(default_factory=list)
    workflow_hashes: set[str] = field(default_factory=set)
    # The parameters the batch ran with and why (learning arm, correction strategy).
    parameters: dict = field(default_factory=dict)
    # (image id, submit time, decision time) for overhead measurements.
    timings: list[tuple[int, float, float]] = field(default_factory=list)
    # Why the reviewer could not decide (Ollama down, no usable answer), with how many images it left.
    review_errors: Counter = field(default_factory=Counter)


PROGRESS_STEP = "dataset_images"


def prompts_for(character: CharacterContext, rejections: dict[str, int]) -> tuple[str, str]:
    """Positive and negative prompt, with what past rejections taught us folded in."""
    appearance = character.appearance
    positive = build_positive_prompt(
        character.style.positive_template, character.design_prompt, correction_hints(rejections, appearance)
    )
    negative = build_negative_prompt(
        character.style.negative_template, appearance, learned_negatives(rejections, appearance)
    )
    return positive, negative


def _seed(character: str, index: int) -> int:
    digest = hashlib.sha256(f"{character}:{index}".encode()).digest()
    return int.from_bytes(digest[:6], "big")  # within every sampler's seed range


async def run_batch(pool: asyncpg.Pool, character: CharacterContext, *args, log: logging.Logger | None = None,
                    **kwargs) -> BatchReport:
    """One batch (arguments as `_run_batch`) under the character's batch lock; a batch of the character
    that a dead run left `started` is marked failed first, so its history never shows it running."""
    log = log or logging.getLogger(__name__)
    async with batch_lock(pool, character, log) as lock:
        interrupted = await repo.fail_interrupted(lock.connection, character.id)
        if interrupted:
            log.warning("%s: the batches of runs %s stopped mid-way; marked failed", character.slug,
                        ", ".join(interrupted))
        return await _run_batch(pool, character, *args, lock=lock, log=log, **kwargs)


def batch_lock(pool: asyncpg.Pool, character: CharacterContext, log: logging.Logger) -> HeldLock:
    """One batch of a character at a time: two would draw the same seeds."""
    return HeldLock(pool, lambda conn: repo.lock_batches(conn, character),
                    lambda conn: repo.unlock_batches(conn, character), f"{character.slug}: the batch lock", log)


async def _run_batch(
    pool: asyncpg.Pool,
    character: CharacterContext,
    generator: ImageGenerator,
    reviewer: ImageReviewer,
    media_root: Path,
    *,
    count: int,
    lock: HeldLock,
    run_id: str | None = None,
    queue_depth: int = 2,
    log: logging.Logger | None = None,
    parameters: BatchParameters | None = None,
) -> BatchReport:
    log = log or logging.getLogger(__name__)
    report = BatchReport(character.slug, count)
    style = parameters.apply(character.style) if parameters else character.style
    ipadapter_weight = (parameters or BatchParameters()).ipadapter_weight_or_default
    report.parameters = provenance(style, parameters)
    for name in remove_abandoned_temporaries(media_root / dataset_images_folder(character.slug)):
        log.info("%s: removed %s, left half-written by a run that was killed", character.slug, name)
    async with pool.acquire() as conn:
        style = await with_active_lora(conn, character.id, style)
        rejections = await feedback_counts(conn, character.id)
        hashes = HashIndex(await repo.known_hashes(conn, character.id))
        seed_offset = await repo.next_seed_offset(conn, character.id)
        history_id = await repo.start_history(conn, character.id, count, generator.backend, run_id)
        await record_parameters(conn, history_id, report.parameters)
        if run_id:
            await start_progress(conn, run_id, PROGRESS_STEP, count)
    report.prompt, report.negative_prompt = prompts_for(character, rejections)
    if parameters and parameters.extra_negatives:
        report.negative_prompt = ", ".join(p for p in (report.negative_prompt, *parameters.extra_negatives) if p)
    references = {
        f"ref_{Path(p).stem}{Path(p).suffix}": (media_root / p).read_bytes() for p in character.reference_images
    }
    slots = asyncio.Semaphore(queue_depth)
    started, done = time.monotonic(), 0

    async def advance(outcome: str) -> None:
        """One image finished (decided, duplicate or failed): the run log and the runs API hear of it."""
        nonlocal done
        done += 1
        progress = Progress(done, count, time.monotonic() - started)
        eta = f", about {progress.eta_s:.0f} s left" if progress.eta_s else ""
        log.info(progress_line(PROGRESS_STEP, progress, outcome) + eta)
        if run_id:
            await one_statement(pool, lambda conn: record_progress(conn, run_id, PROGRESS_STEP, done,
                                                                   dict(report.counts), outcome), log=log)

    def request_for(index: int) -> GenerationRequest:
        seed = _seed(character.slug, seed_offset + index)
        return GenerationRequest(
            character=character.slug, appearance=character.appearance, positive=report.prompt,
            negative=report.negative_prompt, seed=seed, style=style, references=references,
            ipadapter_weight=ipadapter_weight,
            filename_prefix=f"{character.slug}/{run_id or 'adhoc'}_{index}",
        )

    async def one(index: int) -> None:
        request = request_for(index)
        seed = request.seed
        async with slots:
            await lock.hold()
            submitted = time.perf_counter()  # the job is handed to the GPU queue now
            image = await generator.generate(request, log)
        report.seeds.append(seed)
        report.counts["generated"] += 1
        report.gpu_seconds += image.gpu_seconds or 0.0
        if image.comfy_prompt_id:
            report.prompt_ids.append(image.comfy_prompt_id)
        if image.workflow_hash:
            report.workflow_hashes.add(image.workflow_hash)
        await advance(await _register_and_review(pool, character, image, reviewer, media_root, report, hashes,
                                                 run_id, submitted, log))

    # One connection (and one ComfyUI socket) per service for the whole batch, not one per job.
    async with generator.session(), reviewer.session():
        tasks: list[asyncio.Task] = []
        failures: list[Exception] = []
        try:
            preflight = getattr(generator, "preflight", None)
            if preflight is not None and count:
                # A live server lacking a model or node would fail every job alike: stop before the first.
                await preflight(request_for(0))
            tasks = [asyncio.create_task(one(i)) for i in range(count)]
            for finished in asyncio.as_completed(tasks):
                try:
                    await finished
                except Exception as exc:
                    # A permanent refusal (a bad workflow, a missing model, a database gone) would repeat
                    # for every job.
                    if getattr(exc, "permanent", False):
                        raise
                    log.error("image generation failed: %s", exc)
                    failures.append(exc)
                    report.counts["failed"] = len(failures)
                    await advance("failed")
            report.counts["failed"] = len(failures)
            if failures and len(failures) == count:
                raise failures[0]
        except BaseException as exc:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            try:
                async with pool.acquire() as conn:
                    await repo.finish_history(conn, history_id, status="failed", counts=report.counts,
                                              gpu_seconds=report.gpu_seconds, error=str(exc)[:2000])
            except DATABASE_AWAY as away:
                # Not worth hiding why the batch failed: the next batch marks this one failed.
                log.warning("could not record the batch as failed (%s)", away)
            raise
    await in_transaction(pool, lambda conn: repo.finish_history(
        conn, history_id, status="succeeded", counts=report.counts, gpu_seconds=report.gpu_seconds), log=log)
    return report


async def _register_and_review(pool, character, image: GeneratedImage, reviewer, media_root, report,
                               hashes: HashIndex, run_id, submitted: float, log) -> str:
    picture = Image.open(io.BytesIO(image.data))  # reads the header only: the size
    # Decoding and shrinking the picture take ~7 ms; Pillow releases the GIL while it does, so in a
    # thread the event loop meanwhile keeps the GPU queue fed and other images moving.
    phash = await asyncio.to_thread(phash_signed, picture)
    # Check and add with no await in between, so two images of one batch cannot both pass.
    if hashes.has_near_duplicate(phash, NEAR_DUPLICATE_DISTANCE):
        report.counts["duplicates"] += 1
        log.info("seed %s: near-duplicate of a registered image, skipped", image.seed)
        return "duplicate"
    hashes.add(phash)
    sha = hashlib.sha256(image.data).hexdigest()
    relative = f"{dataset_images_folder(character.slug)}/{sha[:20]}.png"
    # Written from the loop (a 1.5 MB picture takes ~0.5 ms into the page cache): in a worker thread
    # each of the write's system calls handed the GIL back and forth with the busy loop, which tripled
    # the write's CPU (0.4 -> 1.2-1.5 ms measured).
    write_atomically(media_root / relative, image.data)
    try:
        review = await reviewer.review(image.data, character, log)
    except Exception as exc:  # a reviewer failure sends the image to a person, never approves it
        review = ReviewResult(quality_score=0.0, solo=False, backend=reviewer.backend,
                              error=f"reviewer failed: {exc}")
    decision = decide(review, is_human=character.appearance.is_human)

    async def register_reviewed(conn) -> int | None:
        # The row, its review and its event in one transaction: a database lost in between keeps none.
        image_id = await repo.register_image(
            conn, character_id=character.id, file_path=relative, sha256=sha, phash=phash,
            width=picture.width, height=picture.height, prompt=report.prompt,
            negative=report.negative_prompt, image=image, run_id=run_id,
        )
        if image_id is None:  # these bytes are stored: by an earlier try whose COMMIT answer was lost?
            return await repo.registered_by(conn, sha, image, run_id)
        await record_automatic_review(conn, image_id, review, decision)
        return image_id

    image_id = await in_transaction(pool, register_reviewed, log=log)
    if image_id is None:
        report.counts["duplicates"] += 1
        return "duplicate"
    report.image_ids.append(image_id)
    if review.error:
        report.review_errors[review.error] += 1
        log.warning("image %s left for a person: %s", image_id, review.error)
    report.counts[decision] += 1
    report.timings.append((image_id, submitted, time.perf_counter()))
    return decision
