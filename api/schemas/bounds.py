"""Bounds of the values the API takes, declared once: what the database columns can hold.

PostgreSQL refuses an integer past its column type and a NUL in text, and rounds a tiny float to
0 in a `real` column (which then fails its own `> 0` check): so a model field of such a column uses
one of these types, and the caller gets a 422 naming the field instead of a 500. (NUL characters,
unpaired surrogates, NaN and integers past bigint are refused for every route by
api/middleware/body_guard.py before any model sees them.)
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

from studio.review.media_files import THUMB_SIZES
from studio.spec.models import TEXT_MAX  # the one text bound, also the spec's

BIGINT_MAX = 2**63 - 1
INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
# A `real` keeps about 7 significant digits down to ~1e-38; positive values here stay well above that.
REAL_MIN_POSITIVE = 1e-6
REAL_MAX = 3.0e38

DbId = Annotated[int, Field(ge=1, le=BIGINT_MAX)]  # bigint identity columns
Int32 = Annotated[int, Field(ge=INT32_MIN, le=INT32_MAX)]  # integer columns
Position = Annotated[int, Field(ge=1, le=INT32_MAX)]
PositiveReal = Annotated[float, Field(ge=REAL_MIN_POSITIVE, le=REAL_MAX, allow_inf_nan=False)]
BoundedText = Annotated[str, Field(max_length=TEXT_MAX)]

ImageId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="image id")]
ShotId = Annotated[int, Path(ge=1, le=BIGINT_MAX, description="shot id")]



def _thumb_size(size: int) -> int:
    if size not in THUMB_SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, THUMB_SIZES))}")
    return size


ThumbSize = Annotated[int, AfterValidator(_thumb_size),
                      Query(description="longest side in pixels", json_schema_extra={"enum": list(THUMB_SIZES)})]
