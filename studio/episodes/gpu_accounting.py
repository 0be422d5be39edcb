"""GPU seconds of what an episode, scene, shot or character is made of, in plain SQL.

A character costs its dataset images (every generated image, kept or not: the GPU ran for each)
and its LoRA trainings. A shot costs its render, its keyframe image and the txt2img candidates its
keyframe was picked from (`shots.keyframe_gpu_seconds`: they are no dataset images). A scene costs
its shots. An episode costs its scenes and the characters appearing in them; an image that is both a
character's and a shot's keyframe is counted once. Unrecorded GPU time (NULL) counts as 0.
"""

from __future__ import annotations

import json

import asyncpg

CHARACTER_SQL = """
SELECT c.slug,
       COALESCE((SELECT sum(i.gpu_seconds) FROM images i WHERE i.character_id = c.id), 0)::float8 AS images,
       COALESCE((SELECT sum(l.gpu_seconds) FROM lora_checkpoints l WHERE l.character_id = c.id), 0)::float8 AS training
  FROM characters c WHERE c.slug = ANY($1::text[]) ORDER BY c.slug
"""

SHOTS_SQL = """
SELECT s.slug AS scene, t.shot_key, t.position, COALESCE(t.gpu_seconds, 0)::float8 AS render,
       COALESCE(k.gpu_seconds, 0)::float8 AS keyframe, COALESCE(t.keyframe_gpu_seconds, 0)::float8 AS candidates,
       t.keyframe_image_id, t.characters
  FROM shots t JOIN scenes s ON s.id = t.scene_id
  LEFT JOIN images k ON k.id = t.keyframe_image_id
 WHERE s.slug = ANY($1::text[]) ORDER BY s.slug, t.position
"""

EPISODE_SCENES_SQL = """
SELECT s.slug FROM episode_scenes es JOIN episodes e ON e.id = es.episode_id JOIN scenes s ON s.id = es.scene_id
 WHERE e.slug = $1 ORDER BY es.position
"""

# Keyframe images of these shots that are not images of these characters: counted on top of them.
EXTRA_KEYFRAMES_SQL = """
SELECT COALESCE(sum(i.gpu_seconds), 0)::float8 FROM images i
 WHERE i.id = ANY($1::bigint[]) AND i.character_id NOT IN (SELECT id FROM characters WHERE slug = ANY($2::text[]))
"""


async def character_gpu(conn: asyncpg.Connection, slugs: list[str]) -> list[dict]:
    rows = await conn.fetch(CHARACTER_SQL, slugs)
    return [{"character": r["slug"], "dataset_images_s": round(r["images"], 3), "lora_training_s": round(r["training"], 3),
             "gpu_seconds": round(r["images"] + r["training"], 3)} for r in rows]


async def shot_gpu(conn: asyncpg.Connection, scenes: list[str]) -> list[dict]:
    rows = await conn.fetch(SHOTS_SQL, scenes)
    return [{"scene": r["scene"], "shot": r["shot_key"], "position": r["position"], "render_s": round(r["render"], 3),
             "keyframe_s": round(r["keyframe"], 3), "keyframe_candidates_s": round(r["candidates"], 3),
             "gpu_seconds": round(r["render"] + r["keyframe"] + r["candidates"], 3),
             "keyframe_image_id": r["keyframe_image_id"], "characters": list(_characters(r["characters"]))}
            for r in rows]


def _characters(value) -> list[str]:
    items = json.loads(value) if isinstance(value, str) else (value or [])
    return [c if isinstance(c, str) else c.get("slug", "") for c in items if c]


async def scene_gpu(conn: asyncpg.Connection, scenes: list[str]) -> list[dict]:
    shots = await shot_gpu(conn, scenes)
    return [{"scene": s, "shots": sum(1 for x in shots if x["scene"] == s),
             "gpu_seconds": round(sum(x["gpu_seconds"] for x in shots if x["scene"] == s), 3)} for s in scenes]


async def episode_gpu(conn: asyncpg.Connection, episode: str) -> dict | None:
    scenes = [r["slug"] for r in await conn.fetch(EPISODE_SCENES_SQL, episode)]
    if not scenes and await conn.fetchval("SELECT 1 FROM episodes WHERE slug = $1", episode) is None:
        return None
    shots = await shot_gpu(conn, scenes)
    character_slugs = sorted({c for s in shots for c in s["characters"]})
    characters = await character_gpu(conn, character_slugs)
    # A keyframe that is one of these characters' images is in their dataset cost already.
    keyframe_ids = [s["keyframe_image_id"] for s in shots if s["keyframe_image_id"] is not None]
    extra_keyframes = await conn.fetchval(EXTRA_KEYFRAMES_SQL, keyframe_ids, character_slugs) if keyframe_ids else 0.0
    renders = sum(s["render_s"] for s in shots)
    candidates = sum(s["keyframe_candidates_s"] for s in shots)
    dataset = sum(c["dataset_images_s"] for c in characters)
    training = sum(c["lora_training_s"] for c in characters)
    return {
        "episode": episode,
        "gpu_seconds": round(renders + extra_keyframes + candidates + dataset + training, 3),
        # keyframes_s: keyframe images that are not already one of the characters' dataset images
        "breakdown": {"shots_s": round(renders, 3), "keyframes_s": round(extra_keyframes, 3),
                      "keyframe_candidates_s": round(candidates, 3),
                      "dataset_images_s": round(dataset, 3), "lora_training_s": round(training, 3)},
        "scenes": await scene_gpu(conn, scenes),
        "characters": characters,
    }
