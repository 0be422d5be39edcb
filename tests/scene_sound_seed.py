"""A scene with rendered-looking shots for scene-video tests: real clips (ffmpeg testsrc) and DB rows."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from studio.media.ffmpeg import run_ffmpeg

FPS = 24


def make_clip(path: Path, duration_s: float, size: str = "320x180", fps: int = FPS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(["-f", "lavfi", "-i", f"testsrc=size={size}:rate={fps}:duration={duration_s}",
                "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-y", path])
    return path


def make_music(path: Path, *, hz: float = 2500, seconds: float = 4.0) -> Path:
    """A steady tone as the music bed: its level is easy to read back under speech."""
    path.parent.mkdir(parents=True, exist_ok=True)
    run_ffmpeg(["-f", "lavfi", "-i", f"sine=f={hz}:r=48000:d={seconds}", "-y", path])
    return path


async def seed_scene(conn, media_root: Path, shots: Sequence[tuple[float, list[dict]]], *, scene: str = "harbor",
                     music: str | None = None, project_music: str | None = None,
                     voices: dict[str, dict] | None = None, clip_size: str = "320x180") -> None:
    """`shots`: (clip seconds, dialogue [{character, line}]) per shot; clips go under shots/<scene>/."""
    project_id = await conn.fetchval(
        "INSERT INTO projects (slug, name, music) VALUES ('p-' || $1, 'Project', $2) RETURNING id", scene, project_music)
    for slug, name in (("mika", "Mika"), ("ember", "Ember")):
        await conn.execute(
            "INSERT INTO characters (project_id, slug, name, design_prompt, voice) VALUES ($1, $2 || '-' || $4, $3, 'x', $5)",
            project_id, slug, name, scene, (voices or {}).get(slug, {}))
    scene_id = await conn.fetchval(
        "INSERT INTO scenes (project_id, slug, title, music) VALUES ($1, $2, 'Harbor', $3) RETURNING id",
        project_id, scene, music)
    for position, (seconds, dialogue) in enumerate(shots, 1):
        rel = f"shots/{scene}/shot-{position}.mp4"
        make_clip(media_root / rel, seconds, clip_size)
        lines = [{"character": f"{d['character']}-{scene}", **{k: v for k, v in d.items() if k != "character"}}
                 for d in dialogue]
        await conn.execute(
            """INSERT INTO shots (scene_id, position, description, duration_s, dialogue, status, clip_path)
               VALUES ($1, $2, 'shot', $3, $4, 'rendered', $5)""", scene_id, position, seconds, lines, rel)
