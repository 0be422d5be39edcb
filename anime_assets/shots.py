"""Shot keyframes and clips, per scene: the chain of a scene's shots rendered in order on the GPU."""

import dagster as dg
from pydantic import Field

from anime_assets.partitions import scene_partitions
from anime_assets.scenes import scenes
from resources.database import StudioDatabase
from resources.image_generation import ImageGeneratorResource
from resources.image_review import ImageReviewerResource
from resources.shot_rendering import ShotRendererResource
from resources.studio_config import StudioConfig
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import render_scene


class KeyframeConfig(dg.Config):
    # txt2img candidates per chain opener with a character; the reviewer keeps the best.
    candidates: int = Field(3, ge=2, le=4)


# A keyframe is drawn with each character's active LoRA: every character's checkpoints are upstream of
# every scene's keyframes (scene and character partitions have no finer mapping), so the lineage runs from
# characters to published episodes.
@dg.asset(partitions_def=scene_partitions, group_name="shots", pool="gpu", kinds={"comfyui", "ollama", "postgres"},
          deps=[scenes, dg.AssetDep("lora_checkpoints", partition_mapping=dg.AllPartitionMapping())])
async def shot_keyframes(context: dg.AssetExecutionContext, config: KeyframeConfig, database: StudioDatabase,
                         studio: StudioConfig, shot_renderer: ShotRendererResource,
                         image_generator: ImageGeneratorResource,
                         image_reviewer: ImageReviewerResource) -> dg.MaterializeResult:
    """The first frame of every shot that opens a chain: the scene's first shot and each cut."""
    made = await ensure_keyframes(
        await database.pool(), context.partition_key, studio.media_root,
        size=(shot_renderer.keyframe_width, shot_renderer.keyframe_height),
        allow_drawing=shot_renderer.allow_drawn_keyframes, log=context.log,
        generator=image_generator.get_client(), reviewer=image_reviewer.get_client(), candidates=config.candidates)
    return dg.MaterializeResult(metadata={
        "backend": studio.backend,
        "keyframes": len(made),
        "changed": sum(1 for m in made if m["changed"]),
        "sources": dg.MetadataValue.json(made),
    })


@dg.asset(partitions_def=scene_partitions, group_name="shots", deps=[shot_keyframes], pool="gpu",
          kinds={"comfyui", "ffmpeg", "postgres"})
async def shot_clips(context: dg.AssetExecutionContext, database: StudioDatabase, studio: StudioConfig,
                     shot_renderer: ShotRendererResource) -> dg.MaterializeResult:
    """The scene's shots as clips, each continuing from the one before; unchanged shots are kept."""
    renderer = shot_renderer.get_client()
    report = await render_scene(await database.pool(), context.partition_key, renderer, studio.media_root,
                                log=context.log, run_id=context.run.run_id)
    return dg.MaterializeResult(metadata={
        "backend": renderer.backend,
        "rendered": dg.MetadataValue.json(report.rendered),
        "kept": dg.MetadataValue.json(report.skipped),
        "interrupted_before": dg.MetadataValue.json(report.interrupted),
        "gpu_seconds": round(report.gpu_seconds, 3),
        "overhead_seconds": round(report.overhead_seconds, 3),
        "shots": dg.MetadataValue.json(report.shots),
    })
