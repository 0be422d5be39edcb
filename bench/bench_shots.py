"""Shot rendering figures on a real embedded PostgreSQL and real ffmpeg.

- shots_rerendered_after_edit: a 10-shot scene (one chain) rendered, then shot 7's motion prompt edited
  and the scene rendered again: how many shots were rendered (goal <= 4: shots 7-10).
- shots_rerendered_after_dialogue_edit: the same after editing only shot 7's dialogue (goal 0).
- shot_overhead_s: the FramePack renderer against the ComfyUI double taking 1 s of "GPU" per clip; per shot,
  the wall time beside that second (upload, download, colour match, last-frame extraction, DB), goal <= 0.5.
- continuity_psnr_db: the lowest PSNR between a clip's extracted last frame and the next clip's first
  decoded frame over the 10-shot chain (goal >= 35).

Run: .venv/bin/python -m bench.bench_shots
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.pool import create_pool
from studio.media.clips import first_frame, load_rgb, psnr
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import render_scene
from studio.shots.renderers import FramePackShotRenderer, PreviewShotRenderer
from studio.clients.comfyui import ComfyUIClient
from tests.framepack_info import FRAMEPACK_MODEL, framepack_double
from tests.shot_scene import make_scene

LOG = logging.getLogger("bench_shots")
SCENE = "harbour-night"


async def _chain_figures(url: str, media: Path) -> dict[str, float]:
    pool = await create_pool(url, max_size=4)
    try:
        async with pool.acquire() as conn:
            keys = await make_scene(conn, shots=10, duration_s=1.0)
        await ensure_keyframes(pool, SCENE, media, size=(320, 180), allow_drawing=True, log=LOG)
        renderer = PreviewShotRenderer(320, 180, 24.0)
        await render_scene(pool, SCENE, renderer, media, log=LOG)
        rows = await pool.fetch("SELECT clip_path, last_frame_path FROM shots ORDER BY position")
        worst = min(psnr(load_rgb(media / a["last_frame_path"]),
                         load_rgb(first_frame(media / b["clip_path"], media / "first.png")))
                    for a, b in zip(rows, rows[1:]))
        await pool.execute("UPDATE shots SET dialogue = '[{\"character\": \"mika\", \"line\": \"Look!\"}]' "
                           "WHERE shot_key = $1", keys[6])
        dialogue = await render_scene(pool, SCENE, renderer, media, log=LOG)
        await pool.execute("UPDATE shots SET motion_prompt = 'she turns and runs' WHERE shot_key = $1", keys[6])
        motion = await render_scene(pool, SCENE, renderer, media, log=LOG)
        return {"shots_rerendered_after_edit": len(motion.rendered),
                "shots_rerendered_after_dialogue_edit": len(dialogue.rendered),
                "continuity_psnr_db": round(worst, 2)}
    finally:
        await pool.close()


async def _overhead(url: str, media: Path, shots: int = 4) -> float:
    pool = await create_pool(url, max_size=4)
    double = framepack_double()
    double.job_seconds = 1.0
    try:
        async with pool.acquire() as conn:
            await conn.execute("TRUNCATE projects CASCADE")
            await make_scene(conn, shots=shots, duration_s=1.2)
        await ensure_keyframes(pool, SCENE, media, size=(320, 192), allow_drawing=True, log=LOG)
        with double:
            client = ComfyUIClient([double.url], poll_interval_s=0.5)
            renderer = FramePackShotRenderer(client, model=FRAMEPACK_MODEL, steps=4)
            async with client.session():
                began = time.monotonic()
                report = await render_scene(pool, SCENE, renderer, media, log=LOG)
                wall = time.monotonic() - began
        assert len(report.rendered) == shots
        return round((wall - report.gpu_seconds) / shots, 3)
    finally:
        await pool.close()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-shots-") as tmp:
        home = Path(tmp)
        try:
            async def run():
                url = await ensure_database(start_embedded_server(home / "pg"), "bench")
                figures = await _chain_figures(url, home / "media")
                figures["shot_overhead_s"] = await _overhead(url, home / "media2")
                return figures

            record(asyncio.run(run()))
        finally:
            stop_embedded_server(home / "pg")


if __name__ == "__main__":
    main()
