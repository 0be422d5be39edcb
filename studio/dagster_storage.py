"""Dagster's PostgreSQL storage with the pool bookkeeping done one claim at a time.

Dagster 1.13 claims a pool slot in several statements, each committed on its own: are there
unassigned slots? queue the step as assigned; select a free slot row FOR UPDATE SKIP LOCKED; give it
to the step. The row lock ends with its SELECT, so steps that claim in the same instant all see the
one free slot and all take it: eight threads claiming the `gpu` pool of limit 1 at once got it two or
three at a time in 4 of 10 tries (tests/test_dagster_storage.py keeps that as its control). Two runs
starting together would then share the GPU.

`PoolSerializedEventLogStorage` holds a PostgreSQL advisory lock around every operation that changes
slots or the queue of waiting steps, so they happen one after another; reads and everything else are
Dagster's own. The lock is held on a connection of its own: a process that dies releases it with its
connection. The dagster.yaml files of this repo name `StudioPostgresStorage` (`storage: custom`).
"""

from __future__ import annotations

import functools
import threading
from contextlib import contextmanager, suppress
from typing import Iterator

import sqlalchemy as db
from sqlalchemy.pool import NullPool
from dagster._core.storage.base_storage import DagsterStorage
from dagster._core.storage.config import pg_config
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.storage import DagsterPostgresStorage
from dagster_postgres.utils import (create_pg_connection, create_pg_engine, get_token_provider_from_config,
                                    pg_url_from_config)

from studio.db.keepalive import SERVER_KEEPALIVES

# Advisory locks belong to one database, here Dagster's, where nothing else takes one: any fixed key
# names the lock for every process of the instance.
POOL_BOOKKEEPING_LOCK = int.from_bytes(b"dg-pools", "big") >> 1  # fits PostgreSQL's signed bigint


def take_bookkeeping_lock(conn) -> None:
    """Wait for the lock on `conn`, asking the server to notice within a minute if this process's box
    dies while it holds it (studio/db/keepalive.py): every claim of the instance waits on it."""
    settings = ", ".join(f"set_config('{name}', '{value}', false)" for name, value in SERVER_KEEPALIVES.items())
    conn.execute(db.text(f"SELECT {settings}, pg_advisory_lock(:key)"), {"key": POOL_BOOKKEEPING_LOCK})


def _from_config_value(cls, inst_data, config_value):
    # What dagster_postgres's own classes do with the same config, for our subclasses.
    return cls(inst_data=inst_data, postgres_url=pg_url_from_config(config_value),
               should_autocreate_tables=config_value.get("should_autocreate_tables", True),
               token_provider=get_token_provider_from_config(config_value))


def _taking_turns(method):
    """Dagster's `method`, run while this process holds the pool bookkeeping lock."""
    @functools.wraps(method)
    def taking_turns(self, *args, **kwargs):
        with self._one_at_a_time():
            return method(self, *args, **kwargs)
    return taking_turns


class PoolSerializedEventLogStorage(PostgresEventLogStorage):
    """PostgresEventLogStorage whose slot claims and releases happen one at a time across processes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Dagster's methods call one another; the lock is taken by the outermost call only.
        self._inside = threading.local()
        # The lock's connection is not one of the engine's: the webserver gives the engine a pool of one
        # connection (optimize_for_webserver), which the lock would hold while the method waits for it.
        self._lock_engine = create_pg_engine(self.postgres_url, self._token_provider, isolation_level="AUTOCOMMIT",
                                             poolclass=NullPool)

    @contextmanager
    def _one_at_a_time(self) -> Iterator[None]:
        if getattr(self._inside, "held", False):
            yield  # an outer call in this thread holds the lock
            return
        with create_pg_connection(self._lock_engine) as conn:
            take_bookkeeping_lock(conn)
            self._inside.held = True
            try:
                yield
            finally:
                self._inside.held = False
                # A connection lost by now took the lock with it: that must not undo a claim already made.
                with suppress(db.exc.SQLAlchemyError):
                    conn.execute(db.text("SELECT pg_advisory_unlock(:key)"), {"key": POOL_BOOKKEEPING_LOCK})

    def dispose(self) -> None:
        super().dispose()
        self._lock_engine.dispose()

    # Every operation that changes the slots or the queue of steps waiting for one.
    claim_concurrency_slot = _taking_turns(PostgresEventLogStorage.claim_concurrency_slot)
    free_concurrency_slots_for_run = _taking_turns(PostgresEventLogStorage.free_concurrency_slots_for_run)
    free_concurrency_slot_for_step = _taking_turns(PostgresEventLogStorage.free_concurrency_slot_for_step)
    initialize_concurrency_limit_to_default = _taking_turns(
        PostgresEventLogStorage.initialize_concurrency_limit_to_default)
    set_concurrency_slots = _taking_turns(PostgresEventLogStorage.set_concurrency_slots)
    delete_concurrency_limit = _taking_turns(PostgresEventLogStorage.delete_concurrency_limit)

    from_config_value = classmethod(_from_config_value)


class StudioPostgresStorage(DagsterPostgresStorage):
    """Dagster's PostgreSQL storage (same tables, same config) with `PoolSerializedEventLogStorage`."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, inst_data=None,
                 token_provider=None):
        # Not DagsterPostgresStorage.__init__: it would open a stock event log storage first.
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PostgresRunStorage(postgres_url, should_autocreate_tables, token_provider=token_provider)
        self._event_log_storage = PoolSerializedEventLogStorage(postgres_url, should_autocreate_tables,
                                                                token_provider=token_provider)
        self._schedule_storage = PostgresScheduleStorage(postgres_url, should_autocreate_tables,
                                                         token_provider=token_provider)
        DagsterStorage.__init__(self)

    @classmethod
    def config_type(cls):
        return pg_config()

    from_config_value = classmethod(_from_config_value)
