"""Keyframes: the first frame of every shot that opens a chain (the scene's first shot, or a cut).

In order of preference: the approved image a person picked for the shot; the reviewer's pick of
2-4 txt2img candidates (studio/shots/keyframe_candidates.py) when an image generator is given; the
best approved image of the shot's first character; or (preview only) a drawing from appearance data.
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
from studio.domain.shot_rendering import opens_chain, shot_seed
from studio.preview.character_image import draw_character
from studio.shots import repository
from studio.shots.keyframe_candidates import candidates_gpu_seconds, pick_keyframe
from studio.uploads import write_atomically


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


async def keyframe_png(conn: asyncpg.Connection, scene: str, shot: dict, seed: int, media_root: Path,
                       size: tuple[int, int], allow_drawing: bool, *, generator=None, reviewer=None,
                       candidates: int = 3, log: logging.Logger) -> tuple[bytes, dict]:
    """(PNG bytes, where it came from)."""
    if shot["keyframe_image_id"] is not None:
        chosen = await _approved_image(conn, shot)
        if not chosen or not (media_root / chosen).is_file():
            raise RuntimeError(f"shot {shot['shot_key']}: keyframe image {shot['keyframe_image_id']} is not an "
                               f"approved image on disk")
        with Image.open(media_root / chosen) as image:
            return _fitted_png(image, size), {"source": f"picked image {chosen}"}
    if generator is not None and reviewer is not None:
        picked = await pick_keyframe(conn, scene, shot, seed, media_root, generator=generator, reviewer=reviewer,
                                     size=size, count=candidates, log=log)
        if picked is not None:
            return picked[0], {"source": "txt2img candidates", **picked[1]}
    chosen = await _approved_image(conn, shot)
    if chosen and (media_root / chosen).is_file():
        with Image.open(media_root / chosen) as image:
            return _fitted_png(image, size), {"source": f"approved image {chosen}"}
    if not allow_drawing:
        raise RuntimeError(f"shot {shot['shot_key']}: no approved image to start from; pick one for the shot "
                           f"or approve images of {shot['characters'][0] if shot['characters'] else 'a character'}")
    appearance, name = await _appearance(conn, shot)
    picture = await asyncio.to_thread(draw_character, appearance, seed=seed, width=size[0], height=size[1], name=name)
    return _fitted_png(picture, size), {"source": "preview drawing"}


async def ensure_keyframes(pool: asyncpg.Pool, scene: str, media_root: Path, *, size: tuple[int, int],
                           allow_drawing: bool, log: logging.Logger, generator=None, reviewer=None,
                           candidates: int = 3) -> list[dict]:
    """Give every chain opener of the scene a keyframe; one that has its file is kept (an edit of what it
    depends on clears `keyframe_sha256`, so the next run makes a new one). Returns what was made or kept."""
    made = []
    async with pool.acquire() as conn:
        row = await repository.scene_row(conn, scene)
        if row is None:
            raise LookupError(f"scene {scene!r} is not in the studio database")
        for index, shot in enumerate(await repository.render_shots(conn, row["id"])):
            if not opens_chain(shot, index):
                continue
            if shot["keyframe_sha256"] and shot["keyframe_path"] and (media_root / shot["keyframe_path"]).is_file():
                made.append({"shot": shot["shot_key"], "keyframe": shot["keyframe_path"], "changed": False})
                continue
            seed = shot_seed(scene, shot)
            await repository.set_seed(conn, shot["id"], seed)
            png, source = await keyframe_png(conn, scene, shot, seed, media_root, size, allow_drawing,
                                             generator=generator, reviewer=reviewer, candidates=candidates, log=log)
            sha = hashlib.sha256(png).hexdigest()
            relative = f"shots/{scene}/{shot['shot_key']}/keyframe-{sha[:12]}.png"
            write_atomically(media_root / relative, png)
            await repository.set_keyframe(conn, shot["id"], relative, sha, candidates_gpu_seconds(source))
            if shot["keyframe_path"] and shot["keyframe_path"] != relative:
                (media_root / shot["keyframe_path"]).unlink(missing_ok=True)
            log.info("shot %s: keyframe from %s", shot["shot_key"], source["source"])
            made.append({"shot": shot["shot_key"], "keyframe": relative, "changed": True, **source})
    return made
