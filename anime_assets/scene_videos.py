"""Scene videos, per scene: the scene's clips joined with its dialogue, music bed and subtitles.

It never renders a clip (that is shot_clips'), so a change of dialogue or music re-mixes only. Sound
is non-fatal: a scene whose speech or music failed still materializes with its picture, its metadata
says what is missing and why, and the next materialization tries the sound again.
"""

import dagster as dg

from anime_assets.partitions import scene_partitions
from anime_assets.shots import shot_clips
from resources.database import StudioDatabase
from resources.scene_sound import SceneSoundResource
from resources.studio_config import StudioConfig
from studio.media.clips import sha256_file
from studio.media.ffmpeg import FfmpegError
from studio.scene_videos.build import build_scene_video


@dg.asset(partitions_def=scene_partitions, group_name="scenes", deps=[shot_clips], kinds={"ffmpeg", "postgres"})
async def scene_videos(context: dg.AssetExecutionContext, database: StudioDatabase, studio: StudioConfig,
                       scene_sound: SceneSoundResource) -> dg.MaterializeResult:
    """One MP4 per scene with mixed sound and a soft subtitle stream, plus .srt and .vtt beside it."""
    synthesizer = scene_sound.get_client()
    async with (await database.pool()).acquire() as conn:
        try:
            report = await build_scene_video(conn, context.partition_key, studio.media_root, synthesizer,
                                             scene_sound.options())
        except (FfmpegError, OSError) as exc:  # a full disk, an unreadable clip: which scene, and why
            raise dg.Failure(f"scene {context.partition_key}: its video could not be written: {exc}") from exc
    for problem in report.audio_problems:
        context.log.warning(f"scene {report.scene}: {problem}; the next materialization tries the sound again")
    root = studio.media_root
    # The episodes read this version: a scene whose file is byte-identical did not change for them.
    return dg.MaterializeResult(data_version=dg.DataVersion(sha256_file(report.path)[:16]), metadata={
        "path": str(report.path.relative_to(root)),
        "subtitles": str(report.srt_path.relative_to(root)) if report.srt_path else "",
        "duration_s": report.duration_s,
        "audio_state": report.audio_state,
        "audio_problems": dg.MetadataValue.json(report.audio_problems),
        "audio_retry": bool(report.audio_problems),
        "sound": report.sound,
        "tts_engine": synthesizer.engine,
        "music": report.music or "",
        "integrated_lufs": report.loudness.get("integrated_lufs"),
        "true_peak_dbtp": report.loudness.get("true_peak_dbtp"),
        # the one gain that brought the mix to -16 LUFS (the episode then copies the sound as it is)
        "loudness_gain_db": report.loudness.get("gain_db"),
        "loudness_normalization": report.loudness.get("normalization") or "",
        "silences": dg.MetadataValue.json(report.silences),
        "av_difference_s": report.av_difference_s,
        "join": dg.MetadataValue.json(report.join),
        "lines": dg.MetadataValue.json(report.lines),
        "lines_synthesised": report.synthesised,
        "timing_problems": dg.MetadataValue.json(report.timing_problems),
        "held_s": dg.MetadataValue.json(report.held_s),
    })
