"""Where a long step records its progress for the runs API (table run_progress, migration 0009).

One upsert per item: cheap next to an image's seconds of GPU time, and it is only ever the run's own
row, so nothing waits on it.
"""

from __future__ import annotations

import asyncpg

from studio.domain.progress import Progress


async def start_progress(conn: asyncpg.Connection, run_id: str, step: str, total: int) -> None:
    await conn.execute(
        """INSERT INTO run_progress (dagster_run_id, step, total) VALUES ($1, $2, $3)
           ON CONFLICT (dagster_run_id, step) DO UPDATE
              SET done = 0, total = EXCLUDED.total, counts = '{}'::jsonb, last_item = '',
                  started_at = now(), updated_at = now()""",
        run_id, step, total)


async def record_progress(conn: asyncpg.Connection, run_id: str, step: str, done: int, counts: dict,
                          last_item: str) -> None:
    await conn.execute(
        """UPDATE run_progress SET done = $3, counts = $4::jsonb, last_item = $5, updated_at = now()
            WHERE dagster_run_id = $1 AND step = $2""",
        run_id, step, done, counts, last_item)  # the pool's jsonb codec encodes


async def run_progress(conn: asyncpg.Connection, run_id: str) -> list[dict]:
    """Every step's progress of a run, oldest first, with the ETA at the pace so far."""
    rows = await conn.fetch(
        """SELECT step, done, total, counts, last_item, started_at, updated_at,
                  extract(epoch FROM updated_at - started_at) AS elapsed_s
             FROM run_progress WHERE dagster_run_id = $1 ORDER BY started_at""", run_id)
    result = []
    for row in rows:
        progress = Progress(row["done"], row["total"], float(row["elapsed_s"] or 0.0))
        result.append({"step": row["step"], "done": row["done"], "total": row["total"],
                       "counts": row["counts"], "last_item": row["last_item"],
                       "eta_s": None if progress.eta_s is None else round(progress.eta_s, 1),
                       "updated_time": row["updated_at"].timestamp()})
    return result
