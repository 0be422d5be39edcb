"""Where dataset images and built scene and episode files live under the media root.

Kept apart from the modules that build them, so that code which only needs a path (the review
service's file routes) does not import the media toolchain.
"""

from __future__ import annotations

from pathlib import Path


def dataset_images_folder(slug: str) -> str:
    """Relative to the media root (as the images table stores paths): generated and uploaded images."""
    return f"datasets/{slug}/images"


def scene_dir(media_root: Path, scene: str) -> Path:
    return Path(media_root) / "scenes" / scene


def scene_video_path(media_root: Path, scene: str) -> Path:
    return scene_dir(media_root, scene) / f"{scene}.mp4"


def episode_dir(media_root: Path, slug: str) -> Path:
    return Path(media_root) / "episodes" / slug
