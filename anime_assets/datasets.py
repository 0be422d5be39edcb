"""Character datasets: generated and reviewed images, and the approved set per character."""

import io
from typing import Any

import dagster as dg
import pydantic

from anime_assets.approval_drift import APPROVAL_DRIFT, drift_check_result
from anime_assets.characters import characters
from anime_assets.partitions import character_partitions
from resources.database import StudioDatabase
from resources.image_generation import ImageGeneratorResource
from resources.image_review import ImageReviewerResource
from resources.studio_config import StudioConfig
from studio.autonomy.drift_status import character_drift
from studio.datasets import repository
from studio.datasets.batch import run_batch
from studio.datasets.models import BatchParameters
from studio.datasets.contact_sheet import as_markdown_image, contact_sheet
from studio.domain.readiness import dataset_readiness
from studio.uploads import write_atomically


def _sheet_metadata(media_root, paths: list, sheet_path, alt: str) -> dict:
    """A contact sheet of these images, written under media and shown inline in the Dagster UI."""
    if not paths:
        return {}
    sheet = contact_sheet([media_root / p for p in paths[:36]])
    png = io.BytesIO()
    sheet.save(png, "PNG")
    write_atomically(sheet_path, png.getvalue())
    return {"contact_sheet_path": dg.MetadataValue.path(str(sheet_path)),
            "contact_sheet": dg.MetadataValue.md(as_markdown_image(sheet, alt=alt))}


class DatasetBatchConfig(dg.Config):
    count: int = 3
    # Jobs kept queued at the GPU at once: 2 keeps it busy between jobs without hoarding the queue.
    queue_depth: int = 2
    # Departures from the style for this batch (studio.datasets.models.BatchParameters): what the
    # replenishment sensor's learner and corrections chose. Empty: the style as it is.
    parameters: dict[str, Any] = {}


def _parameters(config: DatasetBatchConfig) -> BatchParameters | None:
    if not config.parameters:
        return None
    try:
        return BatchParameters.model_validate(config.parameters)
    except pydantic.ValidationError as exc:
        raise dg.Failure(f"config parameters: {exc}") from None


async def _character(database: StudioDatabase, slug: str):
    character = await repository.load_character(await database.pool(), slug)
    if character is None:
        raise dg.Failure(f"character {slug!r} is not in the studio database")
    return character


@dg.asset(partitions_def=character_partitions, group_name="datasets", deps=[characters], pool="gpu",
          kinds={"comfyui", "ollama", "postgres"})
async def dataset_images(context: dg.AssetExecutionContext, config: DatasetBatchConfig,
                         database: StudioDatabase, studio: StudioConfig,
                         image_generator: ImageGeneratorResource,
                         image_reviewer: ImageReviewerResource) -> dg.MaterializeResult:
    """A batch of generated images for one character, each registered with its provenance,
    de-duplicated by perceptual hash and reviewed (auto-approved, auto-rejected or left to a person)."""
    character = await _character(database, context.partition_key)
    generator, reviewer = image_generator.get_client(), image_reviewer.get_client()
    pool = await database.pool()
    approved = await pool.fetchval("SELECT count(*) FROM images WHERE character_id = $1 AND status = 'approved'",
                                   character.id)
    # A batch never generates past the target: at most what is still missing, nothing once complete.
    count = min(config.count, dataset_readiness(approved, character.target_images).missing)
    if count < config.count:
        context.log.info(f"{character.slug}: {approved} of {character.target_images} approved; generating "
                         f"{count} instead of {config.count}" + (" (dataset complete)" if count == 0 else ""))
    report = await run_batch(
        pool, character, generator, reviewer, studio.media_root,
        count=count, run_id=context.run.run_id, queue_depth=config.queue_depth, log=context.log,
        parameters=_parameters(config),
    )
    counts = report.counts
    paths = [r["file_path"] for r in await pool.fetch("SELECT file_path FROM images WHERE id = ANY($1::bigint[]) "
                                                      "ORDER BY id", report.image_ids)]
    sheet = _sheet_metadata(studio.media_root, paths,
                            studio.media_root / f"datasets/{character.slug}/batches/{context.run.run_id}.png",
                            alt=f"{character.name}, this batch")
    return dg.MaterializeResult(metadata={
        **sheet,
        "dataset_complete": count == 0,
        "backend": generator.backend,
        "reviewer": reviewer.backend,
        "requested": report.requested,
        "generated": counts["generated"],
        "duplicates_skipped": counts["duplicates"],
        "failed": counts["failed"],
        "approved": counts["approved"],
        "rejected": counts["rejected"],
        "pending_review": counts["pending"],
        "review_errors": dg.MetadataValue.json(dict(report.review_errors)),
        "gpu_seconds": round(report.gpu_seconds, 3),
        "prompt": report.prompt,
        "negative_prompt": report.negative_prompt,
        "seeds": dg.MetadataValue.json(sorted(report.seeds)),
        "checkpoint": report.parameters["used"]["checkpoint"],
        "parameters": dg.MetadataValue.json(report.parameters),
        "strategy": report.parameters.get("strategy") or "",
        "lora": character.style.lora_name or "",
        "workflow_hashes": dg.MetadataValue.json(sorted(report.workflow_hashes)),
        "comfy_prompt_ids": dg.MetadataValue.json(report.prompt_ids),
        "image_ids": dg.MetadataValue.json(report.image_ids),
    })


@dg.asset(partitions_def=character_partitions, group_name="datasets", deps=[dataset_images],
          kinds={"postgres"}, check_specs=[APPROVAL_DRIFT])
async def approved_images(context: dg.AssetExecutionContext, database: StudioDatabase,
                          studio: StudioConfig) -> dg.MaterializeResult:
    """The approved training set of one character, against its target count; its drift check."""
    character = await _character(database, context.partition_key)
    pool = await database.pool()
    async with pool.acquire() as conn:
        drift = await character_drift(conn, character.id)
    rows = await pool.fetch(
        "SELECT id, file_path FROM images WHERE character_id = $1 AND status = 'approved' ORDER BY id",
        character.id,
    )
    readiness = dataset_readiness(approved=len(rows), target=character.target_images)
    metadata = {"approved": readiness.approved, "target": readiness.target,
                "missing": readiness.missing, "ready": readiness.ready}
    metadata.update(_sheet_metadata(studio.media_root, [r["file_path"] for r in rows],
                                    studio.media_root / f"datasets/{character.slug}/contact_sheet.png",
                                    alt=character.name))
    return dg.MaterializeResult(metadata=metadata, check_results=[drift_check_result(drift)])
