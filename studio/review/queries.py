"""Reading images: the review queue and the gallery (pages by keyset), per-character counts and
summaries, one image's provenance.

Pages are ordered by image id (the gallery's newest first) and continue after the last id seen (the
cursor), never by OFFSET: a page deep in a 100,000-image queue costs the same as the first one, and
decisions made while a person pages through do not shift later pages. The WHERE clause is built from the filters actually
given, so each query shape gets a plan that uses `images_character_status_idx (character_id,
status, id)` or `images_status_id_idx (status, id)` instead of one generic plan for every filter.

PostgreSQL renders each image as JSON (`IMAGE_JSON`, the shape of api.schemas.review.ImageOut) and
the page is those documents joined: decoding 50 rows of 17 columns into Python objects, validating
them and encoding them again was most of the page's cost, and the review page asks for it constantly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from studio.domain.appearance import NON_HUMAN_MARKER

STATUSES = ("pending", "approved", "rejected")
MAX_PAGE = 200
BIGINT_MAX = 2**63 - 1  # images.id is a bigint: a cursor past it names no image and cannot be bound
# studio.domain.appearance.is_human_species in SQL (tests/test_rules_agree.py checks they agree).
NON_HUMAN_SQL = f"coalesce(c.appearance_data->>'species', '') ILIKE '%{NON_HUMAN_MARKER}%'"

# One image as the API returns it (api.schemas.review.ImageOut; tests/test_review_api checks the two agree),
# as (key, SQL expression, quoted). A quoted value goes through to_json (strings, timestamps); the
# text form of the others already is their JSON (numbers, booleans, the stored `review` document,
# which passes through unchanged).
IMAGE_FIELDS = (
    ("id", "i.id", False), ("character", "c.slug", True), ("character_name", "c.name", True),
    ("project", "p.slug", True), ("status", "i.status", True), ("quality_score", "i.quality_score", False),
    ("review", "i.review", False), ("species", "c.appearance_data->>'species'", True),
    ("non_human", NON_HUMAN_SQL, False), ("prompt", "i.prompt", True), ("seed", "i.seed", False),
    ("created_at", "i.created_at", True), ("decided_by", "i.decided_by", True), ("reviewer", "i.reviewer", True),
    ("reviewed_at", "i.reviewed_at", True), ("source", "i.source", True),
    ("image_url", "'/api/images/' || i.id || '/file'", True), ("thumb_url", "'/api/images/' || i.id || '/thumb'", True),
)


def json_object_sql(fields) -> str:
    """A JSON object built by joining text: json_build_object looks up every argument's type and
    output function again for every row (36 per image), which was two thirds of PostgreSQL's time
    for a page; joining text costs a third less for the same document."""
    parts = []
    for number, (key, expression, quoted) in enumerate(fields):
        value = f"to_json({expression})::text" if quoted else f"({expression})::text"
        parts.append(f"'{',' if number else '{'}\"{key}\":' || coalesce({value}, 'null')")
    return "(" + " || ".join(parts) + " || '}')"


# As UTF-8 bytes (bytea): the page is joined and sent as bytes, never decoded into str and encoded
# back (a name outside Latin-1 made every page a wide string to copy and re-encode).
IMAGE_JSON = f"convert_to({json_object_sql(IMAGE_FIELDS)}, 'UTF8')"

IMAGE_FROM = """
    FROM images i JOIN characters c ON c.id = i.character_id JOIN projects p ON p.id = c.project_id"""


class InvalidCursor(ValueError):
    pass


class ProjectNotFound(LookupError):
    pass


@dataclass(frozen=True)
class Page:
    items: list[bytes]  # IMAGE_JSON documents
    next: str | None

    def to_json(self) -> bytes:
        return b'{"items":[' + b",".join(self.items) + b'],"next":' + json.dumps(self.next).encode() + b"}"


def encode_cursor(last_id: int) -> str:
    return str(last_id)


CURSOR_PATTERN = r"^[0-9]{1,19}$"


def decode_cursor(cursor: str) -> int:
    """The last image id of the previous page; anything else (or an id past bigint) is refused."""
    if not (cursor.isascii() and cursor.isdigit() and len(cursor) <= 19 and int(cursor) <= BIGINT_MAX):
        raise InvalidCursor(f"invalid cursor {cursor[:40]!r}: pass the 'next' value of the previous page")
    return int(cursor)


class _Where:
    """A WHERE clause of only the filters given, with its positional parameters: each query shape
    gets a plan that uses its own index instead of one generic plan for every filter."""

    def __init__(self) -> None:
        self.params: list = []
        self.conditions: list[str] = []

    def add(self, condition: str, value) -> None:
        self.params.append(value)
        self.conditions.append(condition.format(f"${len(self.params)}"))

    def add_score_range(self, min_score: float | None, max_score: float | None) -> None:
        if min_score is not None:
            self.add("i.quality_score >= {}", min_score)
        if max_score is not None:
            self.add("i.quality_score <= {}", max_score)


def _check_page(status: str | None, limit: int) -> None:
    if status is not None and status not in STATUSES:
        raise ValueError(f"status must be one of {', '.join(STATUSES)}")
    if not 1 <= limit <= MAX_PAGE:
        raise ValueError(f"limit must be between 1 and {MAX_PAGE}")


async def _page(conn, where: _Where, limit: int, *, newest_first: bool = False) -> Page:
    where.params.append(limit + 1)  # one more than asked tells whether there is a next page
    sql = (f"SELECT i.id, {IMAGE_JSON} AS doc {IMAGE_FROM} WHERE {' AND '.join(where.conditions) or 'TRUE'} "
           f"ORDER BY i.id{' DESC' if newest_first else ''} LIMIT ${len(where.params)}")
    rows = await conn.fetch(sql, *where.params)
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(items=[r["doc"] for r in rows], next=encode_cursor(rows[-1]["id"]) if has_more else None)


# A scalar subquery becomes an index condition on images_character_status_idx / images_character_id_idx.
CHARACTER_CONDITION = "i.character_id = (SELECT id FROM characters WHERE slug = {})"


async def pending_page(conn, *, project: str | None = None, character: str | None = None, status: str = "pending",
                       min_score: float | None = None, max_score: float | None = None,
                       non_human: bool | None = None, limit: int = 50, after: str | None = None) -> Page:
    _check_page(status, limit)
    where = _Where()
    where.add("i.status = {}", status)
    if character is not None:
        where.add(CHARACTER_CONDITION, character)
    if project is not None:
        where.add("p.slug = {}", project)
    where.add_score_range(min_score, max_score)
    if non_human is not None:
        where.conditions.append(NON_HUMAN_SQL if non_human else f"NOT ({NON_HUMAN_SQL})")
    if after is not None:
        where.add("i.id > {}", decode_cursor(after))
    return await _page(conn, where, limit)


SOURCES = ("generated", "uploaded")
BATCH_PATTERN = r"^[A-Za-z0-9-]{1,64}$"  # a Dagster run id (a UUID), the batch that generated an image


async def gallery_page(conn, *, character: str, status: str | None = None, source: str | None = None,
                       min_score: float | None = None, max_score: float | None = None, batch: str | None = None,
                       limit: int = 50, after: str | None = None) -> Page:
    """One character's images of every status, newest first; `after` continues below the last id seen."""
    _check_page(status, limit)
    if source is not None and source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}")
    where = _Where()
    where.add(CHARACTER_CONDITION, character)
    if status is not None:
        where.add("i.status = {}", status)
    if source is not None:
        where.add("i.source = {}", source)
    where.add_score_range(min_score, max_score)
    if batch is not None:
        where.add("i.dagster_run_id = {}", batch)
    if after is not None:
        where.add("i.id < {}", decode_cursor(after))
    return await _page(conn, where, limit, newest_first=True)


async def character_exists(conn, character: str) -> bool:
    return await conn.fetchval("SELECT 1 FROM characters WHERE slug = $1", character) is not None


# One character's counts and its batches, newest first (the gallery's header and batch filter).
CHARACTER_SUMMARY_SQL = """
SELECT c.slug AS character, c.name, p.slug AS project, c.target_images AS target,
       count(i.id) FILTER (WHERE i.status = 'approved') AS approved,
       count(i.id) FILTER (WHERE i.status = 'pending') AS pending,
       count(i.id) FILTER (WHERE i.status = 'rejected') AS rejected,
       count(i.id) FILTER (WHERE i.source = 'uploaded') AS uploaded,
       coalesce(sum(i.gpu_seconds), 0)::float8 AS gpu_seconds
  FROM characters c JOIN projects p ON p.id = c.project_id LEFT JOIN images i ON i.character_id = c.id
 WHERE c.slug = $1
 GROUP BY c.id, p.slug
"""
BATCHES_SQL = """
SELECT gh.dagster_run_id AS batch, gh.status, gh.requested, gh.generated, gh.duplicates, gh.approved,
       gh.rejected, gh.pending, gh.gpu_seconds::float8 AS gpu_seconds, gh.backend, gh.started_at, gh.finished_at
  FROM generation_history gh JOIN characters c ON c.id = gh.character_id
 WHERE c.slug = $1 AND gh.dagster_run_id IS NOT NULL
 ORDER BY gh.started_at DESC, gh.id DESC
 LIMIT $2
"""
MAX_BATCHES = 200


async def character_summary(conn, character: str) -> dict | None:
    """Counts against the target and the latest batches of one character; None when there is none."""
    row = await conn.fetchrow(CHARACTER_SUMMARY_SQL, character)
    if row is None:
        return None
    batches = await conn.fetch(BATCHES_SQL, character, MAX_BATCHES)
    return {**dict(row), "batches": [dict(b) for b in batches]}


# What made an image and what was decided about it: the full-size view beside the picture.
PROVENANCE_SQL = """
SELECT i.width, i.height, i.sha256, i.negative_prompt, i.checkpoint, i.lora, i.workflow_hash,
       i.comfy_prompt_id, i.gpu_seconds::float8 AS gpu_seconds, i.backend, i.dagster_run_id AS batch,
       gh.parameters AS batch_parameters, gh.strategy AS batch_strategy
  FROM images i
  LEFT JOIN LATERAL (SELECT parameters, strategy FROM generation_history
                      WHERE dagster_run_id = i.dagster_run_id AND character_id = i.character_id
                      ORDER BY id DESC LIMIT 1) gh ON true
 WHERE i.id = $1
"""
FEEDBACK_SQL = """
SELECT decision, categories, comment, reviewer, created_at FROM review_feedback WHERE image_id = $1 ORDER BY id
"""


async def image_provenance(conn, image_id: int) -> dict | None:
    """Provenance (size, hash, model files, workflow, prompt id, batch) and the people's decisions."""
    row = await conn.fetchrow(PROVENANCE_SQL, image_id)
    if row is None:
        return None
    feedback = await conn.fetch(FEEDBACK_SQL, image_id)
    return {"provenance": dict(row), "feedback": [dict(f) for f in feedback]}


async def image_json(conn, image_id: int) -> bytes | None:
    return await conn.fetchval(f"SELECT {IMAGE_JSON} {IMAGE_FROM} WHERE i.id = $1", image_id)


# One aggregate pass over `images`; projects drive the join, so an existing project without
# characters answers an empty list while an unknown one is told apart (ProjectNotFound).
COUNTS_SQL = """
SELECT p.slug AS project, c.slug AS character, c.name, c.target_images AS target,
       coalesce(n.approved, 0) AS approved, coalesce(n.pending, 0) AS pending, coalesce(n.rejected, 0) AS rejected,
       coalesce(n.gpu_seconds, 0)::float8 AS gpu_seconds
  FROM projects p
  JOIN characters c ON c.project_id = p.id
  LEFT JOIN (
        SELECT character_id,
               count(*) FILTER (WHERE status = 'approved') AS approved,
               count(*) FILTER (WHERE status = 'pending') AS pending,
               count(*) FILTER (WHERE status = 'rejected') AS rejected,
               sum(gpu_seconds) AS gpu_seconds
          FROM images GROUP BY character_id
       ) n ON n.character_id = c.id
 WHERE $1::text IS NULL OR p.slug = $1
 ORDER BY p.slug, c.slug
"""


async def counts(conn, project: str | None = None) -> list[dict]:
    """Approved / pending / rejected images and GPU seconds per character, against its target
    (the review queue and the stats route both read this); unknown project -> ProjectNotFound."""
    rows = await conn.fetch(COUNTS_SQL, project)
    if project is not None and not rows:
        if await conn.fetchval("SELECT 1 FROM projects WHERE slug = $1", project) is None:
            raise ProjectNotFound(f"project {project!r} not found")
    return [dict(r) for r in rows]


async def image_file(conn, image_id: int) -> tuple[str, str] | None:
    """(stored file path, sha256) of an image, or None when there is no such image."""
    row = await conn.fetchrow("SELECT file_path, sha256 FROM images WHERE id = $1", image_id)
    return (row["file_path"], row["sha256"]) if row is not None else None
