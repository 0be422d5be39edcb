"""The demo's scene-video step: voices, a music bed and subtitles for every scene.

The music bed is made here with ffmpeg (soft tones over pink noise) into the studio home, never
committed, and given to every project that names no bed of its own.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from resources.database import StudioDatabase
from studio.demo_runner import DemoRunner
from studio.media.ffmpeg import run_ffmpeg
from studio.scene_videos.repository import give_projects_music
from studio.settings import load_settings

SCENE_VIDEOS = dg.AssetKey("scene_videos")
DEMO_BED = "music/demo-bed.wav"


def make_demo_bed(path: Path, seconds: float = 16.0) -> None:
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp.wav")
    tones = [f"sine=f={hz}:r=48000:d={seconds}" for hz in (196, 247, 294)]
    inputs = [arg for t in tones for arg in ("-f", "lavfi", "-i", t)]
    run_ffmpeg([*inputs, "-f", "lavfi", "-i", f"anoisesrc=r=48000:a=0.03:d={seconds}:c=pink",
                "-filter_complex", "[0][1][2][3]amix=inputs=4:normalize=0,tremolo=f=0.25:d=0.5,volume=0.8",
                "-ac", "1", "-y", tmp])
    tmp.replace(path)


def demo_scene_videos(runner: DemoRunner) -> None:
    if not runner.defs.resolve_asset_graph().has(SCENE_VIDEOS):
        print("  scene_videos: skipped (this code location has no scene_videos asset)")
        return
    make_demo_bed(load_settings().media_root / DEMO_BED)
    StudioDatabase().run_sync(lambda conn: give_projects_music(conn, DEMO_BED))
    for scene in runner.partitions("scene"):
        result = runner.run(None, scene, asset_selection=[SCENE_VIDEOS], tags={"studio/step": "scene_videos"})
        details = ""
        if result.success:
            meta = result.asset_materializations_for_node("scene_videos")[0].metadata
            lufs = meta["integrated_lufs"].value
            problems = meta["audio_problems"].value
            details = (f"{meta['duration_s'].value:.1f} s, {len(meta['lines'].value)} lines "
                       f"({meta['lines_synthesised'].value} synthesised, {meta['tts_engine'].value}), "
                       f"sound: {meta['sound'].value}, {f'{lufs:.1f} LUFS' if lufs is not None else 'silent'}, "
                       f"audio {meta['audio_state'].value}" + (f": {'; '.join(problems)}" if problems else ""))
        runner.line("scene_videos", scene, result, details)
