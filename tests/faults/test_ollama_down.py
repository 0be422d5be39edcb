"""Ollama gone in the middle of a dataset batch: the images after it wait for a person, none is approved
by the machine, and the run says why."""

from __future__ import annotations

import pytest

from studio.cli import main as studio
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.comfyui import ComfyUIDouble
from tests.doubles.ollama import OllamaDouble
from tests.faults.live_batch import (
    CHECKPOINT, Meanwhile, assert_nothing_half_written, great, live_resources, run_batch, wait_until,
)
from tests.test_dataset_batch import fetch

pytestmark = pytest.mark.fault


def test_ollama_down_mid_batch_leaves_the_rest_for_a_person_and_says_why(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    # Jobs far enough apart that Ollama is gone before the second image is reviewed, even on a loaded machine.
    with ComfyUIDouble(job_seconds=1.5) as comfy, OllamaDouble(answer=great) as ollama:
        comfy.install("CheckpointLoaderSimple", "ckpt_name", CHECKPOINT)

        def stop_after_the_first_review():
            wait_until(lambda: fetch(db_url, "SELECT count(*) AS n FROM images WHERE review IS NOT NULL")[0]["n"],
                       what="the first review")
            ollama.stop_serving()

        run_log: list[str] = []
        with Meanwhile(stop_after_the_first_review):
            result = run_batch(live_resources(db_url, studio_env, comfy, ollama), count=3, run_log=run_log)
        assert result.success  # the pictures are fine; only their review has to wait
        assert len(ollama.requests) == 1
    rows = assert_nothing_half_written(db_url, studio_env / "media")
    assert [(r["status"], r["decided_by"]) for r in rows] == [("approved", "auto"), ("pending", None),
                                                              ("pending", None)]
    for row in rows[1:]:
        assert f"cannot reach Ollama at {ollama.url}" in row["review"]["error"]
    metadata = result.asset_materializations_for_node("dataset_images")[0].metadata
    assert metadata["approved"].value == 1 and metadata["pending_review"].value == 2
    [(why, images)] = metadata["review_errors"].value.items()
    assert f"cannot reach Ollama at {ollama.url}" in why and images == 2
    left = [line for line in run_log if "left for a person" in line]
    assert len(left) == 2 and all(f"cannot reach Ollama at {ollama.url}" in line for line in left), run_log
