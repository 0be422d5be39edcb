"""Scene proposals: a planner's breakdown waits for a person, who may edit it, then accepts it.

Accepting validates the (possibly edited) breakdown again and writes all its scenes and shots in
one transaction, or nothing.
"""

from __future__ import annotations

import re

import asyncpg

from studio.domain.scene_plan import breakdown_errors
from studio.story.errors import Conflict, InvalidField, NotFound
from studio.story.planner import StoryContext
from studio.story.sql import catalog_changed, project_id


async def story_context(conn: asyncpg.Connection, project: str) -> StoryContext:
    pid = await project_id(conn, project)
    storyline = await conn.fetchrow("SELECT title, logline, summary, themes, tone FROM storylines WHERE project_id = $1",
                                    pid)
    if storyline is None:
        raise InvalidField(("project",), f"project {project!r} has no storyline to plan scenes from")
    world = await conn.fetchrow("SELECT name, era, description, locations, rules FROM world_settings "
                                "WHERE project_id = $1", pid)
    characters = await conn.fetch("SELECT slug, name, design_prompt FROM characters WHERE project_id = $1 ORDER BY id",
                                  pid)
    return StoryContext(project, dict(storyline), dict(world) if world else {}, [dict(c) for c in characters])


async def store_proposal(conn: asyncpg.Connection, project: str, breakdown: dict, backend: str, attempts: int) -> dict:
    row = await conn.fetchrow(
        """INSERT INTO scene_proposals (project_id, breakdown, backend, attempts) VALUES ($1, $2, $3, $4)
           RETURNING id, breakdown, backend, attempts, status, created_at""",
        await project_id(conn, project), breakdown, backend, attempts)
    return {**dict(row), "project": project}


async def get_proposal(conn: asyncpg.Connection, proposal_id: int) -> dict:
    row = await conn.fetchrow(
        """SELECT s.id, p.slug AS project, s.breakdown, s.backend, s.attempts, s.status, s.created_at
             FROM scene_proposals s JOIN projects p ON p.id = s.project_id WHERE s.id = $1""", proposal_id)
    if row is None:
        raise NotFound(f"scene proposal {proposal_id} not found")
    return dict(row)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60] or "scene"


async def _free_slug(conn: asyncpg.Connection, title: str) -> str:
    base, n = _slug(title), 1
    slug = base
    while await conn.fetchval("SELECT 1 FROM scenes WHERE slug = $1", slug):
        n += 1
        slug = f"{base}-{n}"
    return slug


async def accept_proposal(conn: asyncpg.Connection, proposal_id: int, edited: dict | None = None) -> list[str]:
    """Write the proposal's scenes (or the person's edited breakdown); returns the new scene slugs."""
    async with conn.transaction():
        proposal = await get_proposal(conn, proposal_id)
        if proposal["status"] == "accepted":
            raise Conflict(f"scene proposal {proposal_id} was accepted already")
        breakdown = edited if edited is not None else proposal["breakdown"]
        pid = await project_id(conn, proposal["project"])
        cast = [r["slug"] for r in await conn.fetch("SELECT slug FROM characters WHERE project_id = $1", pid)]
        errors = breakdown_errors(breakdown, cast)
        if errors:
            raise InvalidField(("breakdown",), "; ".join(errors))
        slugs = []
        for scene in breakdown["scenes"]:
            slug = await _free_slug(conn, scene["title"])
            scene_id = await conn.fetchval(
                """INSERT INTO scenes (project_id, slug, title, description, location, time_of_day, mood, weather,
                                       target_duration_s)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id""",
                pid, slug, scene["title"], scene["description"], scene.get("location", ""),
                scene.get("time_of_day", ""), scene.get("mood", ""), scene.get("weather", ""),
                scene["target_duration_s"])
            for position, shot in enumerate(scene["shots"], 1):
                await conn.execute(
                    """INSERT INTO shots (scene_id, position, description, camera, duration_s, characters, dialogue,
                                          shot_type, motion_prompt, first_frame)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
                    scene_id, position, shot["first_frame"], shot["camera_angle"], shot["duration_s"],
                    shot.get("characters", []), shot.get("dialogue", []), shot["shot_type"], shot["motion_prompt"],
                    shot["first_frame"])
            await catalog_changed(conn, "scenes", slug, "created")
            slugs.append(slug)
        await conn.execute(
            "UPDATE scene_proposals SET status = 'accepted', breakdown = $2, updated_at = now() WHERE id = $1",
            proposal_id, breakdown)
        return slugs
