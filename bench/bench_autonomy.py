"""Replenishment sensor and learner figures on a real embedded PostgreSQL and a real Dagster instance.

- sensor_tick_s: one evaluation of replenishment_sensor (build_sensor_context, the real StudioDatabase
  resource) with 1,000 characters, 200,000 images and 10,000 new review events; every character is below
  target, so it is the worst tick: 1,000 decisions written and 1,000 parameter choices (goal <= 1 s).
- sensor_tick_queries: SQL round trips of that tick's plain code at 1,000 characters; the figure at 100
  characters (sensor_tick_queries_100) must be the same: the count does not grow with characters.
- learning_gain: the simulated world (studio/autonomy/simulation.py), 3 worlds x 60 batches of 3: approval
  rate of the last 5 batches over the first 5, pooled over the worlds (goal >= 1.5).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg

from bench.results import record
from studio.autonomy.simulation import learning_gain, simulate
from studio.autonomy.tick import replenishment_tick
from studio.datasets import repository
from studio.db.embedded import ensure_database, start_embedded_server, stop_embedded_server
from studio.db.migrate import migrate, migrate_once
from studio.db.pool import connect, create_pool
from studio.spec.importer import import_project
from studio.spec.validation import load_spec

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "examples" / "lantern_harbor.yaml"


class CountingConnection:
    """An asyncpg connection that counts the statements sent (each is one round trip)."""

    COUNTED = ("fetch", "fetchrow", "fetchval", "execute", "executemany")

    def __init__(self, conn):
        self._conn, self.round_trips = conn, 0

    def __getattr__(self, name):
        attr = getattr(self._conn, name)
        if name in self.COUNTED:
            self.round_trips += 1
        elif name == "transaction":
            self.round_trips += 2  # BEGIN and COMMIT
        return attr


class NoRuns:
    def in_progress_partitions(self):
        return set()

    def seen_run_keys(self, keys):
        return set()


async def seed(url: str, characters: int, images_per: int, events: int) -> None:
    async with connect(url) as conn:
        await migrate(conn)
        spec = load_spec(SPEC)
        await import_project(conn, spec, SPEC, Path(tempfile.mkdtemp()))
        project, style = await conn.fetchrow("SELECT p.id, s.id FROM projects p JOIN generation_styles s "
                                             "ON s.project_id = p.id")
        await conn.execute(
            """INSERT INTO characters (project_id, slug, name, design_prompt, style_id, target_images)
               SELECT $1, 'c' || n, 'C ' || n, 'a character', $2, 500 FROM generate_series(1, $3) n""",
            project, style, characters)
        await conn.execute(
            """INSERT INTO images (character_id, file_path, sha256, phash, status, decided_by, review, dagster_run_id)
               SELECT c.id, c.slug || '/' || n, md5(c.slug || '/' || n), n,
                      CASE WHEN n % 20 = 0 THEN 'pending' WHEN n % 2 = 0 THEN 'rejected' ELSE 'approved' END,
                      CASE WHEN n % 20 = 0 THEN NULL ELSE 'auto' END,
                      '{"solo": true, "checklist": [{"item": "sharp", "passed": false}]}'::jsonb,
                      'run-' || c.slug || '-' || (n % 3)
                 FROM characters c, generate_series(1, $1) n WHERE c.slug LIKE 'c%'""", images_per)
        await conn.execute(
            """INSERT INTO generation_history (character_id, dagster_run_id, status, requested, generated, backend,
                                               gpu_seconds, started_at, parameters, strategy)
               SELECT c.id, 'run-' || c.slug || '-' || k, 'succeeded', 3, 3, 'preview', 1.0,
                      now() - make_interval(hours => 2 + k),
                      jsonb_build_object('used', jsonb_build_object('checkpoint', 'animagine-xl-3.1.safetensors',
                          'cfg', 6.5, 'steps', 28 + k, 'sampler', 'euler', 'scheduler', 'normal', 'width', 832,
                          'height', 1216, 'ipadapter_weight', 0.7)), CASE WHEN k = 1 THEN 'raise_steps' END
                 FROM characters c, generate_series(0, 2) k WHERE c.slug LIKE 'c%'""")
        await conn.execute(
            """INSERT INTO studio_events (kind, character_id, image_id, payload)
               SELECT 'image_reviewed', i.character_id, i.id, '{}'::jsonb
                 FROM images i ORDER BY i.id LIMIT $1""", events)
        await conn.execute("VACUUM ANALYZE")


async def count_queries(url: str) -> int:
    async with connect(url) as conn:
        counting = CountingConnection(conn)
        await replenishment_tick(counting, NoRuns(), cursor=0, now=datetime.now(timezone.utc))
        return counting.round_trips


async def _migrated_once(url: str) -> None:
    async with connect(url) as conn:
        await migrate_once(conn, url)


def time_sensor(url: str, characters: int) -> float:
    """Seconds of one evaluation that finds every character below target (the busiest tick)."""
    from anime_assets.definitions import defs
    from resources.database import StudioDatabase

    sensor = defs.resolve_sensor_def("replenishment_sensor")
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", [f"c{n}" for n in range(1, characters + 1)])
        with dg.build_sensor_context(instance=instance, cursor="0",
                                     resources={"database": StudioDatabase(url=url)}) as context:
            started = time.perf_counter()
            result = sensor(context)
            elapsed = time.perf_counter() - started
    assert len(result.run_requests) >= characters, "every character is below target: each gets a batch"
    return elapsed


async def learning(url: str, media: Path, worlds: int = 3, batches: int = 60) -> float:
    pool = await create_pool(url)
    try:
        character = await repository.load_character(pool, "mika")
        pooled = []
        for world in range(worlds):
            await pool.execute("DELETE FROM images WHERE character_id = $1", character.id)
            await pool.execute("DELETE FROM generation_history WHERE character_id = $1", character.id)
            pooled.append(await simulate(pool, character, media, batches=batches, seed=world))
        first = [b for results in pooled for b in results[:5]]
        last = [b for results in pooled for b in results[-5:]]
        return learning_gain(first + last, window=5 * worlds)
    finally:
        await pool.close()


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="bench_autonomy_"))
    server = start_embedded_server(home / "pg")
    try:
        small = asyncio.run(ensure_database(server, "autonomy_small"))
        large = asyncio.run(ensure_database(server, "autonomy_large"))
        sim = asyncio.run(ensure_database(server, "autonomy_sim"))
        asyncio.run(seed(small, 100, 200, 1_000))
        asyncio.run(seed(large, 1_000, 200, 10_000))
        # A daemon ticks again and again: the first tick in a process pays for imports and for checking
        # each database's migrations (once per process), neither measured.
        time_sensor(small, 100)
        asyncio.run(_migrated_once(large))
        tick_s = time_sensor(large, 1_000)  # before count_queries writes its decisions
        queries_100, queries_1000 = asyncio.run(count_queries(small)), asyncio.run(count_queries(large))
        async def import_sim():
            async with connect(sim) as conn:
                await migrate(conn)
                await import_project(conn, load_spec(SPEC), SPEC, home / "media")
        asyncio.run(import_sim())
        gain = asyncio.run(learning(sim, home / "media"))
    finally:
        stop_embedded_server(home / "pg")
    record({"sensor_tick_s": round(tick_s, 3), "sensor_tick_queries": queries_1000,
            "sensor_tick_queries_100": queries_100, "learning_gain": round(gain, 2)})


if __name__ == "__main__":
    main()
