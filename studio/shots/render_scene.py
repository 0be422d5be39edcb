"""Rendering a scene's shots in order, each from the previous shot's exact last frame.

For each shot the start frame is known only once the shot before it is done (its last frame), so
the re-render rule is applied here, shot by shot, with the real frame: a shot whose input hash is
unchanged and whose clip exists is skipped. A rendered clip is written under a name of its own,
recorded in one UPDATE, and only then are the shot's old files removed: a crash loses the shot in
flight and nothing else. A database restart in the middle costs nothing: each write is retried through
the outage, and the scene's lock is taken again before the next shot (studio/db/advisory.py).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from studio.db.advisory import HeldLock
from studio.db.retry import one_statement
from studio.domain.shot_rendering import ShotToRender, needs_render, opens_chain, shot_input_hash, shot_seed
from studio.media.clips import extract_last_frame, sha256_file
from studio.shots import repository
from studio.shots.progress import SceneProgress


class ShotRenderFailed(RuntimeError):
    """A shot's render failed; the message names the scene and the shot, the cause is chained."""


@dataclass
class SceneRenderReport:
    scene: str
    rendered: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    interrupted: list[str] = field(default_factory=list)  # found `rendering` from a run that died
    gpu_seconds: float = 0.0
    overhead_seconds: float = 0.0  # everything beside the renderer's GPU time, for rendered shots
    shots: list[dict] = field(default_factory=list)


def _present(media_root: Path, relative: str | None) -> bool:
    return bool(relative) and (media_root / relative).is_file()


def _remove_stale_temporaries(media_root: Path, scene: str, log: logging.Logger) -> None:
    """With the scene's lock held no other render writes its clips: one still under a temporary name
    (`.clip-*`, `.last-*`, studio/media/clips.py) was left by a render killed mid-write, which ran no clean-up."""
    folder = media_root / "shots" / scene
    for path in [*folder.glob("*/.clip-*"), *folder.glob("*/.last-*")]:
        path.unlink(missing_ok=True)
        log.info("scene %s: removed %s, left half-written by a render that stopped", scene, path.name)


async def render_scene(pool: asyncpg.Pool, scene: str, renderer, media_root: Path, *,
                       log: logging.Logger, only: set[str] | None = None,
                       run_id: str | None = None) -> SceneRenderReport:
    """Render what changed. `only`: shot keys forced to render again (their clips are ignored).
    `run_id`: the Dagster run, whose progress the runs API then shows shot by shot."""
    report = SceneRenderReport(scene)
    lock = HeldLock(pool, lambda conn: repository.lock_scene(conn, scene),
                    lambda conn: repository.unlock_scene(conn, scene), f"scene {scene}: the render lock", log)
    async with lock:
        lock_conn = lock.connection
        row = await repository.scene_row(lock_conn, scene)
        if row is None:
            raise LookupError(f"scene {scene!r} is not in the studio database")
        report.interrupted = await repository.reset_interrupted(lock_conn, row["id"])
        _remove_stale_temporaries(media_root, scene, log)
        if report.interrupted:
            log.warning("scene %s: shots %s were left mid-render by a run that stopped; rendering them again",
                        scene, ", ".join(report.interrupted))
        shots = await repository.render_shots(lock_conn, row["id"])
        progress = await SceneProgress.start(pool, run_id, log, row["project_id"], renderer,
                                             [s["duration_s"] for s in shots])
        await _render_chain(pool, scene, shots, renderer, media_root, progress, only or set(), report, lock)
    return report


async def _render_chain(pool, scene, shots, renderer, media_root, progress, forced, report, lock) -> None:
    log = progress.log
    if not shots:
        return
    anchor = shots[0]["keyframe_path"]
    if not _present(media_root, anchor):
        raise RuntimeError(f"scene {scene!r}: its first shot has no keyframe; materialize shot_keyframes first")
    anchor_path = media_root / anchor
    anchor_sha = sha256_file(anchor_path)
    await renderer.preflight()  # what would fail every shot fails here, before one is marked
    previous_last: str | None = None
    for index, shot in enumerate(shots):
        await lock.hold()
        key = shot["shot_key"]
        if opens_chain(shot, index):
            start = shot["keyframe_path"]
            if not _present(media_root, start):
                raise RuntimeError(f"shot {key} opens a chain but has no keyframe; materialize shot_keyframes first")
        else:
            start = previous_last
        start_path = media_root / start
        seed = shot_seed(scene, shot)
        job = ShotToRender(key, shot["shot_type"], shot["motion_prompt"], seed, shot["duration_s"])
        start_sha = sha256_file(start_path)
        input_hash = shot_input_hash(start_sha, renderer.render_inputs(job, anchor_sha))
        clip_present = _present(media_root, shot["clip_path"]) and key not in forced
        if not needs_render(shot["input_hash"], clip_present, input_hash):
            previous_last = await _last_frame_of(pool, shot, media_root, log)
            report.skipped.append(key)
            await progress.shot_done(index, key, "kept", " (unchanged)")
            continue
        previous_last = await _render_one(pool, scene, shot, job, start, start_sha, input_hash, anchor_path,
                                          renderer, media_root, log, report)
        done = report.shots[-1]
        await progress.shot_done(index, key, "rendered",
                                 f" ({done['rendered_duration_s']} s of video, {done['gpu_seconds']:.1f} GPU s)",
                                 done["gpu_seconds"], done["rendered_duration_s"])


async def _last_frame_of(pool, shot: dict, media_root: Path, log: logging.Logger) -> str:
    """A kept clip's last frame; extracted again if its file went missing."""
    if _present(media_root, shot["last_frame_path"]):
        return shot["last_frame_path"]
    relative = str(Path(shot["clip_path"]).with_name(Path(shot["clip_path"]).stem.replace("clip-", "last-") + ".png"))
    extract_last_frame(media_root / shot["clip_path"], media_root / relative)
    sha = sha256_file(media_root / relative)
    await one_statement(pool, lambda conn: repository.set_last_frame(conn, shot["id"], relative, sha), log=log)
    return relative


async def _render_one(pool, scene, shot, job, start, start_sha, input_hash, anchor_path, renderer, media_root, log,
                      report) -> str:
    began = time.monotonic()
    folder = f"shots/{scene}/{job.key}"
    clip_rel, last_rel = f"{folder}/clip-{input_hash[:12]}.mp4", f"{folder}/last-{input_hash[:12]}.png"
    await one_statement(pool, lambda conn: repository.mark_rendering(conn, shot["id"]), log=log)
    try:
        clip = await renderer.render(job, media_root / start, anchor_path, media_root / clip_rel, log)
        extract_last_frame(media_root / clip_rel, media_root / last_rel)
    except Exception as error:
        # A clip or last frame made before the failure (a full disk at the last frame) is not the
        # shot's: nothing stays under a final name that the database does not hold.
        for made in (clip_rel, last_rel):
            if made not in (shot["clip_path"], shot["last_frame_path"]):
                (media_root / made).unlink(missing_ok=True)
        why = f"{type(error).__name__}: {error}"
        await one_statement(pool, lambda conn: repository.mark_failed(conn, shot["id"], why), log=log)
        raise ShotRenderFailed(f"scene {scene}, shot {job.key}: {type(error).__name__}: {error}") from error
    except BaseException as stop:
        # Cancelled or terminated (a stopped Dagster run): the shot is not left `rendering`. A kill
        # leaves it so, and the next render of the scene puts it back (reset_interrupted).
        async with pool.acquire() as conn:
            await repository.mark_interrupted(conn, shot["id"], f"the run was stopped ({type(stop).__name__})")
        raise
    values = {"clip_path": clip_rel, "last_frame_path": last_rel,
              "last_frame_sha256": sha256_file(media_root / last_rel), "start_frame_path": start,
              "start_frame_sha256": start_sha, "input_hash": input_hash, "seed": job.seed,
              "gpu_seconds": clip.gpu_seconds, "rendered_duration_s": clip.duration_s, "backend": clip.backend,
              "prompt_id": clip.prompt_id}
    # Minutes of GPU work are in this clip: a database restarting just now must not lose them.
    await one_statement(pool, lambda conn: repository.mark_rendered(conn, shot["id"], values), log=log)
    for old in (shot["clip_path"], shot["last_frame_path"]):
        if old and old not in (clip_rel, last_rel):
            (media_root / old).unlink(missing_ok=True)
    elapsed = time.monotonic() - began
    report.rendered.append(job.key)
    report.gpu_seconds += clip.gpu_seconds
    report.overhead_seconds += max(0.0, elapsed - clip.gpu_seconds)
    report.shots.append({"shot": job.key, **values})
    return last_rel
