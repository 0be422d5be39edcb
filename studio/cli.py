"""`studio`: the command line of Anime Studio."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from studio.settings import load_settings
from studio.db.errors import DatabaseConfigError
from studio.db.session import studio_connection
from studio.spec.importer import import_project
from studio.spec.validation import SpecError, load_spec


async def _import(path: Path) -> int:
    spec = load_spec(path)  # fails before any connection is opened
    settings = load_settings()
    async with studio_connection(settings) as conn:
        report = await import_project(conn, spec, path, settings.media_root)
    print(report.summary() + ("" if report.changed else " (nothing changed)"))
    return 0


async def _migrate() -> int:
    async with studio_connection(load_settings()):
        print("studio database is up to date")
    return 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="studio", description="Anime Studio pipeline tools")
    commands = parser.add_subparsers(dest="command", required=True)
    imp = commands.add_parser("import", help="load a project spec (YAML) into the studio database")
    imp.add_argument("path", type=Path)
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("dagster-init", help="set up $DAGSTER_HOME once: storage schema and pools")
    serve = commands.add_parser("serve", help="run the review service (FastAPI)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8401)
    demo = commands.add_parser("demo", help="import the example and run the pipeline end to end")
    demo.add_argument("--spec", type=Path, default=Path("examples/lantern_harbor.yaml"))
    args = parser.parse_args(argv)
    try:
        if args.command == "import":
            return asyncio.run(_import(args.path))
        if args.command == "migrate":
            return asyncio.run(_migrate())
        if args.command == "dagster-init":
            import dagster as dg

            from studio.dagster_home import ensure_dagster_home, initialize_pools

            ensure_dagster_home(load_settings())
            with dg.DagsterInstance.get() as instance:
                instance.upgrade()
                initialize_pools(instance)
            print("Dagster home ready")
            return 0
        if args.command == "serve":
            import uvicorn

            from api.app import create_app

            # Our auth decides which proxies to believe; uvicorn must not rewrite the client address first.
            uvicorn.run(create_app(), host=args.host, port=args.port, log_level="info", proxy_headers=False)
            return 0
        if args.command == "demo":
            from studio.demo import run_demo

            return run_demo(args.spec)
    except (SpecError, DatabaseConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
