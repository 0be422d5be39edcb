"""The closing summary of `studio demo`: what the pipeline made, read back from the studio database.

Printed for a person and written as JSON beside the media (`<home>/demo-summary.json`) for scripts.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from studio.demo_runner import DemoRunner
from studio.review.demo_step import DEMO_REVIEWER
from studio.review.queries import NON_HUMAN_SQL

IMAGES_SQL = f"""
SELECT c.slug AS character, {NON_HUMAN_SQL} AS non_human, c.target_images AS target,
       count(i.id) FILTER (WHERE i.source = 'generated') AS generated,
       count(i.id) FILTER (WHERE i.status = 'approved') AS approved,
       count(i.id) FILTER (WHERE i.status = 'rejected') AS rejected,
       count(i.id) FILTER (WHERE i.status = 'pending') AS pending,
       count(i.id) FILTER (WHERE i.decided_by = 'auto') AS decided_automatically,
       count(i.id) FILTER (WHERE i.decided_by = 'human' AND i.reviewer = $1) AS decided_by_demo,
       count(i.id) FILTER (WHERE i.decided_by = 'human' AND i.reviewer IS DISTINCT FROM $1) AS decided_by_people,
       coalesce((SELECT sum(gh.duplicates) FROM generation_history gh WHERE gh.character_id = c.id), 0)::int
           AS duplicates_skipped
  FROM characters c LEFT JOIN images i ON i.character_id = c.id
 GROUP BY c.id ORDER BY c.slug
"""

AUTONOMY_SQL = "SELECT kind, action, count(*)::int AS n FROM autonomy_decisions GROUP BY 1, 2 ORDER BY 1, 2"

LORA_SQL = """
SELECT c.slug AS character, l.version, l.lora_name, l.image_count, l.steps, l.quality_score::float8 AS quality_score,
       l.is_active AS active, l.backend
  FROM lora_checkpoints l JOIN characters c ON c.id = l.character_id ORDER BY c.slug, l.version
"""

SHOTS_SQL = """
SELECT s.slug AS scene, count(t.id)::int AS shots,
       count(t.id) FILTER (WHERE t.status = 'rendered')::int AS rendered,
       count(t.keyframe_path)::int AS keyframes,
       coalesce(sum(t.rendered_duration_s), 0)::float8 AS seconds_of_video,
       coalesce(string_agg(DISTINCT t.render_backend, ', '), '') AS backend
  FROM scenes s LEFT JOIN shots t ON t.scene_id = s.id GROUP BY s.id ORDER BY s.slug
"""

# Each stage's recorded GPU time; a keyframe image is counted as a keyframe, not as a dataset image.
GPU_SQL = """
WITH keyframes AS (SELECT DISTINCT keyframe_image_id AS id FROM shots WHERE keyframe_image_id IS NOT NULL)
SELECT coalesce((SELECT sum(gpu_seconds) FROM images WHERE id NOT IN (SELECT id FROM keyframes)), 0)::float8
           AS dataset_images,
       coalesce((SELECT sum(gpu_seconds) FROM images WHERE id IN (SELECT id FROM keyframes)), 0)::float8 AS keyframes,
       coalesce((SELECT sum(gpu_seconds) FROM lora_checkpoints), 0)::float8 AS lora_training,
       coalesce((SELECT sum(gpu_seconds) FROM shots), 0)::float8 AS shot_clips
"""

EPISODES_SQL = """
SELECT e.slug AS episode, r.file_path, r.thumbnail_path, r.subtitles_path, r.duration_s::float8 AS duration_s,
       p.library_root, p.video_path, p.files
  FROM episodes e JOIN episode_renders r ON r.episode_id = e.id
  LEFT JOIN episode_publications p ON p.episode_id = e.id ORDER BY e.slug
"""


def _json(value):
    return json.loads(value) if isinstance(value, str) else value


def _absolute(media_root: Path, relative: str | None) -> str | None:
    return str(media_root / relative) if relative else None


async def gather(conn, media_root: Path) -> dict:
    gpu = dict(await conn.fetchrow(GPU_SQL))
    episodes = []
    for row in await conn.fetch(EPISODES_SQL):
        tree = (str(Path(row["library_root"]) / Path(row["video_path"]).parts[0])
                if row["library_root"] else None)
        episodes.append({
            "episode": row["episode"], "duration_s": round(row["duration_s"], 2),
            "video": _absolute(media_root, row["file_path"]),
            "thumbnail": _absolute(media_root, row["thumbnail_path"]),
            "subtitles": _absolute(media_root, row["subtitles_path"]),
            "published_tree": tree, "published_files": len(_json(row["files"]) or []),
            "published_video": str(Path(row["library_root"]) / row["video_path"]) if tree else None})
    return {
        "images": [dict(r) for r in await conn.fetch(IMAGES_SQL, DEMO_REVIEWER)],
        "autonomy_decisions": [dict(r) for r in await conn.fetch(AUTONOMY_SQL)],
        "loras": [dict(r) for r in await conn.fetch(LORA_SQL)],
        "shots": [dict(r) for r in await conn.fetch(SHOTS_SQL)],
        "gpu_seconds": {"total": round(sum(gpu.values()), 3), **{k: round(v, 3) for k, v in gpu.items()}},
        "episodes": episodes,
    }


def add_run_figures(figures: dict, runner: DemoRunner, seconds: float, setup_seconds: float) -> dict:
    figures["steps"] = [{"step": "set-up", "seconds": round(setup_seconds, 2), "runs": 0, "failed": 0}]
    figures["steps"] += [{"step": s.name, "seconds": round(s.seconds, 2), "runs": s.runs, "failed": s.failed}
                         for s in runner.steps]
    figures["runs"] = sum(s.runs for s in runner.steps)
    figures["failed_runs"] = runner.failures
    figures["demo_seconds"] = round(seconds, 2)
    return figures


def write_json(figures: dict, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(figures, indent=2, sort_keys=True, default=str) + "\n")
    os.replace(tmp, path)


def summary_lines(figures: dict) -> list[str]:
    lines = ["summary", "  images per character (generated / approved / rejected / pending):"]
    for c in figures["images"]:
        kind = "non-human" if c["non_human"] else "human"
        lines.append(
            f"    {c['character']} ({kind}): {c['generated']} generated, {c['approved']} approved "
            f"(target {c['target']}), {c['rejected']} rejected, {c['pending']} pending; "
            f"{c['duplicates_skipped']} near-duplicates skipped; decided by the automatic review "
            f"{c['decided_automatically']}, by the demo as a person {c['decided_by_demo']}, "
            f"by people {c['decided_by_people']}")
    decisions = ", ".join(f"{d['kind']} {d['action']} {d['n']}" for d in figures["autonomy_decisions"])
    lines.append(f"  autonomy decisions: {decisions or 'none'}")
    for lora in figures["loras"]:
        score = f", sample score {lora['quality_score']:.2f}" if lora["quality_score"] is not None else ""
        lines.append(f"  LoRA: {lora['character']} v{lora['version']} {lora['lora_name']} ({lora['backend']}), "
                     f"{lora['image_count']} images, {lora['steps']} steps{score}, "
                     f"{'active' if lora['active'] else 'not active'}")
    if not figures["loras"]:
        lines.append("  LoRA: none trained")
    for s in figures["shots"]:
        lines.append(f"  shots of {s['scene']}: {s['rendered']}/{s['shots']} rendered, {s['keyframes']} keyframes, "
                     f"{s['seconds_of_video']:.1f} s of video ({s['backend'] or 'not rendered'})")
    gpu = figures["gpu_seconds"]
    lines.append(f"  GPU seconds: {gpu['total']:.1f} in total; dataset images {gpu['dataset_images']:.1f}, "
                 f"keyframes {gpu['keyframes']:.1f}, LoRA training {gpu['lora_training']:.1f}, "
                 f"shot clips {gpu['shot_clips']:.1f}"
                 + (" (the preview backends run on the CPU; only the clips record a modelled GPU time)"
                    if figures.get("backend") == "preview" else ""))
    steps = ", ".join(f"{s['step']} {s['seconds']:.1f}" for s in figures["steps"])
    lines.append(f"  wall seconds per step: {steps}")
    for e in figures["episodes"]:
        lines.append(f"  episode {e['episode']} ({e['duration_s']:.1f} s): {e['video']}")
        lines.append(f"    thumbnail: {e['thumbnail']}")
        lines.append(f"    published tree: {e['published_tree']} ({e['published_files']} files)")
    lines.append(f"  runs: {figures['runs']}, {figures['failed_runs']} failed; every asset's lineage is in the "
                 "Dagster UI (`make webserver`, Global asset lineage)")
    return lines
