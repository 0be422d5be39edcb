"""Keyframes: the first frame of every shot that opens a chain (the scene's first shot, or a cut).

In order of preference: the approved image a person picked for the shot, the best approved image of
the shot's first character, or (the preview) a drawing of that character from its appearance data.
The frame is cropped to the render size and stored as PNG under shots/<scene>/<shot key>/.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from pathlib import Path

import asyncpg
from PIL import Image, ImageOps

from studio.domain.appearance import Appearance
from studio.preview.character_image import draw_character
from studio.shots import repository
from studio.uploads import write_atomically


def default_seed(scene: str, shot_key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{scene}:{shot_key}".encode()).digest()[:4], "big") & 0x7FFFFFFF


def opens_chain(shot: dict, index: int) -> bool:
    return index == 0 or bool(shot["cut"])


async def _approved_image(conn: asyncpg.Connection, shot: dict) -> str | None:
    if shot["keyframe_image_id"] is not None:
        return await conn.fetchval("SELECT file_path FROM images WHERE id = $1 AND status = 'approved'",
                                   shot["keyframe_image_id"])
    if not shot["characters"]:
        return None
    return await conn.fetchval(
        """SELECT i.file_path FROM images i JOIN characters c ON c.id = i.character_id
            WHERE c.slug = $1 AND i.status = 'approved'
            ORDER BY i.quality_score DESC NULLS LAST, i.id LIMIT 1""", shot["characters"][0])


async def _appearance(conn: asyncpg.Connection, shot: dict) -> tuple[Appearance, str]:
    if not shot["characters"]:
        return Appearance(), ""
    row = await conn.fetchrow("SELECT appearance_data FROM characters WHERE slug = $1", shot["characters"][0])
    return (Appearance.model_validate(row["appearance_data"]) if row else Appearance()), shot["characters"][0]


def _fitted_png(image: Image.Image, size: tuple[int, int]) -> bytes:
    fitted = ImageOps.fit(image.convert("RGB"), size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    fitted.save(buffer, "PNG")
    return buffer.getvalue()


async def keyframe_png(conn: asyncpg.Connection, shot: dict, seed: int, media_root: Path,
                       size: tuple[int, int], allow_drawing: bool) -> tuple[bytes, str]:
    """(PNG bytes, where it came from)."""
    chosen = await _approved_image(conn, shot)
    if chosen and (media_root / chosen).is_file():
        with Image.open(media_root / chosen) as image:
            return _fitted_png(image, size), f"approved image {chosen}"
    if not allow_drawing:
        raise RuntimeError(f"shot {shot['shot_key']}: no approved image to start from; pick one for the shot "
                           f"or approve images of {shot['characters'][0] if shot['characters'] else 'a character'}")
    appearance, name = await _appearance(conn, shot)
    picture = await asyncio.to_thread(draw_character, appearance, seed=seed, width=size[0], height=size[1], name=name)
    return _fitted_png(picture, size), "preview drawing"


async def ensure_keyframes(pool: asyncpg.Pool, scene: str, media_root: Path, *, size: tuple[int, int],
                           allow_drawing: bool, log: logging.Logger) -> list[dict]:
    """Give every chain opener of the scene a keyframe file; returns what was made or kept."""
    made = []
    async with pool.acquire() as conn:
        row = await repository.scene_row(conn, scene)
        if row is None:
            raise LookupError(f"scene {scene!r} is not in the studio database")
        for index, shot in enumerate(await repository.render_shots(conn, row["id"])):
            if not opens_chain(shot, index):
                continue
            seed = shot["seed"] if shot["seed"] is not None else default_seed(scene, shot["shot_key"])
            await repository.set_seed(conn, shot["id"], seed)
            png, source = await keyframe_png(conn, shot, seed, media_root, size, allow_drawing)
            sha = hashlib.sha256(png).hexdigest()
            relative = f"shots/{scene}/{shot['shot_key']}/keyframe-{sha[:12]}.png"
            if shot["keyframe_sha256"] == sha and (media_root / relative).is_file():
                made.append({"shot": shot["shot_key"], "keyframe": relative, "source": source, "changed": False})
                continue
            write_atomically(media_root / relative, png)
            await repository.set_keyframe(conn, shot["id"], relative, sha)
            if shot["keyframe_path"] and shot["keyframe_path"] != relative:
                (media_root / shot["keyframe_path"]).unlink(missing_ok=True)
            log.info("shot %s: keyframe from %s", shot["shot_key"], source)
            made.append({"shot": shot["shot_key"], "keyframe": relative, "source": source, "changed": True})
    return made
