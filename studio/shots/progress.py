"""A scene render's progress, shot by shot: a run-log line with the time left, and the row the runs
API reads (studio/run_progress.py).

The time left is the video still to come (every later shot, an upper bound: unchanged shots are
skipped in seconds) times the GPU seconds per second of video measured on this backend: this
project's earlier renders and this run's shots, or the renderer's planning figure until one exists.
"""

from __future__ import annotations

import logging
from collections import Counter

import asyncpg

from studio.db.retry import one_statement
from studio.domain.shot_rendering import gpu_seconds_per_video_second, remaining_seconds
from studio.run_progress import record_progress, start_progress
from studio.shots import repository

STEP = "shot_clips"


def time_left(seconds: float) -> str:
    return f"about {seconds / 60:.1f} min left" if seconds >= 90 else f"about {seconds:.0f} s left"


class SceneProgress:
    def __init__(self, pool: asyncpg.Pool, run_id: str | None, log: logging.Logger, durations: list[float],
                 measured: list[tuple[float, float]], default_rate: float):
        self.pool, self.run_id, self.log = pool, run_id, log
        self.durations, self.measured, self.default_rate = durations, measured, default_rate
        self.counts: Counter = Counter()

    @classmethod
    async def start(cls, pool: asyncpg.Pool, run_id: str | None, log: logging.Logger, project_id: int,
                    renderer, durations: list[float]) -> "SceneProgress":
        async with pool.acquire() as conn:
            measured = await repository.measured_rates(conn, project_id, renderer.backend)
            if run_id:
                await start_progress(conn, run_id, STEP, len(durations))
        return cls(pool, run_id, log, durations, measured, renderer.default_gpu_seconds_per_video_second)

    @property
    def rate(self) -> float:
        """GPU seconds per second of video."""
        return gpu_seconds_per_video_second(self.measured, self.default_rate)

    async def shot_done(self, index: int, key: str, outcome: str, detail: str = "",
                        gpu_seconds: float | None = None, video_seconds: float | None = None) -> None:
        if gpu_seconds is not None and video_seconds:
            self.measured.append((gpu_seconds, video_seconds))
        self.counts[outcome] += 1
        left = remaining_seconds(self.durations[index + 1:], self.rate)
        done, total = index + 1, len(self.durations)
        self.log.info("shot %d/%d %s: %s%s; %s", done, total, key, outcome, detail,
                      time_left(left) if done < total else "scene done")
        if self.run_id:
            counts = dict(self.counts)
            await one_statement(self.pool, lambda conn: record_progress(conn, self.run_id, STEP, done, counts,
                                                                        f"{key}: {outcome}"), log=self.log)
