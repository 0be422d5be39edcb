"""Dataset batches on the live backends (ComfyUI and Ollama doubles) and the GPU pool."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from anime_assets.datasets import dataset_images
from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import ComfyImageGeneratorResource
from resources.image_review import VisionImageReviewerResource
from resources.ollama import OllamaResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.dagster_home import initialize_pools
from tests.conftest import EXAMPLE_SPEC, REPO, _create_database
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble
from tests.test_dataset_batch import fetch

def great(request):
    return {"quality_score": 0.93, "solo": True, "checklist": [{"item": "hair", "passed": True}],
            "species_ok": True, "reason": "on model"}


@pytest.fixture
def services(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    with ComfyUIDouble(job_seconds=0.2) as comfy, OllamaDouble(answer=great) as ollama:
        comfy.install("CheckpointLoaderSimple", "ckpt_name", "animagine-xl-3.1.safetensors")
        resources = {
            "database": StudioDatabase(url=db_url),
            "studio": StudioConfig(backend="live", home=str(studio_env)),
            "image_generator": ComfyImageGeneratorResource(comfyui=ComfyUIResource(urls=[comfy.url], poll_interval_s=0.2)),
            "image_reviewer": VisionImageReviewerResource(ollama=OllamaResource(url=ollama.url)),
        }
        yield comfy, ollama, resources


def run(resources, partition, instance, count=3):
    instance.add_dynamic_partitions("character", [partition])
    return dg.materialize([dataset_images], partition_key=partition, instance=instance, resources=resources,
                          run_config={"ops": {"dataset_images": {"config": {"count": count}}}},
                          raise_on_error=False)


def test_live_batch_records_comfyui_provenance_and_ollama_reviews(services, db_url):
    comfy, ollama, resources = services
    with dg.instance_for_test() as instance:
        assert run(resources, "mika", instance).success
    rows = fetch(db_url, "SELECT * FROM images ORDER BY id")
    assert len(rows) == 3 and len(comfy.jobs) == 3 and len(ollama.requests) == 3
    posted = {p["prompt_id"] for p in comfy.posted_prompts}
    for row in rows:
        assert row["backend"] == "comfyui" and row["comfy_prompt_id"] in posted
        assert row["checkpoint"] == "animagine-xl-3.1.safetensors" and len(row["workflow_hash"]) == 64
        assert row["gpu_seconds"] >= 0.15
        assert row["status"] == "approved" and row["decided_by"] == "auto"  # human, 0.93, solo
        assert row["review"]["model"] == "qwen2.5vl:7b"


def test_a_workflow_comfyui_refuses_fails_the_batch_clearly_and_registers_nothing(services, db_url):
    comfy, _, resources = services
    fetch(db_url, "UPDATE generation_styles SET checkpoint = 'missing-model.safetensors' RETURNING id")
    with dg.instance_for_test() as instance:
        result = run(resources, "mika", instance)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.cause.message
    # Checked against the server's own object_info before the first job: nothing is even posted.
    assert "has no checkpoints file 'missing-model.safetensors': put it into ComfyUI/models/checkpoints" in failure
    assert comfy.requests["POST /prompt"] == 0
    assert fetch(db_url, "SELECT count(*) AS n FROM images")[0]["n"] == 0
    [history] = fetch(db_url, "SELECT status, error FROM generation_history")
    assert history["status"] == "failed" and "missing-model.safetensors" in history["error"]


RUN_ONE_PARTITION = """
import os, sys
import dagster as dg
from anime_assets.datasets import dataset_images
from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import ComfyImageGeneratorResource
from resources.image_review import VisionImageReviewerResource
from resources.ollama import OllamaResource
from resources.studio_config import StudioConfig

resources = {
    "database": StudioDatabase(url=os.environ["STUDIO_DATABASE_URL"]),
    "studio": StudioConfig(backend="live", home=os.environ["STUDIO_HOME"]),
    "image_generator": ComfyImageGeneratorResource(comfyui=ComfyUIResource(urls=[os.environ["COMFY"]], poll_interval_s=0.2)),
    "image_reviewer": VisionImageReviewerResource(ollama=OllamaResource(url=os.environ["OLLAMA"])),
}
with dg.DagsterInstance.get() as instance:
    result = dg.materialize([dataset_images], partition_key=sys.argv[1], instance=instance, resources=resources,
                            run_config={"ops": {"dataset_images": {"config": {"count": 3}}}})
sys.exit(0 if result.success else 1)
"""


def _two_runs_at_once(comfy, ollama, home: Path, dagster_yaml: str, dagster_db_url: str) -> list[str]:
    """Run mika and ember as two processes on one Dagster instance; return who reached the GPU when."""
    home.mkdir()
    (home / "dagster.yaml").write_text(dagster_yaml)
    env = {**os.environ, "DAGSTER_HOME": str(home), "COMFY": comfy.url, "OLLAMA": ollama.url,
           "DAGSTER_PG_URL": dagster_db_url.replace("postgresql://", "postgresql+psycopg2://", 1)}
    os.environ["DAGSTER_PG_URL"] = env["DAGSTER_PG_URL"]
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions("character", ["mika", "ember"])  # also creates the schema once
        initialize_pools(instance)  # as `make dagster-home` does, before several processes start
    comfy.posted_prompts.clear()
    procs = [subprocess.Popen([sys.executable, "-c", RUN_ONE_PARTITION, p], env=env, cwd=REPO,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for p in ("mika", "ember")]
    for proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out[-3000:]
    return [p["prompt"]["save"]["inputs"]["filename_prefix"].split("/")[0] for p in comfy.posted_prompts]


def test_gpu_pool_keeps_two_runs_gpu_steps_apart(services, tmp_path, pg_server_url, monkeypatch):
    comfy, ollama, _ = services
    comfy.job_seconds = 0.4
    monkeypatch.setenv("DAGSTER_PG_URL", "")
    production = (REPO / "deploy" / "dagster.postgres.yaml").read_text()
    # The production instance config (PostgreSQL storage, `pools: default_limit: 1`).
    pooled = _two_runs_at_once(comfy, ollama, tmp_path / "pooled", production,
                               _create_database(pg_server_url, None))
    # With the pool, one character's jobs all reach the GPU before the other's start.
    assert pooled in (["mika"] * 3 + ["ember"] * 3, ["ember"] * 3 + ["mika"] * 3), pooled
    # Control: with a pool limit of 2 the same two runs interleave at the GPU, so the check above can fail.
    unpooled = _two_runs_at_once(comfy, ollama, tmp_path / "unpooled",
                                 production.replace("default_limit: 1", "default_limit: 2"),
                                 _create_database(pg_server_url, None))
    assert unpooled not in (["mika"] * 3 + ["ember"] * 3, ["ember"] * 3 + ["mika"] * 3), unpooled
