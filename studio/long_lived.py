"""`with long_lived_objects():` around code that makes objects the process keeps until it exits.

A code location's definitions and the review service's routes and models are made once and live as
long as their process. While they pile up, the garbage collector walks them again and again to find
next to no garbage, and afterwards every full collection walks them once more (a tenth of a second
in a busy sensor tick). They are made with the collector off and frozen out of its view; the
collector is left as it was found.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def long_lived_objects() -> Iterator[None]:
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if collecting:
            gc.enable()
