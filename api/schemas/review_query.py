"""The review queue's query parameters (GET /api/review/pending), read by api.query_params."""

from pydantic import BaseModel, Field

from studio.review import queries


class PendingQuery(BaseModel):
    project: str | None = None
    character: str | None = None
    status: str = Field("pending", pattern="^(pending|approved|rejected)$")
    min_score: float | None = Field(None, ge=0, le=1)
    max_score: float | None = Field(None, ge=0, le=1)
    non_human: bool | None = None
    limit: int = Field(50, ge=1, le=queries.MAX_PAGE)
    after: str | None = Field(None, max_length=64, json_schema_extra={"pattern": queries.CURSOR_PATTERN})
