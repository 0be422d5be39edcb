"""Everything the replenishment sensor needs about every character, in one query, and the new events.

The tick's number of round trips must not grow with the number of characters: per-character figures
are aggregates and LATERAL look-ups inside one statement, never a query per character.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from studio.domain import events
from studio.domain.replenishment import Thresholds

FACTS_SQL = """
WITH ch AS (
    SELECT c.id, c.slug, c.project_id, c.target_images,
           coalesce(ca.paused, false) AS paused, coalesce(ca.streak_after_image_id, 0) AS streak_after,
           coalesce(ca.drifting, false) AS drifting,
           coalesce(s.pause_after_auto_rejects, $2) AS pause_after, coalesce(s.drift_window, $3) AS drift_window
      FROM characters c
      LEFT JOIN character_autonomy ca ON ca.character_id = c.id
      LEFT JOIN autonomy_settings s ON s.project_id = c.project_id
     {only_character}
), counts AS (
    SELECT character_id, count(*) FILTER (WHERE status = 'approved') AS approved,
           count(*) FILTER (WHERE status = 'pending') AS pending,
           count(*) FILTER (WHERE status = 'rejected') AS rejected
      FROM images {only_its_rows} GROUP BY character_id
), batches AS (
    SELECT character_id, max(started_at) AS last_batch_at,
           count(*) FILTER (WHERE started_at >= $1) AS batches_today,
           coalesce(sum(gpu_seconds) FILTER (WHERE started_at >= $1), 0)::float8 AS gpu_today,
           coalesce(sum(gpu_seconds), 0)::float8 AS gpu_total, coalesce(sum(generated), 0) AS generated_total
      FROM generation_history {only_its_rows} GROUP BY character_id
)
SELECT ch.*, coalesce(n.approved, 0) AS approved, coalesce(n.pending, 0) AS pending,
       coalesce(n.rejected, 0) AS rejected,
       b.last_batch_at, coalesce(b.batches_today, 0) AS batches_today, coalesce(b.gpu_today, 0) AS gpu_today,
       coalesce(b.gpu_total, 0) AS gpu_total, coalesce(b.generated_total, 0) AS generated_total,
       streak.n AS auto_reject_streak, win.approved AS window_approved, win.decided AS window_decided,
       req.id AS request_id, req.run_key AS request_key, req.created_at AS request_at,
       req.details -> 'run_config' AS request_run_config,
       last.action AS last_action, last.details ->> 'code' AS last_code, last.created_at AS last_decided_at
  FROM ch
  LEFT JOIN counts n ON n.character_id = ch.id
  LEFT JOIN batches b ON b.character_id = ch.id
  -- Leading auto-rejects among the latest reviewed images since the last resume.
  CROSS JOIN LATERAL (
      SELECT coalesce(min(rn) FILTER (WHERE NOT auto_rejected) - 1, count(*)) AS n
        FROM (SELECT row_number() OVER (ORDER BY i.id DESC) AS rn,
                     (i.status = 'rejected' AND i.decided_by = 'auto') AS auto_rejected
                FROM images i
               WHERE i.character_id = ch.id AND i.id > ch.streak_after AND i.review IS NOT NULL
               ORDER BY i.id DESC LIMIT ch.pause_after) latest
  ) streak
  -- The drift test's recent window: the latest decided images. Decided is approved or rejected (the
  -- CHECK on images.status): the latest of each, read backwards from (character_id, status, id) and
  -- merged, hold the latest decided, without sorting every decided image of the character.
  CROSS JOIN LATERAL (
      SELECT count(*) FILTER (WHERE status = 'approved') AS approved, count(*) AS decided
        FROM (SELECT status FROM ((SELECT i.status, i.id FROM images i
                                    WHERE i.character_id = ch.id AND i.status = 'approved'
                                    ORDER BY i.id DESC LIMIT ch.drift_window)
                                  UNION ALL
                                  (SELECT i.status, i.id FROM images i
                                    WHERE i.character_id = ch.id AND i.status = 'rejected'
                                    ORDER BY i.id DESC LIMIT ch.drift_window)) decided
               ORDER BY id DESC LIMIT ch.drift_window) w
  ) win
  LEFT JOIN LATERAL (
      SELECT d.id, d.run_key, d.created_at, d.details FROM autonomy_decisions d
       WHERE d.character_id = ch.id AND d.kind = 'replenishment' AND d.run_key IS NOT NULL
       ORDER BY d.id DESC LIMIT 1
  ) req ON true
  LEFT JOIN LATERAL (
      SELECT d.action, d.details, d.created_at FROM autonomy_decisions d
       WHERE d.character_id = ch.id AND d.kind = 'replenishment'
       ORDER BY d.id DESC LIMIT 1
  ) last ON true
 ORDER BY ch.id
"""


# Two statements, not one with "$4 IS NULL OR ...": each gets its own plan, and the sensor's tick over
# every character stays as fast as before the one-character form existed.
ALL_FACTS_SQL = FACTS_SQL.format(only_character="", only_its_rows="")
ONE_FACTS_SQL = FACTS_SQL.format(only_character="WHERE c.id = $4", only_its_rows="WHERE character_id = $4")


async def read_facts(conn, day_start: datetime, character_id: int | None = None) -> list:
    """Every character's facts, or one character's (the same figures either way)."""
    defaults = Thresholds()
    args = (day_start, defaults.pause_after_auto_rejects, defaults.drift_window)
    if character_id is None:
        return await conn.fetch(ALL_FACTS_SQL, *args)
    return await conn.fetch(ONE_FACTS_SQL, *args, character_id)


@dataclass(frozen=True)
class NewEvents:
    cursor: int
    counts: dict[str, int]
    characters: int

    @property
    def total(self) -> int:
        return sum(self.counts.values())


async def events_since(conn, cursor: int) -> NewEvents:
    """What happened since the sensor last looked: counts by kind, how many characters, the new cursor."""
    rows = await conn.fetch(
        """SELECT kind, count(*) AS n, max(id) AS last_id, count(DISTINCT character_id) AS characters
             FROM studio_events WHERE id > $1 AND kind = ANY($2::text[]) GROUP BY kind""",
        cursor, [events.IMAGE_DECIDED, events.IMAGE_REVIEWED])
    return NewEvents(cursor=max([cursor, *(r["last_id"] for r in rows)]),
                     counts={r["kind"]: r["n"] for r in rows},
                     characters=max([0, *(r["characters"] for r in rows)]))
