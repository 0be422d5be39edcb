"""The Dagster storage of this repo's instances: pool slots claimed one at a time across processes, on a
real PostgreSQL, against Dagster's own PostgreSQL storage as the control."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid

import dagster as dg
import pytest
from dagster_postgres import PostgresEventLogStorage

from studio.dagster_storage import PoolSerializedEventLogStorage, StudioPostgresStorage
from studio.db.embedded import ensure_database
from tests.conftest import REPO
from tests.dagster_pg_home import dagster_home

STEPS = 8  # claiming together, as the GPU steps of runs the daemon starts in the same tick


@pytest.fixture
def storage_url(pg_server_url) -> str:
    name = f"dagster_{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_database(pg_server_url, name))
    return f"postgresql+psycopg2://postgres@/{name}?host={pg_server_url.partition('host=')[2]}"


def claim_at_once(storage, runs: list[str]) -> list[str]:
    """Every run's step claims the gpu slot in the same instant; the runs that got it."""
    start = threading.Barrier(len(runs))
    got = []

    def claim(run_id: str) -> None:
        start.wait()
        if storage.claim_concurrency_slot("gpu", run_id, "dataset_images").is_claimed:
            got.append(run_id)

    threads = [threading.Thread(target=claim, args=(run_id,)) for run_id in runs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return got


def one_slot_storage(cls, url: str):
    storage = cls(url)
    storage.set_concurrency_slots("gpu", 1)
    return storage


def test_dagsters_own_postgres_storage_gives_one_slot_to_steps_that_claim_at_once(storage_url):
    """The control: without the lock the race is real, so the test below can fail. Here it shows in
    about every second round; the bound only matters on a machine where it is rare."""
    storage = one_slot_storage(PostgresEventLogStorage, storage_url)
    try:
        for attempt in range(200):
            got = claim_at_once(storage, [f"try{attempt}-run{i}" for i in range(STEPS)])
            if len(got) > 1:
                return
            for run_id in got:
                storage.free_concurrency_slots_for_run(run_id)
            for i in range(STEPS):
                storage.free_concurrency_slots_for_run(f"try{attempt}-run{i}")
        pytest.fail("200 rounds of claims at once never gave the slot to two steps")
    finally:
        storage.dispose()


def test_the_slot_goes_to_one_step_at_a_time_as_each_gives_it_back(storage_url):
    storage = one_slot_storage(PoolSerializedEventLogStorage, storage_url)
    try:
        for attempt in range(3):  # 8 rounds of claims at once each, 36 claims
            waiting = [f"try{attempt}-run{i}" for i in range(STEPS)]
            while waiting:
                got = claim_at_once(storage, waiting)
                assert len(got) == 1, got  # one holder, and the slot never idles while steps wait
                [holder] = got
                info = storage.get_concurrency_info("gpu")
                assert [slot.run_id for slot in info.claimed_slots] == [holder]
                storage.free_concurrency_slot_for_step(holder, "dataset_images")
                waiting.remove(holder)
        assert storage.get_concurrency_info("gpu").claimed_slots == []
    finally:
        storage.dispose()


@pytest.mark.timeout(60)
def test_the_webservers_storage_whose_engine_keeps_one_connection_still_claims_and_frees(storage_url):
    storage = one_slot_storage(PoolSerializedEventLogStorage, storage_url)
    # What `dagster-webserver --db-pool-max-overflow 0` does: one pooled connection for all of it.
    storage.optimize_for_webserver(statement_timeout=15_000, pool_recycle=3_600, max_overflow=0)
    try:
        assert claim_at_once(storage, ["run-a", "run-b"]) in (["run-a"], ["run-b"])
        storage.free_concurrency_slots_for_run("run-a")
        storage.free_concurrency_slots_for_run("run-b")
        storage.set_concurrency_slots("gpu", 2)
        assert sorted(claim_at_once(storage, ["run-c", "run-d"])) == ["run-c", "run-d"]
    finally:
        storage.dispose()


HOLD_THE_LOCK = """
import sys, time
from studio.dagster_storage import PoolSerializedEventLogStorage
storage = PoolSerializedEventLogStorage(sys.argv[1])
with storage._one_at_a_time():
    print("holding", flush=True)
    time.sleep(600)
"""


def test_a_process_killed_while_it_holds_the_lock_does_not_block_later_claims(storage_url):
    storage = one_slot_storage(PoolSerializedEventLogStorage, storage_url)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, storage_url], cwd=REPO,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        blocked = threading.Thread(target=claim_at_once, args=(storage, ["run-a"]))
        blocked.start()
        blocked.join(timeout=1.0)
        assert blocked.is_alive()  # waits on the lock the other process holds
        os.kill(holder.pid, signal.SIGKILL)
        blocked.join(timeout=20)
        assert not blocked.is_alive()
        assert [slot.run_id for slot in storage.get_concurrency_info("gpu").claimed_slots] == ["run-a"]
    finally:
        holder.kill()
        holder.wait()
        storage.dispose()


def test_the_instances_this_repo_writes_and_their_run_workers_use_it(tmp_path, pg_server_url):
    """The dev home (tests/dagster_pg_home.py writes what `studio dagster-init` writes); a run process
    rebuilds its instance from the ref the launcher hands it."""
    home = dagster_home(tmp_path, pg_server_url)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_ref().storage_data.class_name == StudioPostgresStorage.__name__
        assert type(instance.event_log_storage) is PoolSerializedEventLogStorage
        with dg.DagsterInstance.from_ref(instance.get_ref()) as run_worker:
            assert type(run_worker.event_log_storage) is PoolSerializedEventLogStorage
