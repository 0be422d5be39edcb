"""Scene sound figures on a real embedded PostgreSQL, real piper and real ffmpeg.

- scene_sound_realtime_x: a 60 s scene (12 shots of 5 s, one dialogue line each, a music bed) from its
  clips to the final file, speech synthesised from an empty cache: scene seconds per wall second
  (goal >= 5 on 2 cores).
- dialogue_offset_ms: the worst distance between a line's planned start and its speech onset found by
  silencedetect in the final file (goal <= 40). Measured on the same scene re-mixed without the bed,
  since speech over music has no silence to find.
- scene_remix_s: that re-mix (lines cached, clips joined already): wall seconds.

Run: .venv/bin/python -m bench.bench_scene_sound
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.results import record
from studio.audio.tts import PiperSynthesizer, _piper_voice
from studio.db.embedded import (
    ensure_database,
    start_embedded_server,
    stop_embedded_server,
)
from studio.db.migrate import migrate
from studio.db.pool import connect
from studio.domain.dialogue_timing import worst_offset_ms
from studio.media.ffmpeg import run_ffmpeg
from studio.media.silence import detect_silence, sound_onsets
from studio.scene_videos.build import build_scene_video
from tests.scene_sound_seed import seed_scene

LINES = [
    "The lamp has gone out again.", "Then we light it by hand.", "The boats are still out there.",
    "I can see three lanterns.", "Four. There is one behind the rocks.", "Hold the rope, I will climb.",
    "The wind is turning north.", "Hurry, the tide will not wait.", "Almost there, just one more step.",
    "Is it burning?", "It is burning. They will see it now.", "Good. Now we wait for them.",
]


def make_bed(path: Path) -> None:
    """A small music stand-in: two soft tones over quiet noise, 20 s, looped by the mix."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(["-f", "lavfi", "-i", "sine=f=220:r=48000:d=20", "-f", "lavfi", "-i", "sine=f=330:r=48000:d=20",
                "-f", "lavfi", "-i", "anoisesrc=r=48000:a=0.02:d=20:c=pink",
                "-filter_complex", "amix=inputs=3:normalize=0", "-y", path])


async def figures(url: str, media: Path) -> dict[str, float]:
    shots = [(5.0, [{"character": "mika" if k % 2 == 0 else "ember", "line": line}]) for k, line in enumerate(LINES)]
    make_bed(media / "music" / "bed.wav")
    async with connect(url) as conn:
        await migrate(conn)
        await seed_scene(conn, media, shots, music="music/bed.wav", clip_size="512x288")
        _piper_voice()  # the model loads once per process; what is timed is the scene
        began = time.monotonic()
        report = await build_scene_video(conn, "harbor", media, PiperSynthesizer())
        wall = time.monotonic() - began
        assert report.audio_state == "complete" and report.synthesised == 12, report.audio_problems
        await conn.execute("UPDATE scenes SET music = NULL WHERE slug = 'harbor'")
        began = time.monotonic()
        dry = await build_scene_video(conn, "harbor", media, PiperSynthesizer())
        remix = time.monotonic() - began
    onsets = sound_onsets(detect_silence(dry.path, noise_db=-40, min_duration_s=0.15))
    planned = [line["start_s"] for line in dry.lines]
    found = [min(onsets, key=lambda t: abs(t - p)) for p in planned]
    return {"scene_sound_realtime_x": round(report.duration_s / wall, 2),
            "dialogue_offset_ms": round(worst_offset_ms(planned, found), 1),
            "scene_remix_s": round(remix, 2)}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-scene-sound-") as tmp:
        home = Path(tmp)
        try:
            async def run():
                url = await ensure_database(start_embedded_server(home / "pg"), "bench")
                return await figures(url, home / "media")

            record(asyncio.run(run()))
        finally:
            stop_embedded_server(home / "pg")


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    main()
