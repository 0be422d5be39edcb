"""The episode rows assembly and publishing read and write (migration 0007)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import asyncpg

from studio.domain.jellyfin_layout import EpisodeIdentity


class EpisodeNotFound(LookupError):
    pass


@dataclass(frozen=True)
class EpisodeRecord:
    id: int
    slug: str
    project: str
    show: str
    year: int
    season: int
    number: int
    title: str
    synopsis: str
    aired: dt.date | None
    scenes: list[dict]  # [{position, scene, title, transition, transition_s}]

    @property
    def identity(self) -> EpisodeIdentity:
        return EpisodeIdentity(self.show, self.year, self.season, self.number, self.title)


async def load_episode(conn: asyncpg.Connection, slug: str) -> EpisodeRecord:
    row = await conn.fetchrow(
        """SELECT e.id, e.slug, e.season, e.number, e.title, e.synopsis, e.aired, p.slug AS project, p.name AS show,
                  COALESCE(p.premiere_year, extract(year FROM p.created_at)::int) AS year
             FROM episodes e JOIN projects p ON p.id = e.project_id WHERE e.slug = $1""", slug)
    if row is None:
        raise EpisodeNotFound(f"episode {slug!r} is not in the studio database")
    scenes = await conn.fetch(
        """SELECT es.position, s.slug AS scene, s.title, es.transition, es.transition_s::float8 AS transition_s
             FROM episode_scenes es JOIN scenes s ON s.id = es.scene_id WHERE es.episode_id = $1
            ORDER BY es.position""", row["id"])
    return EpisodeRecord(row["id"], row["slug"], row["project"], row["show"], row["year"], row["season"],
                         row["number"], row["title"], row["synopsis"], row["aired"], [dict(s) for s in scenes])


async def save_render(conn: asyncpg.Connection, episode_id: int, values: dict) -> None:
    await conn.execute(
        """INSERT INTO episode_renders (episode_id, file_path, thumbnail_path, subtitles_path, sha256, duration_s,
                                        integrated_lufs, true_peak_dbtp, normalization_type, copy_only, scenes,
                                        gpu_seconds, dagster_run_id, assembled_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, now())
           ON CONFLICT (episode_id) DO UPDATE SET
             file_path = EXCLUDED.file_path, thumbnail_path = EXCLUDED.thumbnail_path,
             subtitles_path = EXCLUDED.subtitles_path, sha256 = EXCLUDED.sha256, duration_s = EXCLUDED.duration_s,
             integrated_lufs = EXCLUDED.integrated_lufs, true_peak_dbtp = EXCLUDED.true_peak_dbtp,
             normalization_type = EXCLUDED.normalization_type, copy_only = EXCLUDED.copy_only,
             scenes = EXCLUDED.scenes, gpu_seconds = EXCLUDED.gpu_seconds, dagster_run_id = EXCLUDED.dagster_run_id,
             assembled_at = now()""",
        episode_id, values["file_path"], values.get("thumbnail_path"), values.get("subtitles_path"),
        values["sha256"], values["duration_s"], values.get("integrated_lufs"), values.get("true_peak_dbtp"),
        values["normalization_type"], values["copy_only"], json.dumps(values["scenes"]),
        values.get("gpu_seconds", 0.0), values.get("dagster_run_id"))


async def load_render(conn: asyncpg.Connection, slug: str) -> dict | None:
    row = await conn.fetchrow(
        """SELECT r.*, r.duration_s::float8 AS duration_s, r.integrated_lufs::float8 AS integrated_lufs,
                  r.true_peak_dbtp::float8 AS true_peak_dbtp, r.gpu_seconds::float8 AS gpu_seconds
             FROM episode_renders r JOIN episodes e ON e.id = r.episode_id WHERE e.slug = $1""", slug)
    if row is None:
        return None
    render = dict(row)
    render["scenes"] = json.loads(render["scenes"])
    return render


async def load_publication(conn: asyncpg.Connection, episode_id: int) -> dict | None:
    row = await conn.fetchrow("SELECT * FROM episode_publications WHERE episode_id = $1", episode_id)
    if row is None:
        return None
    publication = dict(row)
    publication["files"] = json.loads(publication["files"])
    return publication


async def save_publication(conn: asyncpg.Connection, episode_id: int, values: dict) -> None:
    await conn.execute(
        """INSERT INTO episode_publications (episode_id, library_root, files, video_path, link_mode, render_sha256,
                                             announced_at, announce_error, published_at)
           VALUES ($1, $2, $3::jsonb, $4, $5, $6, $7, $8, now())
           ON CONFLICT (episode_id) DO UPDATE SET
             library_root = EXCLUDED.library_root, files = EXCLUDED.files, video_path = EXCLUDED.video_path,
             link_mode = EXCLUDED.link_mode, render_sha256 = EXCLUDED.render_sha256,
             announced_at = EXCLUDED.announced_at, announce_error = EXCLUDED.announce_error, published_at = now()""",
        episode_id, values["library_root"], json.dumps(values["files"]), values["video_path"], values["link_mode"],
        values["render_sha256"], values.get("announced_at"), values.get("announce_error"))
