"""`studio doctor`: every service a run needs, one line each, with the fix for what is wrong.

On the preview backend only the database matters; on the live backend ComfyUI (its nodes and the
styles' model files; FramePack's for shots, checked as the shot renderer checks them), the Dagster
pool `gpu` against the number of ComfyUI servers, Ollama (its models), Echo and TTS when configured.
Vault is checked as the database's source when STUDIO_VAULT_ADDR is set. The exit code is 1 when any
line fails.
"""

from __future__ import annotations

import contextlib

from studio.db.errors import DatabaseConfigError
from studio.db.session import studio_connection
from studio.doctor.checks import Line, check_comfyui, check_echo, check_gpu_pool, check_ollama, check_tts
from studio.settings import Settings
from studio.where import database_description


async def doctor_lines(settings: Settings) -> list[Line]:
    lines: list[Line] = []
    async with contextlib.AsyncExitStack() as stack:
        try:
            conn = await stack.enter_async_context(studio_connection(settings))
            lines.append(Line("database", True, f"{database_description(settings)} answers, schema up to date"))
        except (DatabaseConfigError, OSError) as error:
            conn = None
            lines.append(Line("database", False, f"{database_description(settings)}: {error}"))
        except Exception as error:  # asyncpg's errors have no one base: name what happened
            conn = None
            lines.append(Line("database", False, f"{database_description(settings)}: {type(error).__name__}: {error}"))
        if settings.backend == "preview":
            lines.append(Line("backend", True, "preview: CPU stand-ins, no GPU service needed "
                                               "(STUDIO_BACKEND=live uses ComfyUI and Ollama)"))
            return lines
        lines += await check_comfyui(settings, conn)
        # After the database line: that started the embedded server, which the dev instance also lives in.
        lines += await check_gpu_pool(settings)
    lines += await check_ollama(settings)
    lines += await check_echo(settings)
    lines += await check_tts(settings)
    return lines


async def run_doctor(settings: Settings) -> int:
    lines = await doctor_lines(settings)
    for line in lines:
        print(line)
    failed = sum(not line.ok for line in lines)
    print(f"{failed} problem(s) found" if failed else "everything a run needs is there")
    return 1 if failed else 0
