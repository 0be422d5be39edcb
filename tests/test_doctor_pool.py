"""`studio doctor` on the Dagster pool `gpu`: the limit the instance in DAGSTER_HOME really has, against
the ComfyUI servers in STUDIO_COMFYUI_URLS. Real instances on PostgreSQL, set up as `studio dagster-init`
sets them up; each fix the doctor prints is applied and the doctor asked again."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

from studio.doctor.checks import check_gpu_pool
from studio.domain.gpu_pool import storage_config
from studio.settings import load_settings
from tests.doctor_box import box, failures, instance_home, one_gpu_instance  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
URLS = "http://127.0.0.1:1,http://127.0.0.1:2"  # never asked: the pool check counts them


async def pool_lines() -> list[str]:
    return [str(line) for line in await check_gpu_pool(load_settings())]


def run_the_fix(line: str) -> None:
    """Do what the line says: the `dagster instance concurrency set` command, the dagster.yaml setting."""
    command = re.search(r"`(DAGSTER_HOME=\S+ dagster instance concurrency set gpu \d+)`", line)
    if command:
        env = {**os.environ, "PATH": f"{REPO / '.venv/bin'}:{os.environ['PATH']}"}
        subprocess.run(command.group(1), shell=True, env=env, check=True, capture_output=True, timeout=120)
    setting = re.search(r"set concurrency\.pools\.default_limit: (\d+) in (\S+/dagster\.yaml)", line)
    if setting:
        path = Path(setting.group(2))
        config = yaml.safe_load(path.read_text())
        config["concurrency"]["pools"]["default_limit"] = int(setting.group(1))
        path.write_text(yaml.safe_dump(config))


async def test_a_limit_of_2_with_one_comfyui_server_says_two_steps_share_a_gpu_and_how_to_lower_it(
        box, tmp_path, pg_server_url, monkeypatch):
    home = await asyncio.to_thread(instance_home, tmp_path, pg_server_url, default_limit=2)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    [line] = await failures()
    assert line == (f"the gpu pool limit is 2 (concurrency.pools.default_limit in {home}/dagster.yaml) but "
                    "STUDIO_COMFYUI_URLS lists 1 ComfyUI server(s): 2 GPU steps can run at once on 1 GPU(s), so two "
                    f"share one GPU; run `DAGSTER_HOME={home} dagster instance concurrency set gpu 1` and set "
                    f"concurrency.pools.default_limit: 1 in {home}/dagster.yaml (new instances start from it)")
    await asyncio.to_thread(run_the_fix, line)
    assert await failures() == []


async def test_a_second_gpu_box_with_the_pool_left_at_1_says_one_gpu_idles(tmp_path, pg_server_url, monkeypatch):
    home = await asyncio.to_thread(instance_home, tmp_path, pg_server_url)
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", URLS)
    [line] = await pool_lines()
    assert line.startswith("FAIL dagster: the gpu pool limit is 1") and "1 of the 2 GPU(s) stay idle" in line
    await asyncio.to_thread(run_the_fix, line)
    assert await pool_lines() == ["ok   dagster: the gpu pool limit is 2, one slot per ComfyUI server"]


async def test_a_default_edited_after_the_pool_was_stored_is_named_before_gpu_steps_fail(
        tmp_path, pg_server_url, monkeypatch):
    home = await asyncio.to_thread(instance_home, tmp_path, pg_server_url)  # stored at 1, from the default
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    config["concurrency"]["pools"]["default_limit"] = 2
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("STUDIO_COMFYUI_URLS", URLS)
    [line] = await pool_lines()
    assert "the gpu pool stores limit 1 but concurrency.pools.default_limit" in line
    assert "GPU steps fail when they claim a slot" in line
    assert f"run `DAGSTER_HOME={home} dagster instance concurrency set gpu 2`" in line
    assert await asyncio.to_thread(gpu_step, home, tmp_path / "before") != 0  # what the line warns of
    await asyncio.to_thread(run_the_fix, line)
    assert await pool_lines() == ["ok   dagster: the gpu pool limit is 2, one slot per ComfyUI server"]
    assert await asyncio.to_thread(gpu_step, home, tmp_path / "after") == 0


def gpu_step(home: Path, marker: Path) -> int:
    """A run with one step in pool gpu on that instance, as the assets' are; its exit code."""
    return subprocess.run([sys.executable, "-m", "tests.dagster_gpu_worker", str(marker), "0"], cwd=REPO,
                          env={**os.environ, "DAGSTER_HOME": str(home)}, capture_output=True, timeout=300).returncode


async def test_no_instance_in_dagster_home_is_a_line_with_the_fix(box, studio_env, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME")  # then the doctor looks where `studio dagster-init` would put it
    assert await failures() == [f"no Dagster instance in {studio_env / 'dagster'} (no dagster.yaml): run "
                                "`studio dagster-init`, or point DAGSTER_HOME at the instance the daemon uses"]


async def test_an_instance_whose_database_is_not_running_is_a_line_not_a_traceback(tmp_path, monkeypatch):
    home = tmp_path / "dagster"
    home.mkdir()
    url = f"postgresql+psycopg2://postgres@/dagster?host={tmp_path}"  # no server listens in tmp_path
    (home / "dagster.yaml").write_text(yaml.safe_dump({"storage": storage_config(url)}))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    [line] = await pool_lines()
    assert line.startswith(f"FAIL dagster: the gpu pool of the Dagster instance in {home} cannot be read (")
    assert "start its database" in line and "studio dagster-init" in line


async def test_an_instance_whose_database_has_no_dagster_tables_says_to_run_dagster_init(
        empty_db_url, tmp_path, monkeypatch):
    url = empty_db_url.replace("postgresql://", "postgresql+psycopg2://", 1)
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"storage": storage_config(url)}))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    assert await pool_lines() == [f"FAIL dagster: the gpu pool of the Dagster instance in {tmp_path} cannot be read: "
                                  "its database has no Dagster tables yet: run `studio dagster-init`"]


async def test_an_instance_on_sqlite_is_named_pools_do_not_hold_there(tmp_path, monkeypatch):
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump({"concurrency": {"pools": {"default_limit": 1}}}))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    [line] = await pool_lines()
    assert line.startswith(f"FAIL dagster: the Dagster instance in {tmp_path} keeps its pools in SQLite")
    assert not (tmp_path / "storage").exists()  # looked at, not opened


async def test_an_instance_on_dagsters_own_postgres_storage_is_named_with_its_limit(
        tmp_path, pg_server_url, monkeypatch):
    home = await asyncio.to_thread(instance_home, tmp_path, pg_server_url)
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    config["storage"] = {"postgres": config["storage"]["custom"]["config"]}  # as a dagster.yaml of Dagster's docs
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    storage, limit = await pool_lines()
    assert storage.startswith(f"FAIL dagster: the Dagster instance in {home} keeps its pools in Dagster's own "
                              "PostgreSQL storage, where GPU steps of two runs that claim at the same moment can share")
    assert "class: StudioPostgresStorage" in storage
    assert limit == "ok   dagster: the gpu pool limit is 1, one slot per ComfyUI server"
