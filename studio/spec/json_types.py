"""Numbers and booleans taken exactly as JSON Schema reads them, for every model whose JSON schema is
published: request bodies (api/) and the project spec, which the API takes too.

pydantic's lax mode takes more than the schema admits: true as the integer 1, 0 and 1 as booleans,
"5" and "1.5" as numbers. A client (or schemathesis' negative tests) sending those gets a 2xx for a
request the document says is invalid. Its strict mode takes less: 2.0, which JSON Schema's `integer`
admits from draft 6 on (OpenAPI 3.1, the document FastAPI writes) and which schemathesis sends as a
valid integer in JSON bodies. So integers are strict but take a whole float as the integer it spells.

Bounds are arguments of `Integer()` and `Number()`, not a `Field` beside the type: pydantic applies
a constraint that comes after a validator as a check of its own and writes it into the JSON schema as
`ge`/`le`, keys JSON Schema does not know, so the document would lose them (tests/test_schema_strictness.py
holds the document to its `minimum`/`maximum`).
"""

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, StrictBool


def _whole_float_as_int(value: Any) -> Any:
    # Only a float that is an integer; anything else goes on to the strict check and its error.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


_WHOLE_FLOAT = BeforeValidator(_whole_float_as_int)


def _bounds(**given: Any) -> dict[str, Any]:
    return {name: value for name, value in given.items() if value is not None}


def Integer(*, ge: int | None = None, le: int | None = None, gt: int | None = None, lt: int | None = None,
            multiple_of: int | None = None) -> Any:
    """JSON Schema's `integer` within these bounds: 5 and 5.0, never true, "5" or 5.5."""
    bounds = _bounds(ge=ge, le=le, gt=gt, lt=lt, multiple_of=multiple_of)
    # The validator goes last: constraints after it would leave the JSON schema (see above).
    return Annotated[int, Field(strict=True, **bounds), _WHOLE_FLOAT]


def Number(*, ge: float | None = None, le: float | None = None, gt: float | None = None,
           lt: float | None = None) -> Any:
    """JSON Schema's `number` within these bounds: 5 and 5.5, never true or "5.5"."""
    # pydantic's strict float still takes an int, as `number` does; NaN and infinities are no JSON.
    return Annotated[float, Field(strict=True, allow_inf_nan=False, **_bounds(ge=ge, le=le, gt=gt, lt=lt))]


Boolean = StrictBool  # true and false only, not 0, 1 or "true"
