"""LoRA training per character: the dataset snapshot kohya reads, and the checkpoint trained from it
through Dagster Pipes (our launcher runs kohya or the preview trainer as a subprocess)."""

from pathlib import Path

import dagster as dg

from anime_assets.datasets import approved_images
from anime_assets.partitions import character_partitions
from resources.database import StudioDatabase
from resources.image_generation import ImageGeneratorResource
from resources.image_review import ImageReviewerResource, VisionImageReviewerResource
from resources.lora_trainer import LoraTrainerResource
from resources.studio_config import StudioConfig
from studio.datasets import repository as dataset_repo
from studio.domain.readiness import dataset_readiness
from studio.training import repository
from studio.training.checkpoint import plan_training, review_and_record
from studio.training.dataset import DatasetProblem, snapshot_inputs, write_snapshot
from studio.training.vision_captions import caption_with_vision


class TrainingDatasetConfig(dg.Config):
    # A chosen subset of the approved images; empty means all of them.
    image_ids: list[int] = []
    # Train before the character has reached its target (a person's choice; the sensor never does).
    allow_below_target: bool = False


async def _character(conn, slug: str):
    character = await dataset_repo.load_character(conn, slug)
    if character is None:
        raise dg.Failure(f"character {slug!r} is not in the studio database")
    return character


@dg.asset(partitions_def=character_partitions, group_name="training", deps=[approved_images],
          kinds={"kohya", "postgres"})
async def training_dataset(context: dg.AssetExecutionContext, config: TrainingDatasetConfig,
                           database: StudioDatabase, studio: StudioConfig,
                           image_reviewer: ImageReviewerResource) -> dg.MaterializeResult:
    """The approved images of one character with one caption .txt each and kohya's dataset TOML,
    under media/training/<slug>/<snapshot>/; its data version is the snapshot's content hash. With the
    live backend the vision model captions the images it has not captioned before."""
    pool = await database.pool()
    async with pool.acquire() as conn:
        character = await _character(conn, context.partition_key)
        images, architecture = await snapshot_inputs(conn, character, config.image_ids or None)
        readiness = dataset_readiness(len(images), character.target_images)
        if not readiness.ready and not config.allow_below_target:
            raise dg.Failure(f"{character.slug}: {readiness.approved} approved of {readiness.target}; "
                             f"{readiness.missing} more before training (or set allow_below_target)")
        captions = {}
        if isinstance(image_reviewer, VisionImageReviewerResource):  # the live backend's vision model
            images, report = await caption_with_vision(conn, image_reviewer.ollama.get_client(), character,
                                                       images, studio.media_root, context.log)
            captions = {"vision_captions_new": report.captioned, "caption_fallbacks": report.fallbacks}
    try:
        snapshot = write_snapshot(studio.media_root, character, images, architecture)
    except DatasetProblem as exc:
        raise dg.Failure(str(exc)) from None
    return dg.MaterializeResult(
        data_version=dg.DataVersion(snapshot.hash),
        metadata={
            "dataset_hash": snapshot.hash, "dataset_dir": dg.MetadataValue.path(str(snapshot.directory)),
            "dataset_toml": dg.MetadataValue.path(str(snapshot.toml_path)),
            "image_ids": dg.MetadataValue.json(snapshot.image_ids), "images": len(snapshot.image_ids),
            "num_repeats": snapshot.num_repeats, "trigger_word": snapshot.trigger,
            "class_tokens": snapshot.class_tokens, "architecture": architecture,
            "target": readiness.target, "ready": readiness.ready,
            "example_caption": images[0].caption,
            "vision_captions": sum(i.vision_caption for i in images), **captions,
        },
    )


def _latest_dataset(context: dg.AssetExecutionContext) -> dict:
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=training_dataset.key, asset_partitions=[context.partition_key]), limit=1,
    ).records
    if not records:
        raise dg.Failure(f"no training_dataset for {context.partition_key!r}: materialize it first")
    return {k: v.value for k, v in records[0].asset_materialization.metadata.items()}


@dg.asset(partitions_def=character_partitions, group_name="training", deps=[training_dataset], pool="gpu",
          kinds={"kohya", "comfyui", "postgres"})
def lora_checkpoints(context: dg.AssetExecutionContext, database: StudioDatabase, studio: StudioConfig,
                     lora_trainer: LoraTrainerResource, pipes_subprocess_client: dg.PipesSubprocessClient,
                     image_generator: ImageGeneratorResource,
                     image_reviewer: ImageReviewerResource) -> dg.MaterializeResult:
    """A LoRA of one character trained on its latest dataset snapshot through Dagster Pipes, its
    samples rendered and reviewed, and a lora_checkpoints row; the sample gate decides whether it
    becomes the character's active LoRA."""
    dataset = _latest_dataset(context)

    async def prepare(conn):
        character = await _character(conn, context.partition_key)
        return character, await repository.next_version(conn, character.id)

    character, version = database.run_sync(prepare)
    base_model = lora_trainer.base_model_path(character.style.checkpoint)
    if lora_trainer.backend == "live" and not base_model.is_file():
        raise dg.Failure(f"base checkpoint {base_model} does not exist (STUDIO_KOHYA_CHECKPOINT_DIR)")
    job = plan_training(character, version=version, architecture=dataset["architecture"],
                        dataset_toml=Path(dataset["dataset_toml"]),
                        base_model=base_model, media_root=studio.media_root, run_id=context.run.run_id,
                        rank=lora_trainer.rank, alpha=lora_trainer.alpha, epochs=lora_trainer.epochs,
                        learning_rate=lora_trainer.learning_rate)
    try:
        invocation = pipes_subprocess_client.run(
            context=context, command=job.launcher_command(lora_trainer.python),
            extras=job.extras(lora_trainer.command(job.plan)),
        )
        reported = invocation.get_materialize_result()
    except Exception:
        # The launcher writes a report when the trainer failed; without one the launcher itself failed.
        failure = job.failure()
        job.clean_up()
        if not failure:
            raise
        raise dg.Failure(
            description=failure["error"],
            metadata={"exit_code": failure.get("exit_code", -1),
                      "last_lines": dg.MetadataValue.md("```\n" + "\n".join(failure.get("last_lines", [])) + "\n```"),
                      "steps": failure.get("steps", 0)},
        ) from None
    except BaseException:
        job.clean_up()
        raise
    job.clean_up()
    trained = {k: v.value for k, v in reported.metadata.items()}
    gpu_seconds = float(trained["trainer_seconds"]) if lora_trainer.backend == "live" else 0.0
    generator, reviewer = image_generator.get_client(), image_reviewer.get_client()

    async def record(conn):
        return await review_and_record(
            conn, job, trained, dataset_hash=dataset["dataset_hash"], image_ids=list(dataset["image_ids"]),
            generator=generator, reviewer=reviewer, sample_count=lora_trainer.sample_count,
            backend=lora_trainer.backend, gpu_seconds=gpu_seconds, run_id=context.run.run_id, log=context.log)

    outcome = database.run_sync(record)
    return dg.MaterializeResult(metadata={
        **reported.metadata,
        "backend": lora_trainer.backend, "version": version, "lora_name": job.lora_name,
        "dataset_hash": dataset["dataset_hash"], "image_ids": dg.MetadataValue.json(list(dataset["image_ids"])),
        "base_checkpoint": character.style.checkpoint, "gpu_seconds": gpu_seconds,
        "sample_scores": dg.MetadataValue.json([s["score"] for s in outcome["samples"]]),
        "quality_score": outcome["quality_score"] if outcome["quality_score"] is not None else float("nan"),
        "active": outcome["active"], "gate_reason": outcome["gate_reason"],
    })
