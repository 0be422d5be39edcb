"""A live dataset batch on real parts for the fault tests: the example project in the test database,
the ComfyUI and Ollama doubles on 127.0.0.1, a Dagster instance with the `gpu` pool, and the checks
every fault must leave true (each image row has its file, its review and its event; each file its row).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

import dagster as dg

from anime_assets.datasets import dataset_images
from resources.comfyui import ComfyUIResource
from resources.database import StudioDatabase
from resources.image_generation import ComfyImageGeneratorResource
from resources.image_review import VisionImageReviewerResource
from resources.ollama import OllamaResource
from resources.studio_config import StudioConfig
from tests.test_dataset_batch import fetch

POOLS = {"concurrency": {"pools": {"default_limit": 1}}}
CHECKPOINT = "animagine-xl-3.1.safetensors"


def great(request: dict) -> dict:
    return {"quality_score": 0.93, "solo": True, "checklist": [{"item": "hair", "passed": True}],
            "species_ok": True, "reason": "on model"}


def live_resources(db_url: str, home: Path, comfy, ollama, **comfy_config) -> dict:
    comfyui = ComfyUIResource(urls=[comfy.url], **{"poll_interval_s": 0.2, "history_timeout_s": 1.0, **comfy_config})
    return {
        "database": StudioDatabase(url=db_url),
        "studio": StudioConfig(backend="live", home=str(home)),
        "image_generator": ComfyImageGeneratorResource(comfyui=comfyui),
        "image_reviewer": VisionImageReviewerResource(ollama=OllamaResource(url=ollama.url, timeout_s=10.0)),
    }


def run_batch(resources: dict, partition: str = "mika", count: int = 3,
              run_log: list[str] | None = None) -> dg.ExecuteInProcessResult:
    """Materialize one batch; `run_log` receives the run's log messages, as the Dagster UI shows them."""
    with dg.instance_for_test(overrides=POOLS) as instance:
        instance.add_dynamic_partitions("character", [partition])
        result = dg.materialize([dataset_images], partition_key=partition, instance=instance, resources=resources,
                                run_config={"ops": {"dataset_images": {"config": {"count": count}}}},
                                raise_on_error=False)
        if run_log is not None:
            run_log.extend(entry.user_message for entry in instance.all_logs(result.run_id))
        return result


def failure_message(result: dg.ExecuteInProcessResult) -> str:
    """The step's error with its chained causes, as the run's failure event shows them."""
    error, messages = result.get_step_failure_events()[0].event_specific_data.error, []
    while error is not None:
        messages.append(error.message)
        error = error.cause
    return "\n".join(messages)


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        time.sleep(0.02)


class Meanwhile:
    """Run `fault` in a thread beside the code under test; its exception is raised again at the end."""

    def __init__(self, fault: Callable[[], None]):
        self._fault, self.error = fault, None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            self._fault()
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            self.error = exc

    def __enter__(self) -> "Meanwhile":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._thread.join(timeout=60)
        if self.error is not None and exc[0] is None:
            raise self.error


def images(db_url: str) -> list[dict]:
    return fetch(db_url, """SELECT i.id, i.file_path, i.status, i.decided_by, i.review, i.comfy_prompt_id,
                                   (SELECT count(*) FROM studio_events e
                                     WHERE e.image_id = i.id AND e.kind = 'image_reviewed') AS events
                              FROM images i ORDER BY i.id""")


def assert_nothing_half_written(db_url: str, media_root: Path, character: str = "mika") -> list[dict]:
    """Every image row has its file, its review and its event; every image file has its row; no temp files."""
    rows = images(db_url)
    for row in rows:
        assert (media_root / row["file_path"]).is_file(), f"image {row['id']} has no file"
        assert row["review"] is not None, f"image {row['id']} has no review"
        assert row["events"] == 1, f"image {row['id']} has {row['events']} image_reviewed events"
    folder = media_root / "datasets" / character / "images"
    on_disk = {str(p.relative_to(media_root)) for p in folder.iterdir()} if folder.is_dir() else set()
    assert on_disk == {r["file_path"] for r in rows}, "files and image rows differ (or a temp file was left)"
    return rows
