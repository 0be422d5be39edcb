"""A GPU box for `studio doctor` tests: the doubles with everything installed, the example project
imported, and a real Dagster instance (PostgreSQL, as `studio dagster-init` leaves it) whose gpu pool
fits the one ComfyUI server. Tests take parts away."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import dagster as dg
import pytest
import yaml

from studio.cli import main as studio
from studio.dagster_home import initialize_pools
from studio.doctor.report import doctor_lines
from studio.settings import load_settings
from tests.conftest import EXAMPLE_SPEC
from tests.dagster_pg_home import dagster_home
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.comfyui_catalog import IPADAPTER_MODELS
from tests.doubles.echo import EchoDouble
from tests.doubles.ollama import OllamaDouble
from tests.framepack_info import installed_models
from tests.test_dataset_batch import fetch

CHECKPOINT = "animagine-xl-3.1.safetensors"  # the example spec's style


def instance_home(tmp_path, pg_server_url, *, default_limit: int | None = None):
    """A DAGSTER_HOME as `studio dagster-init` leaves it (pool stored), from the repo's dagster.yaml."""
    home = dagster_home(tmp_path, pg_server_url)
    if default_limit is not None:
        config = yaml.safe_load((home / "dagster.yaml").read_text())
        config["concurrency"]["pools"]["default_limit"] = default_limit
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        initialize_pools(instance)
    return home


@pytest.fixture(scope="module")
def one_gpu_instance(tmp_path_factory, pg_server_url):
    return instance_home(tmp_path_factory.mktemp("dagster"), pg_server_url)


def install_character_models(comfy: ComfyUIDouble) -> None:
    comfy.install("CheckpointLoaderSimple", "ckpt_name", CHECKPOINT)


def install_framepack_models(comfy: ComfyUIDouble) -> None:
    for class_type, input_name, name in installed_models():
        comfy.install(class_type, input_name, name)


@pytest.fixture
def box(studio_env, db_url, monkeypatch, one_gpu_instance):
    """A GPU box with everything installed, the example project imported, the Dagster instance's gpu pool
    set up for it; tests take parts away."""
    with ThreadPoolExecutor(1) as thread:  # the CLI runs its own event loop; async tests already have one
        assert thread.submit(studio, ["import", str(EXAMPLE_SPEC)]).result() == 0
    fetch(db_url, "UPDATE characters SET reference_images = '[\"refs/mika_front.png\"]' WHERE slug = 'mika' RETURNING id")
    with ComfyUIDouble(models=IPADAPTER_MODELS) as comfy, OllamaDouble() as ollama, EchoDouble() as echo:
        install_character_models(comfy)
        install_framepack_models(comfy)
        monkeypatch.setenv("DAGSTER_HOME", str(one_gpu_instance))
        monkeypatch.setenv("STUDIO_FRAMEPACK_F1", "false")
        monkeypatch.setenv("STUDIO_BACKEND", "live")
        monkeypatch.setenv("STUDIO_COMFYUI_URLS", comfy.url)
        monkeypatch.setenv("STUDIO_OLLAMA_URL", ollama.url)
        monkeypatch.setenv("STUDIO_ECHO_URL", echo.url)
        yield comfy, ollama, echo


async def failures() -> list[str]:
    return [line.text for line in await doctor_lines(load_settings()) if not line.ok]
