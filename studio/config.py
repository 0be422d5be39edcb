"""Process-wide settings, read from the environment once.

Secrets (Vault token, DB password) are read where they are used and never stored on this object,
so printing the settings can never leak them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Backend = Literal["preview", "live"]


@dataclass(frozen=True)
class Settings:
    home: Path
    backend: Backend
    database_url: str | None
    vault_addr: str | None
    vault_mount: str
    vault_path: str

    @property
    def media_root(self) -> Path:
        return self.home / "media"

    @property
    def embedded_pg_dir(self) -> Path:
        return self.home / "pg"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    backend = env.get("STUDIO_BACKEND", "preview")
    if backend not in ("preview", "live"):
        raise ValueError(f"STUDIO_BACKEND: {backend!r} is not one of 'preview', 'live'")
    return Settings(
        home=Path(env.get("STUDIO_HOME", Path.cwd() / ".studio")).resolve(),
        backend=backend,  # type: ignore[arg-type]
        database_url=env.get("STUDIO_DATABASE_URL") or None,
        vault_addr=env.get("STUDIO_VAULT_ADDR") or None,
        vault_mount=env.get("STUDIO_VAULT_MOUNT", "secret"),
        vault_path=env.get("STUDIO_VAULT_PATH", "studio/database"),
    )
