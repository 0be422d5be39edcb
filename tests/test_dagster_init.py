"""`studio dagster-init` gives the gpu pool one slot per ComfyUI server: the limit stored in the instance
(through Dagster, as `dagster instance concurrency set` does) and dagster.yaml's default together, run
after run. Real instances on the suite's PostgreSQL; the doctor's pool line is asked afterwards."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml

from studio.cli import main as studio
from studio.dagster_home import HEADER, dev_instance_yaml, keep_storage_current
from studio.doctor.checks import check_gpu_pool
from studio.doctor.pool import read_gpu_pool
from studio.domain.gpu_pool import StoredLimit, gpu_limit, must_store, storage_config
from studio.settings import load_settings
from tests.dagster_pg_home import dagster_home
from tests.test_doctor_pool import gpu_step

ONE, TWO = "http://127.0.0.1:1", "http://127.0.0.1:1,http://127.0.0.1:2"  # never asked: only counted


def dev_home(tmp_path: Path, pg_server_url: str) -> Path:
    """A home `studio dagster-init` wrote before (default 1, from the repo's dagster.yaml), pool not stored."""
    home = dagster_home(tmp_path, pg_server_url)
    config = home / "dagster.yaml"
    config.write_text(HEADER + "\n" + config.read_text())
    return home


@pytest.fixture
def live(studio_env, tmp_path, pg_server_url, monkeypatch) -> Path:
    home = dev_home(tmp_path, pg_server_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("STUDIO_BACKEND", "live")
    return home


def init(capsys) -> list[str]:
    """What `studio dagster-init` said it changed."""
    assert studio(["dagster-init"]) == 0
    return [line for line in capsys.readouterr().out.splitlines() if not line.startswith("Dagster home ready: ")]


def pool(home: Path) -> tuple[int | None, StoredLimit | None]:
    state = asyncio.run(read_gpu_pool(home))
    return state.default_limit, state.stored


def doctor() -> list[str]:
    return [str(line) for line in asyncio.run(check_gpu_pool(load_settings()))]


@pytest.mark.parametrize("backend, servers, limit", [("live", 1, 1), ("live", 3, 3), ("preview", 3, 1)])
def test_the_limit_is_one_slot_per_server_on_live_and_one_on_preview(backend, servers, limit):
    assert gpu_limit(backend, servers) == limit


@pytest.mark.parametrize("stored, default, store", [
    (None, 2, False),  # initialize_pools stores it from the default, as Dagster would
    (None, 1, True), (None, None, True),
    (StoredLimit(2, True), 2, False), (StoredLimit(2, False), 1, False),  # an explicit row: no default touches it
    (StoredLimit(1, False), 2, True), (StoredLimit(3, True), 3, True),
    (StoredLimit(2, True), 1, True),  # the right limit, on a default Dagster would re-sync (and fail)
])
def test_the_limit_is_stored_explicitly_when_the_row_or_the_default_it_rests_on_is_not_it(stored, default, store):
    assert must_store(stored, default, 2) is store


def test_a_new_dev_instance_yaml_starts_from_the_limit_it_is_given(tmp_path):
    text = dev_instance_yaml(tmp_path / "pg", 2)
    assert text.startswith(HEADER + "\n")
    assert yaml.safe_load(text)["concurrency"]["pools"]["default_limit"] == 2


@pytest.mark.timeout(240)
def test_one_server_gives_one_slot_and_a_second_run_changes_nothing(live, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", ONE)
    assert init(capsys) == []  # the default already fits: the pool is stored from it
    assert pool(live) == (1, StoredLimit(1, True))
    before = (live / "dagster.yaml").read_text()
    assert init(capsys) == []
    assert pool(live) == (1, StoredLimit(1, True)) and (live / "dagster.yaml").read_text() == before
    assert doctor() == ["ok   dagster: the gpu pool limit is 1, one slot per ComfyUI server"]


@pytest.mark.timeout(240)
def test_two_servers_give_two_slots_stored_and_as_the_default(live, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", TWO)
    assert init(capsys) == [
        "gpu pool limit in the Dagster instance: 1 (from the default) -> 2 (STUDIO_COMFYUI_URLS lists 2 "
        "ComfyUI server(s))",
        f"concurrency.pools.default_limit in {live}/dagster.yaml: 1 -> 2"]
    assert pool(live) == (2, StoredLimit(2, False))
    assert (live / "dagster.yaml").read_text().startswith(HEADER + "\n")  # still ours: the next change too
    assert init(capsys) == []
    assert doctor() == ["ok   dagster: the gpu pool limit is 2, one slot per ComfyUI server"]


@pytest.mark.timeout(300)
def test_a_server_taken_away_lowers_both_and_gpu_steps_still_claim_their_slot(live, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", TWO)
    init(capsys)
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", ONE)
    assert init(capsys) == [
        "gpu pool limit in the Dagster instance: 2 -> 1 (STUDIO_COMFYUI_URLS lists 1 ComfyUI server(s))",
        f"concurrency.pools.default_limit in {live}/dagster.yaml: 2 -> 1"]
    assert pool(live) == (1, StoredLimit(1, False))
    assert doctor() == ["ok   dagster: the gpu pool limit is 1, one slot per ComfyUI server"]
    # With only the default edited, this claim failed on PostgreSQL (tests/test_doctor_pool.py).
    assert gpu_step(live, tmp_path / "claimed") == 0


@pytest.mark.timeout(240)
def test_the_preview_backend_keeps_one_slot_whatever_the_urls_say(live, monkeypatch, capsys):
    monkeypatch.setenv("STUDIO_BACKEND", "preview")
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", TWO)
    assert init(capsys) == []
    assert pool(live) == (1, StoredLimit(1, True))


@pytest.mark.timeout(240)
def test_a_dagster_yaml_not_written_by_init_is_left_alone_and_the_stored_limit_follows_the_servers(
        live, monkeypatch, capsys):
    config = live / "dagster.yaml"
    config.write_text(config.read_text().removeprefix(HEADER + "\n"))  # as deploy/dagster.yaml in the image
    before = config.read_text()
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", TWO)
    note = (f"note: concurrency.pools.default_limit in {config} is 1, not 2; the file was not written by "
            "`studio dagster-init` and is left as it is (new instances start from it)")
    assert init(capsys) == [
        "gpu pool limit in the Dagster instance: 1 (from the default) -> 2 (STUDIO_COMFYUI_URLS lists 2 "
        "ComfyUI server(s))", note]
    assert config.read_text() == before and pool(live) == (1, StoredLimit(2, False))
    assert init(capsys) == [note]  # nothing changed; the default that differs is still said
    [line] = doctor()
    assert line.startswith("ok   dagster: the gpu pool limit is 2, one slot per ComfyUI server;")


@pytest.mark.timeout(240)
def test_a_dagster_yaml_init_wrote_on_dagsters_own_storage_moves_to_ours_keeping_its_database(
        live, monkeypatch, capsys):
    config = live / "dagster.yaml"
    loaded = yaml.safe_load(config.read_text())
    url = loaded["storage"]["custom"]["config"]["postgres_url"]
    config.write_text(HEADER + "\n" + yaml.safe_dump({**loaded, "storage": {"postgres": {"postgres_url": url}}}))
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", ONE)
    assert init(capsys) == [f"storage in {config}: Dagster's own PostgreSQL storage -> StudioPostgresStorage "
                            "(same database)"]
    assert yaml.safe_load(config.read_text())["storage"] == storage_config(url)
    assert config.read_text().startswith(HEADER + "\n")
    assert init(capsys) == []
    assert doctor() == ["ok   dagster: the gpu pool limit is 1, one slot per ComfyUI server"]


def test_another_dagster_yaml_on_dagsters_own_storage_is_left_to_the_doctor(tmp_path):
    config = tmp_path / "dagster.yaml"
    config.write_text(yaml.safe_dump({"storage": {"postgres": {"postgres_url": "postgresql+psycopg2://x@/d"}}}))
    before = config.read_text()
    assert keep_storage_current(config) is None and config.read_text() == before
