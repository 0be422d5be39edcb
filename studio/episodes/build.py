"""Assembling one episode from its scene videos: the file, its subtitles and thumbnail, and the record.

The caller says where each scene's video is and which data version it is (the asset reads both from
the scene videos' latest materializations); this joins them in the running order of
`episode_scenes`, writes `episodes/<slug>/<slug>.mp4` (+ `.srt`, `.jpg`) under the media root, and
replaces the episode's row in `episode_renders`.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import asyncpg

from studio.domain.subtitles import merge, parse_srt, shifted, to_srt
from studio.episodes import repository
from studio.episodes.gpu_accounting import episode_gpu
from studio.media.assemble import AssembledEpisode, SceneVideo, assemble_episode, thumbnail
from studio.media_layout import episode_dir
from studio.uploads import write_atomically


class SceneVideoMissing(LookupError):
    """A scene of the running order has no video yet; the message names it."""


@dataclass(frozen=True)
class SceneSource:
    path: Path
    data_version: str | None = None
    subtitles: Path | None = None  # SRT of the scene, times from the scene's start


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _merged_subtitles(sources: list[SceneSource], done: AssembledEpisode) -> str:
    tracks = []
    for k, source in enumerate(sources):
        if source.subtitles is None or not source.subtitles.is_file():
            continue
        cues = parse_srt(source.subtitles.read_text(encoding="utf-8"), source=str(source.subtitles))
        end = done.chapters[k].end_s if k + 1 < len(sources) else done.duration_s
        tracks.append(shifted(cues, done.scene_starts_s[k], until_s=end))
    return to_srt(merge(tracks))


async def assemble(conn: asyncpg.Connection, media_root: Path, slug: str, sources: Mapping[str, SceneSource],
                   *, run_id: str | None = None) -> dict:
    episode = await repository.load_episode(conn, slug)
    if not episode.scenes:
        raise SceneVideoMissing(f"episode {slug!r} has no scenes in its running order")
    ordered = []
    for k, scene in enumerate(episode.scenes):
        source = sources.get(scene["scene"])
        if source is None or not Path(source.path).is_file():
            raise SceneVideoMissing(f"scenes[{k}] ({scene['scene']}): no scene video yet")
        ordered.append(source)
    gpu = await episode_gpu(conn, slug)
    provenance = {"episode": slug, "scenes": [{"scene": s["scene"], "data_version": src.data_version}
                                              for s, src in zip(episode.scenes, ordered)],
                  "gpu_seconds": gpu["gpu_seconds"] if gpu else 0.0}
    tags = {"title": episode.title, "show": episode.show, "season_number": str(episode.season),
            "episode_sort": str(episode.number), "date": str(episode.year), "synopsis": episode.synopsis,
            "studio_scenes": json.dumps([s["scene"] for s in episode.scenes]),
            "studio_data_versions": json.dumps({p["scene"]: p["data_version"] for p in provenance["scenes"]}),
            "studio_gpu_seconds": f"{provenance['gpu_seconds']:.3f}",
            "comment": json.dumps(provenance, separators=(",", ":"))}
    scenes = [SceneVideo(s["scene"], s["title"], Path(src.path), s["transition"], s["transition_s"])
              for s, src in zip(episode.scenes, ordered)]
    folder = episode_dir(media_root, slug)
    video = folder / f"{slug}.mp4"

    def work() -> tuple[AssembledEpisode, float | None, float | None, str]:
        done = assemble_episode(scenes, video, tags=tags)
        first = done.chapters[0]
        thumbnail(video, folder / f"{slug}.jpg", at_s=(first.start_s + first.end_s) / 2)
        out = done.output_loudness  # silence has no loudness: stored as unknown, not -inf
        return (done, out.integrated if math.isfinite(out.integrated) else None,
                out.true_peak if math.isfinite(out.true_peak) else None, _sha256(video))

    done, lufs, peak, sha = await asyncio.to_thread(work)
    srt_text = _merged_subtitles(ordered, done)
    subtitles = folder / f"{slug}.srt"
    if srt_text:
        write_atomically(subtitles, srt_text.encode("utf-8"))
    else:
        subtitles.unlink(missing_ok=True)
    scene_rows = [{"scene": s["scene"], "title": s["title"], "data_version": src.data_version,
                   "start_s": start, "transition": s["transition"], "transition_s": s["transition_s"]}
                  for s, src, start in zip(episode.scenes, ordered, done.scene_starts_s)]
    record = {"file_path": str(video.relative_to(media_root)),
              "thumbnail_path": str((folder / f"{slug}.jpg").relative_to(media_root)),
              "subtitles_path": str(subtitles.relative_to(media_root)) if srt_text else None,
              "sha256": sha, "duration_s": done.duration_s, "integrated_lufs": lufs, "true_peak_dbtp": peak,
              "normalization_type": done.normalization_type, "copy_only": done.copy_only, "scenes": scene_rows,
              "gpu_seconds": provenance["gpu_seconds"], "dagster_run_id": run_id}
    await repository.save_render(conn, episode.id, record)
    return {**record, "episode": slug, "copied_joins": done.copied_joins, "normalised_scenes": done.normalised_scenes,
            "loudness_source": done.loudness_source,
            "chapters": [{"title": c.title, "start_s": c.start_s, "end_s": c.end_s} for c in done.chapters],
            "gpu": gpu}
