"""What keeps the review service's start-up cheap (bench/bench_api_import.py measures it)."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO

# Modules whose functions are routes or dependencies, or whose classes are pydantic models. FastAPI and
# pydantic read their annotations at start-up; kept as strings (PEP 563), each one is compiled from
# its text there: ~5% of the service's own start-up instructions.
EVALUATED_ANNOTATIONS = ("api/deps.py", "api/docs.py", "api/metrics.py", "api/auth.py", "api/query_params.py",
                         "api/schemas", "api/routers", "studio/spec/models.py", "studio/spec/json_types.py",
                         "studio/settings.py", "studio/autonomy/settings.py", "studio/domain/appearance.py",
                         "studio/domain/review.py", "studio/review/checklist.py", "studio/datasets/models.py")


def test_route_and_model_modules_evaluate_their_annotations():
    paths = []
    for name in EVALUATED_ANNOTATIONS:
        path = REPO / name
        paths.extend(sorted(path.glob("*.py")) if path.is_dir() else [path])
    stringified = [str(p.relative_to(REPO)) for p in paths if "from __future__ import annotations" in p.read_text()]
    assert stringified == []


def test_importing_the_app_leaves_the_collector_as_it_was():
    code = ("import gc, sys; was = sys.argv[1] == 'on'; gc.enable() if was else gc.disable(); "
            "import api.app; assert gc.isenabled() == was; assert gc.get_freeze_count() > 0")
    for state in ("on", "off"):
        subprocess.run([sys.executable, "-c", code, state], cwd=REPO, check=True)


def test_the_service_starts_with_no_route_built_and_builds_the_one_a_request_needs():
    code = """
import asyncio
from fastapi.routing import APIRoute
from api.app import create_app
from api.lazy_route import LazyAPIRoute
from bench.asgi_get import asgi_get

app = create_app()
routes = [r for r in app.routes if isinstance(r, APIRoute)]
assert len(routes) > 100 and all(isinstance(r, LazyAPIRoute) for r in routes)

def built():
    return [r.path for r in routes if "_declaration" not in r.__dict__]

assert built() == []

assert asyncio.run(asgi_get(app, "/api/health/live")) == 200
assert built() == ["/api/health/live"], built()
"""
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
