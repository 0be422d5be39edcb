"""Bounds of the values the API takes, declared once: what the database columns can hold.

PostgreSQL refuses an integer past its column type and a NUL in text, and rounds a tiny float to
0 in a `real` column (which then fails its own `> 0` check): so a model field of such a column uses
one of these types, and the caller gets a 422 naming the field instead of a 500. (NUL characters,
unpaired surrogates, NaN and integers past bigint are refused for every route by
api/middleware/body_guard.py before any model sees them.)
"""

from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, Field, WithJsonSchema

from studio.review.media_files import THUMB_SIZES
from studio.spec.json_types import Boolean, Integer, Number  # Boolean too: the routers take all three from here
from studio.spec.models import TEXT_MAX  # the one text bound, also the spec's

# What the documents declare for a bigint, and the bound of numbers in free-form JSON: the largest
# integer below which a double holds every integer exactly. Clients that read JSON numbers as doubles
# (JavaScript, the fuzzer's validator) would see 2**63 - 1 as 2**63, past the column, and 2**63 + 1
# as within it.
EXACT_INT_MAX = 2**53 - 1
INT32_MIN, INT32_MAX = -2**31, 2**31 - 1
# A `real` keeps about 7 significant digits down to ~1e-38; positive values here stay well above that.
REAL_MIN_POSITIVE = 1e-6
REAL_MAX = 3.0e38



# Request bodies take numbers and booleans exactly as their JSON schema reads them (no lax coercion):
# studio/spec/json_types.py says why, and why bounds are arguments of the type.
DbId = Integer(ge=1, le=EXACT_INT_MAX)  # bigint identity columns
Int32 = Integer(ge=INT32_MIN, le=INT32_MAX)  # integer columns
Position = Integer(ge=1, le=INT32_MAX)
PositiveReal = Number(ge=REAL_MIN_POSITIVE, le=REAL_MAX)
BoundedText = Annotated[str, Field(max_length=TEXT_MAX)]

ImageId = Annotated[int, Path(ge=1, le=EXACT_INT_MAX, description="image id")]
ShotId = Annotated[int, Path(ge=1, le=EXACT_INT_MAX, description="shot id")]
ProposalId = Annotated[int, Path(ge=1, le=EXACT_INT_MAX, description="scene proposal id")]

# Numbers in free-form JSON (run config, edited breakdowns, learning pins).
JsonInteger = Integer(ge=-EXACT_INT_MAX, le=EXACT_INT_MAX)
JsonNumber = Number(ge=-EXACT_INT_MAX, le=EXACT_INT_MAX)
_JSON_VALUE = "#/components/schemas/JsonValue"
# A free-form JSON value whose numbers stay within ±EXACT_INT_MAX (api/openapi.py declares it).
JSON_VALUE_SCHEMA = {"anyOf": [
    {"type": "integer", "minimum": -EXACT_INT_MAX, "maximum": EXACT_INT_MAX},
    {"type": "number", "minimum": -EXACT_INT_MAX, "maximum": EXACT_INT_MAX},
    {"type": "string"}, {"type": "boolean"}, {"type": "null"},
    {"type": "array", "items": {"$ref": _JSON_VALUE}},
    {"type": "object", "additionalProperties": {"$ref": _JSON_VALUE}}]}


def _numbers_in_range(value: Any, loc: str = "") -> Any:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and not -EXACT_INT_MAX <= value <= EXACT_INT_MAX:
        raise ValueError(f"{loc or 'value'}: numbers here stay within ±{EXACT_INT_MAX}")
    if isinstance(value, list):
        for index, item in enumerate(value):
            _numbers_in_range(item, f"{loc}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _numbers_in_range(item, f"{loc}.{key}" if loc else key)
    return value


JsonObject = Annotated[dict[str, Any], AfterValidator(_numbers_in_range),
                       WithJsonSchema({"type": "object", "additionalProperties": {"$ref": _JSON_VALUE}})]



def _thumb_size(size: int) -> int:
    if size not in THUMB_SIZES:
        raise ValueError(f"size must be one of {', '.join(map(str, THUMB_SIZES))}")
    return size


ThumbSize = Annotated[int, AfterValidator(_thumb_size),
                      Query(description="longest side in pixels", json_schema_extra={"enum": list(THUMB_SIZES)})]
