"""The autonomy loop as seen and steered by a person: replenishment status, pause/resume, per-project
settings, learning, recommendations, drift, correction strategies, the decision log and event stats.

Plain code does the work (studio/autonomy/, studio/domain/); this router maps HTTP onto it.
"""

import random
from datetime import datetime, timezone
import asyncpg
from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import Field

from api.deps import get_pool
from api.lazy_route import LazyAPIRoute
from api.schemas.base import ApiInput
from api.schemas.bounds import EXACT_INT_MAX, Boolean, JsonInteger, JsonNumber
from studio.autonomy.settings import ThresholdChanges, all_thresholds, get_thresholds, project_id, put_thresholds
from studio.domain.replenishment import Thresholds, start_of_day

router = APIRouter(prefix="/api/autonomy", tags=["autonomy"], route_class=LazyAPIRoute)


# The loop's own code (its facts, decisions, learning store and drift) loads when one of these routes
# is asked, not at every start of the service: no review request needs it. The settings above stay,
# as a route's body is one of their models.
def _facts():
    from studio.autonomy import facts

    return facts


def _control():
    from studio.autonomy import decisions

    return decisions


def _learning():
    from studio.autonomy import learning_store

    return learning_store


class LearningUpdate(ApiInput):
    learning_enabled: Boolean | None = None
    pins: dict[str, str | JsonInteger | JsonNumber] | None = None


class Who(ApiInput):
    by: str = Field("api", min_length=1, max_length=200)


async def _project(conn, slug: str) -> int:
    found = await project_id(conn, slug)
    if found is None:
        raise HTTPException(404, f"project {slug!r} not found")
    return found


async def _character_id(pool, slug: str) -> int:
    found = await pool.fetchval("SELECT id FROM characters WHERE slug = $1", slug)
    if found is None:
        raise HTTPException(404, f"character {slug!r} not found")
    return found


@router.get("/status")
async def replenishment_status(project: str | None = Query(None), pool: asyncpg.Pool = Depends(get_pool)) -> list[dict]:
    """Per character: counts, the last decision with its guard values, next eligible time, paused, drifting."""
    async with pool.acquire() as conn:
        only = await _project(conn, project) if project else None
        rows = await _facts().read_facts(conn, start_of_day(datetime.now(timezone.utc)))
        last = {r["character_id"]: r for r in await conn.fetch(
            """SELECT DISTINCT ON (character_id) character_id, action, reason, details, created_at
                 FROM autonomy_decisions WHERE kind = 'replenishment' ORDER BY character_id, id DESC""")}
    out = []
    for r in rows:
        if only is not None and r["project_id"] != only:
            continue
        decision = last.get(r["id"])
        out.append({"character": r["slug"], "approved": r["approved"], "pending": r["pending"],
                    "rejected": r["rejected"], "target": r["target_images"], "paused": r["paused"],
                    "drifting": r["drifting"], "auto_reject_streak": r["auto_reject_streak"],
                    "batches_today": r["batches_today"],
                    "last_batch_at": r["last_batch_at"].isoformat() if r["last_batch_at"] else None,
                    "last_decision": None if decision is None else {
                        "action": decision["action"], "reason": decision["reason"],
                        "code": decision["details"].get("code"), "guards": decision["details"].get("guards"),
                        "at": decision["created_at"].isoformat()},
                    "next_eligible_at": decision["details"].get("next_eligible_at") if decision else None})
    return out


@router.post("/characters/{slug}/pause")
async def pause(slug: str, body: Who = Who(), pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    return await _set_paused(pool, slug, True, body.by)


@router.post("/characters/{slug}/resume")
async def resume(slug: str, body: Who = Who(), pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    return await _set_paused(pool, slug, False, body.by)


async def _set_paused(pool, slug: str, paused: bool, who: str) -> dict:
    control = _control()
    async with pool.acquire() as conn:
        try:
            await control.set_paused(conn, slug, paused, who)
        except control.UnknownCharacter as exc:
            raise HTTPException(404, str(exc)) from None
    return {"character": slug, "paused": paused}


@router.get("/projects/{slug}/settings")
async def project_settings(slug: str, pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    async with pool.acquire() as conn:
        return (await get_thresholds(conn, await _project(conn, slug))).as_dict()


@router.patch("/projects/{slug}/settings")
async def change_settings(slug: str, body: ThresholdChanges, pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    """Change some thresholds; the same write as a spec's `autonomy:` section on `studio import`."""
    async with pool.acquire() as conn:
        project = await _project(conn, slug)
        thresholds, _ = await put_thresholds(conn, project, body)
        return thresholds.as_dict()


@router.get("/characters/{slug}/learning", responses={409: {"description": "the character has no generation style"}})
async def learning_settings(slug: str, pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    """Whether the character learns, its pins, and the values learning may try (and a pin may take)
    within its style's bounds."""
    from studio.domain.learning import DIMENSIONS

    learning_store = _learning()
    character_id = await _character_id(pool, slug)
    async with pool.acquire() as conn:
        data = await learning_store.load_learning_data(conn, [character_id])
    row = data.styles.get(character_id)
    if row is None:
        raise HTTPException(409, f"character {slug!r} has no generation style")
    space = data.space(learning_store.style_params(row), row["learning_bounds"])
    return {"character": slug, "learning_enabled": row["learning_enabled"], "pins": row["pins"],
            "candidates": {d: list(space.values(d)) for d in DIMENSIONS}}


@router.patch("/characters/{slug}/learning")
async def change_learning(slug: str, body: LearningUpdate, pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    from studio.domain.learning import validate_pins

    learning_store = _learning()
    character_id = await _character_id(pool, slug)
    async with pool.acquire() as conn:
        if body.pins is not None:
            data = await learning_store.load_learning_data(conn, [character_id])
            row = data.styles.get(character_id)
            if row is None:
                raise HTTPException(409, f"character {slug!r} has no generation style")
            try:  # pins must lie inside the style's bounds
                space = data.space(learning_store.style_params(row), row["learning_bounds"])
                pins = validate_pins(space, body.pins)
            except ValueError as exc:
                raise HTTPException(409, str(exc)) from None  # outside this style's bounds: state, not shape
        else:
            pins = None
        await _control().set_learning(conn, slug, who="api", learning_enabled=body.learning_enabled, pins=pins)
        row = await conn.fetchrow("SELECT learning_enabled, pins FROM character_autonomy WHERE character_id = $1",
                                  character_id)
    return {"character": slug, "learning_enabled": row["learning_enabled"], "pins": row["pins"]}


@router.get("/characters/{slug}/recommendation", responses={409: {"description": "the character has no generation style"}})
async def recommendation(slug: str, pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    """The parameters the next batch would get now (one Thompson draw; the sensor draws its own)."""
    learning_store = _learning()
    character_id = await _character_id(pool, slug)
    async with pool.acquire() as conn:
        data = await learning_store.load_learning_data(conn, [character_id])
        project = await conn.fetchval("SELECT project_id FROM characters WHERE id = $1", character_id)
        thresholds = (await all_thresholds(conn)).get(project, Thresholds())
    chosen = learning_store.recommend_one(data, character_id, random.Random(),
                                          project_learning=thresholds.learning_enabled)
    if chosen is None:
        raise HTTPException(409, f"character {slug!r} has no generation style")
    return chosen


LEARNING_SQL = """
SELECT gh.parameters -> 'used' AS parameters, count(DISTINCT gh.id) AS batches,
       count(i.id) FILTER (WHERE i.status = 'approved') AS approved,
       count(i.id) FILTER (WHERE i.status = 'rejected') AS rejected
  FROM generation_history gh JOIN characters c ON c.id = gh.character_id
  LEFT JOIN images i ON i.character_id = gh.character_id AND i.dagster_run_id = gh.dagster_run_id
 WHERE gh.parameters IS NOT NULL AND ($1::text IS NULL OR c.slug = $1)
 GROUP BY 1 ORDER BY approved DESC, batches DESC
"""


def _rate(approved: int, rejected: int) -> float | None:
    return round(approved / (approved + rejected), 4) if approved + rejected else None


@router.get("/learning")
async def learning(character: str | None = Query(None), pool: asyncpg.Pool = Depends(get_pool)) -> list[dict]:
    """Approval rate per parameter set (all characters, or one)."""
    if character:
        await _character_id(pool, character)
    rows = await pool.fetch(LEARNING_SQL, character)
    return [{"parameters": r["parameters"], "batches": r["batches"], "approved": r["approved"],
             "rejected": r["rejected"], "approval_rate": _rate(r["approved"], r["rejected"])} for r in rows]


@router.get("/strategies")
async def strategies(pool: asyncpg.Pool = Depends(get_pool)) -> list[dict]:
    """Each correction strategy's measured effect: approval rate of the batches that used it."""
    rows = await pool.fetch(
        """SELECT coalesce(gh.strategy, 'none') AS strategy, count(DISTINCT gh.id) AS batches,
                  count(i.id) FILTER (WHERE i.status = 'approved') AS approved,
                  count(i.id) FILTER (WHERE i.status = 'rejected') AS rejected
             FROM generation_history gh
             LEFT JOIN images i ON i.character_id = gh.character_id AND i.dagster_run_id = gh.dagster_run_id
            WHERE gh.parameters IS NOT NULL GROUP BY 1 ORDER BY 1""")
    return [{**dict(r), "approval_rate": _rate(r["approved"], r["rejected"])} for r in rows]


@router.get("/drift")
async def drift(pool: asyncpg.Pool = Depends(get_pool)) -> list[dict]:
    from studio.autonomy.drift_status import drift_of

    async with pool.acquire() as conn:
        rows = await _facts().read_facts(conn, start_of_day(datetime.now(timezone.utc)))
        thresholds = await all_thresholds(conn)
    out = []
    for r in rows:
        result = drift_of(r, thresholds.get(r["project_id"], Thresholds()))
        out.append({"character": r["slug"], "recorded_drifting": r["drifting"], **result.as_dict()})
    return out


@router.get("/decisions")
async def decision_log(character: str | None = None, kind: str | None = None, action: str | None = None,
                       before_id: int | None = Query(None, ge=1, le=EXACT_INT_MAX, description="keyset: ids below this one"),
                       limit: int = Query(50, ge=1, le=500), pool: asyncpg.Pool = Depends(get_pool)) -> dict:
    rows = await pool.fetch(
        """SELECT d.id, c.slug AS character, d.kind, d.action, d.reason, d.details, d.run_key, d.created_at
             FROM autonomy_decisions d LEFT JOIN characters c ON c.id = d.character_id
            WHERE ($1::text IS NULL OR c.slug = $1) AND ($2::text IS NULL OR d.kind = $2)
              AND ($3::text IS NULL OR d.action = $3) AND ($4::bigint IS NULL OR d.id < $4)
            ORDER BY d.id DESC LIMIT $5""", character, kind, action, before_id, limit)
    items = [{**dict(r), "created_at": r["created_at"].isoformat()} for r in rows]
    return {"items": items, "next_before_id": items[-1]["id"] if len(items) == limit else None}


@router.get("/events")
async def event_stats(since_id: int = Query(0, ge=0, le=EXACT_INT_MAX), pool: asyncpg.Pool = Depends(get_pool)) -> list[dict]:
    rows = await pool.fetch(
        """SELECT kind, count(*) AS events, count(DISTINCT character_id) AS characters, max(id) AS last_id,
                  max(created_at) AS last_at
             FROM studio_events WHERE id > $1 GROUP BY kind ORDER BY kind""", since_id)
    return [{**dict(r), "last_at": r["last_at"].isoformat()} for r in rows]
