"""Sessions that may hold an advisory lock (a batch, a scene render, the Dagster pool bookkeeping) ask
the server to notice within a minute that their peer is gone (studio/db/keepalive.py). Over TCP, on a
real PostgreSQL: a Unix socket, which the rest of the suite uses, ignores these settings."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import sqlalchemy as db

from studio.dagster_storage import POOL_BOOKKEEPING_LOCK, PoolSerializedEventLogStorage, take_bookkeeping_lock
from studio.db.embedded import ensure_database
from studio.db.keepalive import SERVER_KEEPALIVES
from studio.db.pool import create_pool
from tests.tcp_postgres import tcp_postgres

SHOW = {name: f"SHOW {name}" for name in SERVER_KEEPALIVES}


@pytest.fixture(scope="module")
def tcp_server_url(tmp_path_factory):
    with tcp_postgres(tmp_path_factory.mktemp("tcp_pg")) as url:
        yield url


async def test_a_plain_session_keeps_the_servers_default_of_two_hours(tcp_server_url):
    """The control: what a session that asks for nothing gets, where a dead peer keeps its locks."""
    conn = await asyncpg.connect(tcp_server_url)
    try:
        assert await conn.fetchval(SHOW["tcp_keepalives_idle"]) not in ("0", SERVER_KEEPALIVES["tcp_keepalives_idle"])
    finally:
        await conn.close()


async def test_the_studio_pools_sessions_ask_for_keepalives(tcp_server_url):
    url = await ensure_database(tcp_server_url, "studio_keepalive")
    pool = await create_pool(url)
    try:
        async with pool.acquire() as conn:
            assert {name: await conn.fetchval(query) for name, query in SHOW.items()} == SERVER_KEEPALIVES
    finally:
        await pool.close()


def test_the_dagster_pool_bookkeeping_lock_is_held_on_a_session_with_keepalives(tcp_server_url):
    url = asyncio.run(ensure_database(tcp_server_url, "dagster_keepalive"))
    storage = PoolSerializedEventLogStorage(url.replace("postgresql://", "postgresql+psycopg2://", 1))
    try:
        with storage._connect() as conn:
            take_bookkeeping_lock(conn)
            assert {name: conn.execute(db.text(query)).scalar() for name, query in SHOW.items()} == SERVER_KEEPALIVES
            held = conn.execute(db.text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                                        "AND pid = pg_backend_pid() AND objid = :low"),
                                {"low": POOL_BOOKKEEPING_LOCK & 0xFFFFFFFF}).scalar()
            assert held == 1
    finally:
        storage.dispose()
