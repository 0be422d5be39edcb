"""`GET /metrics` in Prometheus' text format: requests, latencies, the review queue and GPU time.

One registry per app (tests build many apps in one process). Request figures are counted by the
request-context middleware per route template, so an image id never becomes a label; a request
refused before routing (Host, origin, auth, body checks) counts under route="unmatched". Queue sizes
and GPU seconds are read from the database when scraped; with the database away the scrape still
answers, with `studio_database_up 0`.
"""

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from api.lazy_route import LazyAPIRoute

SCRAPE_DB_TIMEOUT_S = 2.0
LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

QUEUE_SQL = "SELECT status, count(*) AS n FROM images GROUP BY status"
GPU_SQL = """SELECT (SELECT coalesce(sum(gpu_seconds), 0) FROM images)::float8 AS images,
                    (SELECT coalesce(sum(gpu_seconds), 0) FROM shots)::float8 AS shots"""


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("studio_http_requests", "HTTP requests answered",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("studio_http_request_duration_seconds", "time to answer an HTTP request",
                                 ["method", "route"], buckets=LATENCY_BUCKETS, registry=self.registry)
        self.images = Gauge("studio_review_images", "images by review status", ["status"], registry=self.registry)
        self.gpu_seconds = Gauge("studio_gpu_seconds", "GPU seconds spent, by what they made", ["kind"],
                                 registry=self.registry)
        self.database_up = Gauge("studio_database_up", "1 when the last scrape could read the database",
                                 registry=self.registry)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    async def refresh_from_database(self, pool) -> None:
        try:
            async with asyncio.timeout(SCRAPE_DB_TIMEOUT_S):
                queue = await pool.fetch(QUEUE_SQL)
                gpu = await pool.fetchrow(GPU_SQL)
        except Exception:  # the scrape reports the database as down instead of failing
            self.database_up.set(0)
            return
        self.database_up.set(1)
        counts = {row["status"]: row["n"] for row in queue}
        for status in ("pending", "approved", "rejected"):
            self.images.labels(status).set(counts.get(status, 0))
        self.gpu_seconds.labels("images").set(gpu["images"])
        self.gpu_seconds.labels("shots").set(gpu["shots"])


router = APIRouter(tags=["operations"], route_class=LazyAPIRoute)


@router.get("/metrics", response_class=Response,
            responses={200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {"schema": {"type": "string"}}},
                             "description": "Prometheus text format"}})
async def metrics(request: Request) -> Response:
    figures: Metrics = request.app.state.metrics
    await figures.refresh_from_database(request.app.state.pool)
    return Response(generate_latest(figures.registry), media_type=CONTENT_TYPE_LATEST)
