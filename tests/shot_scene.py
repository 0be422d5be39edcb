"""A project with one character and one scene of n shots, written straight into the studio DB."""

from __future__ import annotations

from studio.domain.motion_presets import SHOT_TYPES

APPEARANCE = {"species": "human", "key_colors": {"hair": "#2b1d4e", "coat": "#e8c21a"}}


async def make_scene(conn, *, shots: int = 3, cuts: tuple[int, ...] = (), duration_s: float = 1.0,
                     scene: str = "harbour-night") -> list[str]:
    """Shot keys in order. `cuts`: 0-based positions that open a new chain."""
    project = await conn.fetchval("INSERT INTO projects (slug, name) VALUES ('harbour', 'Harbour') RETURNING id")
    style = await conn.fetchval("""INSERT INTO generation_styles (project_id, slug, checkpoint)
                                   VALUES ($1, 'anime', 'tiny-random-sd15.safetensors') RETURNING id""", project)
    await conn.execute("""INSERT INTO characters (project_id, slug, name, design_prompt, appearance_data, style_id)
                          VALUES ($1, 'mika', 'Mika', 'girl in a raincoat', $2, $3)""", project, APPEARANCE, style)
    scene_id = await conn.fetchval(
        "INSERT INTO scenes (project_id, slug, title) VALUES ($1, $2, 'Night') RETURNING id", project, scene)
    keys = []
    for i in range(shots):
        keys.append(await conn.fetchval(
            """INSERT INTO shots (scene_id, position, description, duration_s, characters, dialogue, shot_type,
                                  motion_prompt, cut, shot_key)
               VALUES ($1, $2, $3, $4, '["mika"]', '[]', $5, $6, $7, $8) RETURNING shot_key""",
            scene_id, i + 1, f"shot {i + 1}", duration_s, SHOT_TYPES[i % len(SHOT_TYPES)], f"motion {i + 1}",
            i in cuts, f"k{i + 1:02d}"))
    return keys
