"""The code location, the partition sync sensor and the catalog assets on a real Dagster instance."""

import asyncio
import os
import subprocess
import sys

import dagster as dg

from anime_assets.characters import characters
from anime_assets.definitions import defs
from resources.database import StudioDatabase
from studio.cli import main as studio
from studio.db.pool import connect
from studio.demo import sync_partitions
from tests.conftest import EXAMPLE_SPEC, REPO


def test_definitions_are_loadable():
    dg.Definitions.validate_loadable(defs)


def test_code_location_loads_in_a_fresh_process_from_workspace_module():
    done = subprocess.run(
        [sys.executable, "-c", "from anime_assets.definitions import defs; "
         "print(sorted(k.to_user_string() for k in defs.resolve_all_asset_keys()))"],
        capture_output=True, text=True, cwd=REPO, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "characters" in done.stdout and "episodes" in done.stdout


def test_loading_the_code_location_freezes_it_and_leaves_the_collector_as_it_was():
    code = ("import gc, sys; was = sys.argv[1] == 'on'; gc.enable() if was else gc.disable(); "
            "import anime_assets.definitions; assert gc.isenabled() == was; "
            "assert gc.get_freeze_count() > 50_000, gc.get_freeze_count()")
    for state in ("on", "off"):
        subprocess.run([sys.executable, "-c", code, state], cwd=REPO, check=True, timeout=60)


def _defs_for(db_url: str) -> dg.Definitions:
    return dg.Definitions(
        assets=defs.assets, jobs=defs.jobs, sensors=defs.sensors,
        resources={**defs.resources, "database": StudioDatabase(url=db_url)},
    )


def test_partition_sensor_adds_new_rows_and_removes_deleted_ones(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    test_defs = _defs_for(db_url)
    with dg.instance_for_test() as instance:
        sync_partitions(test_defs, instance)
        assert sorted(instance.get_dynamic_partitions("character")) == ["ember", "mika"]
        assert instance.get_dynamic_partitions("scene") == ["lamp-goes-out"]
        assert instance.get_dynamic_partitions("episode") == ["lantern-harbor-e01"]

        async def delete_ember():
            async with connect(db_url) as conn:
                await conn.execute("DELETE FROM characters WHERE slug = 'ember'")

        asyncio.run(delete_ember())
        sensor = test_defs.resolve_sensor_def("partition_sync_sensor")
        with dg.build_sensor_context(instance=instance, resources=test_defs.resources) as context:
            result = sensor(context)
        removals = [r for r in result.dynamic_partitions_requests
                    if isinstance(r, dg.DeleteDynamicPartitionsRequest)]
        assert [(r.partitions_def_name, list(r.partition_keys)) for r in removals] == [("character", ["ember"])]

        sync_partitions(test_defs, instance)
        assert instance.get_dynamic_partitions("character") == ["mika"]
        with dg.build_sensor_context(instance=instance, resources=test_defs.resources) as context:
            assert isinstance(sensor(context), dg.SkipReason)  # in sync: nothing to do


def test_characters_asset_records_the_character_sheet(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["ember"])
        result = dg.materialize(
            [characters], partition_key="ember", instance=instance,
            resources={"database": StudioDatabase(url=db_url)},
        )
        assert result.success
        [materialization] = result.asset_materializations_for_node("characters")
        meta = materialization.metadata
        assert meta["species"].value == "dragon — NOT human"
        assert meta["human"].value is False
        assert meta["target_images"].value == 12


def test_without_a_database_url_an_embedded_postgres_starts_in_the_studio_home(tmp_path):
    from studio.db.embedded import stop_embedded_server

    home = tmp_path / "h"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDIO_")}
    env["STUDIO_HOME"] = str(home)
    try:
        done = subprocess.run([sys.executable, "-m", "studio.cli", "import", str(EXAMPLE_SPEC)],
                              capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert (home / "pg" / "PG_VERSION").exists()
        again = subprocess.run([sys.executable, "-m", "studio.cli", "import", str(EXAMPLE_SPEC)],
                               capture_output=True, text=True, env=env, timeout=120)
        assert "(nothing changed)" in again.stdout  # the same database, found again
    finally:
        stop_embedded_server(home / "pg")
