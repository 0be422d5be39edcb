"""Loading a validated project spec into the studio database, idempotently, in one transaction."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from studio.autonomy.settings import put_thresholds
from studio.db.upsert import upsert
from studio.spec.models import ProjectFile
from studio.spec.shot_import import import_shots
from studio.spec.validation import SpecError
from studio.uploads import write_atomically


@dataclass
class ImportReport:
    project: str
    counts: Counter = field(default_factory=Counter)

    def add(self, kind: str, action: str) -> None:
        self.counts[f"{kind} {action}"] += 1

    @property
    def changed(self) -> bool:
        return any(n for k, n in self.counts.items() if not k.endswith("unchanged"))

    def summary(self) -> str:
        parts = [f"{n} {k}" for k, n in sorted(self.counts.items()) if n]
        return f"project {self.project}: " + ", ".join(parts)


async def _check_owner(conn, table: str, slug: str, project_id: int, where: str, spec_file: Path):
    owner = await conn.fetchval(
        f"SELECT p.slug FROM {table} t JOIN projects p ON p.id = t.project_id "
        "WHERE t.slug = $1 AND t.project_id <> $2",
        slug,
        project_id,
    )
    if owner:
        raise SpecError(spec_file, [(where, f"slug {slug!r} already belongs to project {owner!r}")])


def _store_reference(source: Path, media_root: Path, character: str) -> str:
    """Copy a reference image under a content name; temp name then rename, so never half-written."""
    data = source.read_bytes()
    name = f"references/{character}/{hashlib.sha256(data).hexdigest()[:16]}{source.suffix.lower()}"
    target = media_root / name
    if not target.exists():
        write_atomically(target, data)
    return name


async def import_project(
    conn: asyncpg.Connection, spec: ProjectFile, spec_file: Path, media_root: Path
) -> ImportReport:
    report = ImportReport(spec.project.slug)
    async with conn.transaction():
        p = spec.project
        project_id, action = await upsert(
            conn, "projects", {"slug": p.slug}, {"name": p.name, "description": p.description, "music": p.music}
        )
        report.add("project", action)
        if spec.autonomy is not None:
            _, action = await put_thresholds(conn, project_id, spec.autonomy)
            report.add("autonomy settings", action)

        s = spec.style
        style_id, action = await upsert(
            conn,
            "generation_styles",
            {"project_id": project_id, "slug": s.slug},
            {
                "checkpoint": s.checkpoint,
                "lora_name": s.lora.name if s.lora else None,
                "lora_strength": s.lora.strength if s.lora else 1.0,
                "cfg": s.cfg,
                "steps": s.steps,
                "sampler": s.sampler,
                "scheduler": s.scheduler,
                "width": s.width,
                "height": s.height,
                "positive_template": s.positive_template,
                "negative_template": s.negative_template,
                "learning_bounds": s.learning_bounds.as_bounds() if s.learning_bounds else {},
            },
        )
        report.add("style", action)

        for i, c in enumerate(spec.characters):
            await _check_owner(conn, "characters", c.slug, project_id, f"characters[{i}].slug", spec_file)
            refs = [_store_reference(spec_file.parent / r, media_root, c.slug) for r in c.reference_images]
            _, action = await upsert(
                conn,
                "characters",
                {"slug": c.slug},
                {
                    "project_id": project_id,
                    "name": c.name,
                    "design_prompt": c.design_prompt,
                    "appearance_data": c.appearance.model_dump(),
                    "style_id": style_id,
                    "target_images": c.target_images,
                    "reference_images": refs,
                    "voice": c.voice.model_dump(exclude_none=True) if c.voice else {},
                },
            )
            report.add("character", action)

        t = spec.storyline
        _, action = await upsert(
            conn,
            "storylines",
            {"project_id": project_id},
            {"title": t.title, "logline": t.logline, "summary": t.summary, "themes": t.themes, "tone": t.tone},
        )
        report.add("storyline", action)
        if spec.world:
            w = spec.world
            _, action = await upsert(
                conn,
                "world_settings",
                {"project_id": project_id},
                {"name": w.name, "era": w.era, "description": w.description,
                 "locations": w.locations, "rules": w.rules},
            )
            report.add("world", action)

        scene_ids = await _import_scenes(conn, spec, project_id, spec_file, report)
        await _import_episodes(conn, spec, project_id, scene_ids, spec_file, report)
    return report


async def _import_scenes(conn, spec, project_id, spec_file, report) -> dict[str, int]:
    scene_ids = {}
    for i, sc in enumerate(spec.scenes):
        await _check_owner(conn, "scenes", sc.slug, project_id, f"scenes[{i}].slug", spec_file)
        scene_id, action = await upsert(
            conn,
            "scenes",
            {"slug": sc.slug},
            {"project_id": project_id, "title": sc.title, "description": sc.description,
             "location": sc.location, "time_of_day": sc.time_of_day, "mood": sc.mood, "music": sc.music},
        )
        report.add("scene", action)
        scene_ids[sc.slug] = scene_id
        for action, count in (await import_shots(conn, scene_id, sc.shots)).items():
            report.counts[f"shot {action}"] += count
    return scene_ids


async def _import_episodes(conn, spec, project_id, scene_ids, spec_file, report) -> None:
    for i, ep in enumerate(spec.episodes):
        await _check_owner(conn, "episodes", ep.slug, project_id, f"episodes[{i}].slug", spec_file)
        episode_id, action = await upsert(
            conn,
            "episodes",
            {"slug": ep.slug},
            {"project_id": project_id, "number": ep.number, "season": ep.season,
             "title": ep.title, "synopsis": ep.synopsis},
        )
        wanted = [(scene_ids[e.scene], k, e.transition, e.transition_s) for k, e in enumerate(ep.scenes, 1)]
        current = [
            (r["scene_id"], r["position"], r["transition"], round(r["transition_s"], 6))
            for r in await conn.fetch(
                "SELECT scene_id, position, transition, transition_s FROM episode_scenes "
                "WHERE episode_id = $1 ORDER BY position",
                episode_id,
            )
        ]
        if current != [(a, b, c, round(d, 6)) for a, b, c, d in wanted]:
            # A reorder would trip the (episode, scene) unique key row by row: replace the list whole.
            await conn.execute("DELETE FROM episode_scenes WHERE episode_id = $1", episode_id)
            await conn.executemany(
                "INSERT INTO episode_scenes (episode_id, scene_id, position, transition, transition_s) "
                "VALUES ($1, $2, $3, $4, $5)",
                [(episode_id, *w) for w in wanted],
            )
            if action == "unchanged":
                action = "updated"
        report.add("episode", action)
