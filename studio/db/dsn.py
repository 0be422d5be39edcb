"""Which database to use: Vault, then STUDIO_DATABASE_URL, then the embedded server."""

from __future__ import annotations

import logging

from studio.settings import Settings, vault_token
from studio.db import embedded, vault
from studio.db.errors import DatabaseConfigError

log = logging.getLogger(__name__)
_fallback_logged = False


async def resolve_database_url(settings: Settings) -> str:
    global _fallback_logged
    configured_url = settings.secret("database_url")
    if settings.vault_addr:
        try:
            return vault.read_database_url(
                settings.vault_addr, settings.vault_mount, settings.vault_path, vault_token(settings)
            )
        except RuntimeError as exc:
            if not configured_url:
                raise DatabaseConfigError(
                    f"no database: Vault failed ({exc}) and STUDIO_DATABASE_URL is not set"
                ) from None
            if not _fallback_logged:
                log.warning("Vault failed (%s); using STUDIO_DATABASE_URL instead", exc)
                _fallback_logged = True
            return configured_url
    if configured_url:
        return configured_url
    try:
        server_url = embedded.start_embedded_server(settings.embedded_pg_dir)
    except Exception as exc:
        raise DatabaseConfigError(
            f"no database: STUDIO_DATABASE_URL is not set and the embedded PostgreSQL in "
            f"{settings.embedded_pg_dir} did not start ({exc})"
        ) from None
    return await embedded.ensure_database(server_url, embedded.STUDIO_DB)


def redact(url: str) -> str:
    """A URL safe to print: the password replaced."""
    head, sep, rest = url.partition("://")
    if "@" not in rest:
        return url
    creds, _, host = rest.rpartition("@")
    user = creds.split(":", 1)[0]
    return f"{head}{sep}{user}:***@{host}" if ":" in creds else url
