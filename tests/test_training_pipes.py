"""LoRA training through Dagster Pipes end to end: the dataset snapshot, the launcher running the
preview trainer or a fake kohya (real captured output), the checkpoint row, samples and the gate."""

import os
import signal
import threading
import time
import tomllib

import dagster as dg
import pytest
from safetensors import safe_open

from studio.training.lora_file import file_sha256
from tests.training_seed import live_trainer, query, ready_to_train, train


@pytest.fixture
def mika(studio_env, db_url):
    return ready_to_train(db_url, studio_env)


def pipes_messages(instance, result) -> list[str]:
    return [e.user_message for e in instance.all_logs(result.run_id) if e.user_message]


def test_dataset_layout_is_what_kohya_reads(mika, db_url):
    with dg.instance_for_test() as instance:
        from anime_assets.training import training_dataset
        result = train(instance, db_url, mika, assets=[training_dataset])
    meta = result.asset_materializations_for_node("training_dataset")[0].metadata
    config = tomllib.loads(open(meta["dataset_toml"].value).read())
    [subset] = config["datasets"][0]["subsets"]
    assert subset["caption_extension"] == config["general"]["caption_extension"] == ".txt"
    assert subset["num_repeats"] == 20 and subset["class_tokens"] == "human"  # 3 images: the repeats rule
    # The example's style is SDXL, trained on cached text-encoder outputs: kohya refuses shuffled captions.
    assert meta["architecture"].value == "sdxl" and config["general"]["shuffle_caption"] is False
    # A snapshot written under the old rule (shuffled) gets the right TOML when it is reused.
    toml_path = meta["dataset_toml"].value
    shuffled = open(toml_path).read().replace("shuffle_caption = false", "shuffle_caption = true")
    assert "shuffle_caption = true" in shuffled
    open(toml_path, "w").write(shuffled)
    with dg.instance_for_test() as instance:
        again = train(instance, db_url, mika, assets=[training_dataset])
    assert again.asset_materializations_for_node("training_dataset")[0].metadata["dataset_toml"].value == toml_path
    assert tomllib.loads(open(toml_path).read())["general"]["shuffle_caption"] is False
    images = sorted((p for p in os.scandir(subset["image_dir"]) if p.name.endswith(".png")),
                    key=lambda p: int(p.name[:-4]))
    assert len(images) == 3
    for image in images:
        caption = open(image.path[:-4] + ".txt").read()
        assert caption.startswith("mika_sts, solo, human")
    assert [c.startswith("mika_sts") and ("freckles" in c) for c in
            (open(i.path[:-4] + ".txt").read() for i in images)] == [True, False, True]  # review said no freckles
    assert result.asset_materializations_for_node("training_dataset")[0].tags["dagster/data_version"] == \
        meta["dataset_hash"].value


def test_preview_training_through_pipes_records_a_checkpoint_that_becomes_active(mika, db_url):
    with dg.instance_for_test() as instance:
        result = train(instance, db_url, mika)
        messages = pipes_messages(instance, result)
    assert result.success
    meta = result.asset_materializations_for_node("lora_checkpoints")[0].metadata
    [row] = query(db_url, "SELECT * FROM lora_checkpoints")
    path = mika / "media" / row["file_path"]
    assert row["sha256"] == file_sha256(path) == meta["sha256"].value
    assert row["rank"] == 2 and row["architecture"] == "sdxl" and row["base_model"] == "animagine-xl-3.1.safetensors"
    assert row["steps"] == 3 * 20 * 2 and len(row["loss_curve"]) == row["steps"] and len(row["epoch_losses"]) == 2
    assert row["image_ids"] == sorted(row["image_ids"]) and row["image_count"] == 3
    assert row["is_active"] and row["quality_score"] is not None and len(row["sample_images"]) == 2
    assert all((mika / "media" / s["path"]).is_file() for s in row["sample_images"])
    with safe_open(str(path), framework="numpy") as f:
        assert all(k.startswith("lora_unet_") for k in f.keys())
    assert "epoch 1/2" in messages and any(m.startswith("step 120/120 avr_loss=") for m in messages)
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".tmp")]


def test_fake_live_trainer_output_is_parsed_into_loss_and_dagster_logs(mika, db_url, tmp_path):
    with dg.instance_for_test() as instance:
        result = train(instance, db_url, mika, trainer=live_trainer(tmp_path))
        messages = pipes_messages(instance, result)
    assert result.success
    [row] = query(db_url, "SELECT * FROM lora_checkpoints")
    assert row["backend"] == "live" and row["rank"] == 4 and row["steps"] == 8
    assert row["loss_curve"][-1] == [8, 0.972] and row["epoch_losses"] == [1.05, 0.972]
    assert "step 8/8 avr_loss=0.972" in messages and "epoch 2/2" in messages


@pytest.mark.parametrize("mode, error", [
    ("fail", "trainer exited with code 1: ValueError: The provided pretrained_model_name_or_path"),
    ("no_data", "trainer exited 0 but the trainer wrote no file"),
])
def test_failing_trainer_is_reported_clearly_and_leaves_no_file_and_no_row(mika, db_url, tmp_path, monkeypatch,
                                                                         mode, error):
    monkeypatch.setenv("FAKE_KOHYA_MODE", mode)
    with dg.instance_for_test() as instance:
        result = train(instance, db_url, mika, trainer=live_trainer(tmp_path), raise_on_error=False)
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert error in failure.event_specific_data.error.message
    assert query(db_url, "SELECT * FROM lora_checkpoints") == []
    assert [p for p in (mika / "media" / "loras").rglob("*") if not p.is_dir()] == []


def test_killed_trainer_leaves_nothing_behind(mika, db_url, tmp_path, monkeypatch):
    pids = tmp_path / "pids"
    monkeypatch.setenv("FAKE_KOHYA_MODE", "hang")
    monkeypatch.setenv("FAKE_KOHYA_PIDS", str(pids))

    def kill_when_saving():  # the OOM killer, or a person's kill -9, mid-save
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if list((mika / "media" / "loras").rglob("*.safetensors")) and pids.exists() and \
                    len(pids.read_text().split()) == 2:
                os.killpg(int(pids.read_text().split()[0]), signal.SIGKILL)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_when_saving)
    killer.start()
    with dg.instance_for_test() as instance:
        result = train(instance, db_url, mika, trainer=live_trainer(tmp_path), raise_on_error=False)
    killer.join()
    assert not result.success
    [failure] = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert "code -9" in failure.event_specific_data.error.message
    assert query(db_url, "SELECT * FROM lora_checkpoints") == []
    assert [p for p in (mika / "media" / "loras").rglob("*") if not p.is_dir()] == []  # the truncated file went with its temp folder
