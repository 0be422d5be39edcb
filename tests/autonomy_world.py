"""Helpers of the autonomy tests: the example project in a real DB, sensor ticks on a real instance."""

from __future__ import annotations

import asyncio

import dagster as dg

from anime_assets.definitions import defs
from resources.database import StudioDatabase
from studio.db.pool import connect

JOB = defs.resolve_job_def("dataset_batch_job")


def sql(db_url: str, query: str, *args):
    async def go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(query, *args)]
    return asyncio.run(go())


def on_conn(db_url: str, work):
    async def go():
        async with connect(db_url) as conn:
            return await work(conn)
    return asyncio.run(go())


class Ticker:
    """Evaluates the replenishment sensor like the daemon: cursor kept, launches are up to the test."""

    def __init__(self, instance: dg.DagsterInstance, db_url: str):
        self.instance, self.db_url, self.cursor = instance, db_url, None
        self.sensor = defs.resolve_sensor_def("replenishment_sensor")

    def tick(self) -> dg.SensorResult:
        resources = {"database": StudioDatabase(url=self.db_url)}
        with dg.build_sensor_context(instance=self.instance, cursor=self.cursor, resources=resources) as context:
            result = self.sensor(context)
        self.cursor = result.cursor
        return result

    def launch(self, request: dg.RunRequest, status=dg.DagsterRunStatus.NOT_STARTED) -> dg.DagsterRun:
        """What the daemon does with a request: a run with its tags, unless that run key already ran."""
        existing = self.instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": request.run_key}))
        if existing:
            return existing[0]
        tags = {**request.tags, "dagster/run_key": request.run_key, "dagster/partition": request.partition_key}
        return self.instance.create_run_for_job(JOB, run_config=request.run_config, tags=tags, status=status)


def requested(result: dg.SensorResult) -> dict[str, dg.RunRequest]:
    return {r.partition_key: r for r in result.run_requests or []}


def add_images(db_url: str, slug: str, statuses: list[str], decided_by: str | None = "auto",
               reviewed: bool = True) -> None:
    sql(db_url, """INSERT INTO images (character_id, file_path, sha256, phash, status, decided_by, review)
                   SELECT c.id, 't/' || md5(random()::text), md5(random()::text), 0, s,
                          CASE WHEN s = 'pending' THEN NULL ELSE $3 END,
                          CASE WHEN $4 THEN '{"solo": true, "checklist": [{"item": "sharp", "passed": false}]}'::jsonb END
                     FROM characters c, unnest($2::text[]) WITH ORDINALITY AS u(s, n)
                    WHERE c.slug = $1 ORDER BY n""", slug, statuses, decided_by, reviewed)


def add_history(db_url: str, slug: str, age_s: float, gpu_seconds: float = 0.0) -> None:
    sql(db_url, """INSERT INTO generation_history (character_id, requested, backend, status, gpu_seconds, started_at)
                   SELECT id, 3, 'preview', 'succeeded', $3, now() - make_interval(secs => $2)
                     FROM characters WHERE slug = $1""", slug, age_s, gpu_seconds)


def set_settings(db_url: str, **changes) -> None:
    from studio.autonomy.settings import put_thresholds

    async def work(conn):
        project = await conn.fetchval("SELECT id FROM projects WHERE slug = 'lantern-harbor'")
        await put_thresholds(conn, project, changes)
    on_conn(db_url, work)
