"""`episodes` (the assembled video) and `published_episodes` (its place in the Jellyfin library), per episode.

`episodes` depends on every partition of `scene_videos` (AllPartitionMapping, through deps=: Dagster
has no mapping from an episode to its scenes, which live in `episode_scenes`); the scene files and
their data versions are read from each scene's latest materialization. Nothing below an
AllPartitionMapping is automated eagerly: sensors/episode_refresh_sensor.py asks for the episodes
that use a re-materialized scene, and it is off until switched on.
"""

import base64
import io
from pathlib import Path

import dagster as dg
from PIL import Image

from anime_assets.episode_plans import episode_plans
from anime_assets.partitions import episode_partitions
from resources.database import StudioDatabase
from resources.jellyfin import JellyfinResource
from resources.studio_config import StudioConfig
from studio.episodes import build, repository
from studio.episodes.publish import NotAssembled, publish

SCENE_VIDEOS = dg.AssetKey("scene_videos")
DATA_VERSION_TAG = "dagster/data_version"


def scene_sources(instance: dg.DagsterInstance, media_root: Path, scenes: list[str]) -> dict[str, build.SceneSource]:
    sources = {}
    for scene in scenes:
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=SCENE_VIDEOS, asset_partitions=[scene]), limit=1).records
        if not records:
            continue
        materialization = records[0].asset_materialization
        meta = materialization.metadata
        path = meta.get("path")
        subtitles = meta.get("subtitles")
        if path is None:
            continue
        srt = media_root / subtitles.value if subtitles is not None and subtitles.value else None
        sources[scene] = build.SceneSource(media_root / path.value, (materialization.tags or {}).get(DATA_VERSION_TAG)
                                           or f"storage-{records[0].storage_id}", srt)
    return sources


def thumbnail_markdown(path: Path, width: int = 320) -> str:
    """The thumbnail inline (a small JPEG as a data URI), so the Dagster UI shows it with the run."""
    with Image.open(path) as image:
        image.thumbnail((width, width))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    return f"![thumbnail](data:image/jpeg;base64,{base64.b64encode(out.getvalue()).decode()})"


@dg.asset(partitions_def=episode_partitions, group_name="episodes", kinds={"ffmpeg", "postgres"},
          deps=[dg.AssetDep("scene_videos", partition_mapping=dg.AllPartitionMapping()), episode_plans])
async def episodes(context: dg.AssetExecutionContext, database: StudioDatabase,
                   studio: StudioConfig) -> dg.MaterializeResult:
    """The episode's scene videos joined in order: cuts copied, transitions crossfaded, loudness -16 LUFS."""
    media_root = studio.media_root
    async with (await database.pool()).acquire() as conn:
        try:
            episode = await repository.load_episode(conn, context.partition_key)
            sources = scene_sources(context.instance, media_root, [s["scene"] for s in episode.scenes])
            report = await build.assemble(conn, media_root, context.partition_key, sources, run_id=context.run.run_id)
        except (repository.EpisodeNotFound, build.SceneVideoMissing) as error:
            raise dg.Failure(str(error)) from None
    thumb = media_root / report["thumbnail_path"]
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(media_root / report["file_path"])),
            "thumbnail": dg.MetadataValue.md(thumbnail_markdown(thumb)),
            "thumbnail_path": dg.MetadataValue.path(str(thumb)),
            "duration_s": report["duration_s"],
            "integrated_lufs": report["integrated_lufs"],
            "true_peak_dbtp": report["true_peak_dbtp"],
            "normalization_type": report["normalization_type"],
            "loudness_source": report["loudness_source"],
            "stream_copy": report["copy_only"],
            "copied_joins": dg.MetadataValue.json(report["copied_joins"]),
            "normalised_scenes": dg.MetadataValue.json(report["normalised_scenes"]),
            "chapters": dg.MetadataValue.json(report["chapters"]),
            "scenes": dg.MetadataValue.json(report["scenes"]),
            "gpu_seconds": report["gpu_seconds"],
            "gpu": dg.MetadataValue.json(report["gpu"] or {}),
            "subtitles": report["subtitles_path"] or "",
            "sha256": report["sha256"],
        },
        data_version=dg.DataVersion(report["sha256"][:16]),
    )


@dg.asset(partitions_def=episode_partitions, group_name="episodes", kinds={"jellyfin"}, deps=[episodes])
async def published_episodes(context: dg.AssetExecutionContext, database: StudioDatabase, studio: StudioConfig,
                             jellyfin: JellyfinResource) -> dg.MaterializeResult:
    """The episode in the Jellyfin tree (video, NFOs, thumb, subtitles), announced to Jellyfin when configured."""
    client = jellyfin.get_client()
    async with (await database.pool()).acquire() as conn:
        try:
            report = await publish(conn, studio.media_root, context.partition_key, jellyfin.options(), client)
        except (repository.EpisodeNotFound, NotAssembled) as error:
            raise dg.Failure(str(error)) from None
    if report["announce_error"]:
        context.log.warning(f"Jellyfin was not told: {report['announce_error']}; the next publish tries again")
    return dg.MaterializeResult(metadata={
        "video": dg.MetadataValue.path(str(Path(report["library_root"]) / report["video"])),
        "files": dg.MetadataValue.json(report["files"]),
        "link_mode": report["link_mode"],
        "changed": report["changed"],
        "removed": dg.MetadataValue.json(report["removed"]),
        "announced": dg.MetadataValue.json(report["announced"] or []),
        "announce_error": report["announce_error"] or "",
        "jellyfin": client.url if client else "not configured",
    })
