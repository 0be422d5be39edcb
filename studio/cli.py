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
from studio.where import where_line


async def _import(path: Path) -> int:
    # The spec's models and YAML only here: `studio serve` and the rest start without them.
    from studio.spec.importer import import_project
    from studio.spec.validation import load_spec

    if path.suffix in (".gz", ".tgz", ".tar"):
        from studio.transfer.importer import import_archive

        return await import_archive(load_settings(), path)
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
    imp = commands.add_parser("import", help="load a project spec (YAML), or an archive of `studio export`")
    imp.add_argument("path", type=Path)
    export = commands.add_parser("export", help="write human decisions and datasets to an archive (.tar.gz)")
    export.add_argument("path", type=Path)
    commands.add_parser("up", help="start code server, Dagster webserver and daemon and review service; Ctrl-C stops all")
    commands.add_parser("stop", help="stop what `studio up` started, and the embedded PostgreSQL")
    clean = commands.add_parser("clean", help="delete the studio home (refuses while services run; asks first)")
    clean.add_argument("--yes", action="store_true", help="delete human review decisions without asking")
    doctor = commands.add_parser("doctor", help="check the services a live run needs, each line with a fix")
    doctor.add_argument("--backend", choices=["preview", "live"], help="check this backend (default: STUDIO_BACKEND)")
    commands.add_parser("migrate", help="apply pending database migrations")
    commands.add_parser("dagster-init", help="set up $DAGSTER_HOME once: storage schema and pools")
    serve = commands.add_parser("serve", help="run the review service (FastAPI)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, help="default: STUDIO_API_PORT")
    demo = commands.add_parser("demo", help="import the example and run the pipeline end to end")
    demo.add_argument("--spec", type=Path, default=Path("examples/lantern_harbor.yaml"))
    args = parser.parse_args(argv)
    settings = load_settings()
    print(where_line(settings), file=sys.stderr, flush=True)
    try:
        if args.command == "export":
            from studio.transfer.exporter import export_archive

            return asyncio.run(export_archive(settings, args.path))
        if args.command == "up":
            from studio.up import run_up

            return run_up(settings)
        if args.command == "stop":
            from studio.db.embedded import stop_embedded_server
            from studio.service_state import stop_services

            stopped = stop_services(settings)
            stop_embedded_server(settings.embedded_pg_dir)
            print(f"stopped: {', '.join(stopped) or 'no `studio up` was running'}; embedded PostgreSQL stopped")
            return 0
        if args.command == "clean":
            from studio.clean import CleanRefused, clean_home

            try:
                print(clean_home(settings, yes=args.yes))
            except CleanRefused as exc:
                print(f"refused: {exc}", file=sys.stderr)
                return 1
            return 0
        if args.command == "doctor":
            from studio.doctor.report import run_doctor

            return asyncio.run(run_doctor(settings.with_values(backend=args.backend) if args.backend else settings))
        if args.command == "import":
            return asyncio.run(_import(args.path))
        if args.command == "migrate":
            return asyncio.run(_migrate())
        if args.command == "dagster-init":
            from studio.dagster_init import initialize_dagster_home

            print(f"Dagster home ready: {initialize_dagster_home(settings)}")
            return 0
        if args.command == "serve":
            import uvicorn

            from api.app import create_app

            # Our auth decides which proxies to believe; uvicorn must not rewrite the client address first.
            # The access log is the service's own (api/middleware/request_context.py: duration,
            # principal, request id); uvicorn's would be a second line for every request.
            uvicorn.run(create_app(), host=args.host, port=args.port or settings.api_port, log_level="info",
                        proxy_headers=False, access_log=False)
            return 0
        if args.command == "demo":
            from studio.demo import run_demo

            return run_demo(args.spec)
    except (DatabaseConfigError, ValueError) as exc:  # a SpecError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 1


if __name__ == "__main__":
    sys.exit(main())
