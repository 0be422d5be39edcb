"""Releasing a session advisory lock held on a connection of its own while some work runs.

Such a lock goes with its connection: a crashed run frees it, and so does a database that restarts
or kills the connection while the work runs. Releasing it then has nothing to release, and must not
raise over the work's own outcome.
"""

from __future__ import annotations

import asyncpg

from studio.db.pool import DATABASE_AWAY


async def release_session_lock(conn, lock_id: int) -> bool:
    """Release the lock; False when its connection, and the lock with it, was already gone."""
    try:
        await conn.execute("SELECT pg_advisory_unlock($1)", lock_id)
        return True
    except (*DATABASE_AWAY, asyncpg.InterfaceError):  # InterfaceError: the pool took the dead connection back
        return False
