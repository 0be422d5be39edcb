"""The doctor's pure rules, without servers: the gpu pool against the number of ComfyUI servers, and
FramePack across several servers (what the shot renderer's preflight and the doctor both apply)."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_graphs.framepack import FramePackParams
from studio.domain.comfy_setup import ServerSetup
from studio.domain.framepack_setup import framepack_check
from studio.domain.gpu_pool import InstancePool, StoredLimit, pool_lines, storage_config, storage_dsn, storage_kind
from tests.framepack_info import FRAMEPACK_MODEL, f1_sampler, framepack_object_info

HOME = Path("/srv/dagster")
SET_2 = f"run `DAGSTER_HOME={HOME} dagster instance concurrency set gpu 2`"
DEFAULT_2 = f"set concurrency.pools.default_limit: 2 in {HOME}/dagster.yaml"


def pool(default: int | None, stored: StoredLimit | None, storage: str = "postgres") -> InstancePool:
    return InstancePool(HOME, storage, default, stored)


def test_a_limit_equal_to_the_servers_is_ok():
    assert pool_lines(pool(2, StoredLimit(2, True)), 2) == [(True, "the gpu pool limit is 2, one slot per ComfyUI server")]


def test_an_explicit_stored_limit_wins_over_the_default_and_a_stale_default_is_mentioned():
    [(ok, text)] = pool_lines(pool(1, StoredLimit(2, False)), 2)
    assert ok and f"new instances start from it, so {DEFAULT_2} too" in text


def test_a_stored_limit_above_the_servers_names_both_settings():
    [(ok, text)] = pool_lines(pool(3, StoredLimit(3, True)), 2)
    assert not ok and "3 GPU steps can run at once on 2 GPU(s), so two share one GPU" in text
    assert f"{SET_2} and {DEFAULT_2}" in text


def test_an_explicit_limit_below_the_servers_needs_only_the_command():
    [(ok, text)] = pool_lines(pool(2, StoredLimit(1, False)), 2)
    assert not ok and "(stored in the Dagster instance)" in text and "1 of the 2 GPU(s) stay idle" in text
    assert text.endswith(SET_2)


def test_a_default_edited_after_the_pool_was_stored_breaks_claims_on_postgres():
    [(ok, text)] = pool_lines(pool(2, StoredLimit(1, True)), 2)
    assert not ok and "GPU steps fail when they claim a slot" in text and text.endswith(SET_2)


def test_a_default_removed_after_the_pool_was_stored_leaves_the_pool_unlimited():
    [(ok, text)] = pool_lines(pool(None, StoredLimit(1, True)), 2)
    assert not ok and "the pool has no limit" in text and f"{SET_2} and {DEFAULT_2}" in text


@pytest.mark.parametrize("default, says", [
    (None, "has no limit"), (1, "the gpu pool limit is 1"), (2, "is not set up in the Dagster instance")])
def test_a_pool_never_stored_is_set_up_by_dagster_init(default, says):
    [(ok, text)] = pool_lines(pool(default, None), 2)
    assert not ok and says in text and text.endswith("`studio dagster-init`")


def test_dagsters_own_postgres_storage_is_named_before_the_limit_lines():
    warning, limit = pool_lines(pool(2, StoredLimit(2, True), storage="dagster-postgres"), 2)
    assert not warning[0] and "claim at the same moment can share one slot" in warning[1]
    assert "module: studio.dagster_storage, class: StudioPostgresStorage" in warning[1]
    assert limit == (True, "the gpu pool limit is 2, one slot per ComfyUI server")


def test_sqlite_storage_is_refused_whatever_the_limit():
    [(ok, text)] = pool_lines(pool(2, None, storage="sqlite"), 2)
    assert not ok and "keeps its pools in SQLite" in text


@pytest.mark.parametrize("config, kind", [
    ({}, "sqlite"),
    ({"storage": storage_config({"env": "DAGSTER_PG_URL"})}, "postgres"),
    ({"storage": {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}}, "dagster-postgres"),
    ({"storage": {"sqlite": {"base_dir": "x"}}}, "sqlite"),
    ({"event_log_storage": {"module": "studio.dagster_storage", "class": "PoolSerializedEventLogStorage"}}, "postgres"),
    ({"event_log_storage": {"module": "dagster_postgres.event_log", "class": "PostgresEventLogStorage"}},
     "dagster-postgres"),
    ({"storage": {"custom": {"module": "elsewhere", "class": "StudioPostgresStorage"}}}, "other"),
    ({"storage": {"mysql": {}}}, "other"),
])
def test_storage_kind(config, kind):
    assert storage_kind(config) == kind


@pytest.mark.parametrize("postgres, dsn", [
    ({"postgres_url": "postgresql+psycopg2://postgres@/dagster?host=/h/pg"}, "postgresql://postgres@/dagster?host=/h/pg"),
    ({"postgres_url": {"env": "DAGSTER_PG_URL"}}, "postgresql://dagster:pw@postgres:5432/dagster"),
    ({"postgres_db": {"username": "d", "password": {"env": "PW"}, "hostname": "db", "db_name": "dagster",
                      "port": 5433, "params": {"sslmode": "require"}}}, "postgresql://d:p%20w@db:5433/dagster?sslmode=require"),
])
def test_storage_dsn_resolves_what_dagster_would_connect_to(postgres, dsn):
    environ = {"DAGSTER_PG_URL": "postgresql+psycopg2://dagster:pw@postgres:5432/dagster", "PW": "p w"}
    assert storage_dsn({"storage": {"postgres": postgres}}, environ) == dsn
    custom = {"custom": {"module": "studio.dagster_storage", "class": "StudioPostgresStorage", "config": postgres}}
    assert storage_dsn({"storage": custom}, environ) == dsn


def test_storage_dsn_from_an_unset_variable_says_which():
    with pytest.raises(LookupError, match="DAGSTER_PG_URL is not set"):
        storage_dsn({"storage": {"postgres": {"postgres_url": {"env": "DAGSTER_PG_URL"}}}}, {})


def params(use_f1: bool) -> FramePackParams:
    return FramePackParams(model=FRAMEPACK_MODEL, start_image="s.png", motion_prompt="m", seed=0, duration_s=1.0,
                           use_f1=use_f1)


def setup(*, f1_name: str | None = None) -> ServerSetup:
    info = framepack_object_info()
    if f1_name:
        _, node = f1_sampler(info)
        info[f1_name] = node
    return ServerSetup(info, {})


def test_servers_with_everything_pass_and_the_renderer_gets_the_f1_sampler_to_use():
    check = framepack_check(params(True), {"a": setup(f1_name="FramePackSamplerF1"),
                                           "b": setup(f1_name="FramePackSamplerF1")})
    assert check.problems == [] and "FramePackSamplerF1" in check.object_info


def test_without_f1_no_sampler_fork_is_needed():
    check = framepack_check(params(False), {"a": setup()})
    assert check.by_server == {"a": []} and check.object_info is None


def test_f1_samplers_named_differently_across_servers_are_one_line_and_no_server_is_blamed():
    check = framepack_check(params(True), {"a": setup(f1_name="FramePackSamplerF1"),
                                           "b": setup(f1_name="FramePackF1Sampler")})
    assert check.by_server == {"a": [], "b": []}
    assert check.across == ["the ComfyUI servers name their FramePack F1 sampler differently (FramePackSamplerF1 at a, "
                            "FramePackF1Sampler at b): install the same fork of ComfyUI-FramePackWrapper on all of them"]


def test_a_server_without_the_f1_sampler_is_named_with_what_else_it_lacks():
    bare = ServerSetup({k: v for k, v in framepack_object_info().items() if not k.startswith("FramePack")}, {})
    check = framepack_check(params(True), {"a": setup(f1_name="FramePackSamplerF1"), "b": bare})
    assert check.by_server["a"] == []
    assert check.by_server["b"][0].startswith("ComfyUI at b has no FramePack F1 sampler node")
    assert "ComfyUI at b has no node FramePackFindNearestBucket: install the custom node pack " \
           "ComfyUI-FramePackWrapper (kijai) into ComfyUI/custom_nodes and restart ComfyUI" in check.by_server["b"]
