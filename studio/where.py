"""The line every command prints first: which studio home and which database it works on.

The database is described from the settings alone (nothing is connected or started to say it), and a
URL's password is never shown.
"""

from __future__ import annotations

from studio.db.dsn import redact
from studio.settings import Settings


def database_description(settings: Settings) -> str:
    if settings.vault_addr:
        return f"from Vault {settings.vault_addr} ({settings.vault_mount}/{settings.vault_path})"
    url = settings.secret("database_url")
    if url:
        return redact(url)
    return f"embedded PostgreSQL in {settings.embedded_pg_dir}"


def where_line(settings: Settings) -> str:
    return f"studio home: {settings.home} | database: {database_description(settings)}"
