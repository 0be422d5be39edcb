"""A changed dataset makes the checkpoint stale in Dagster, and the sensor requests training once."""

import dagster as dg
import pytest

from anime_assets.datasets import approved_images
from anime_assets.training import lora_checkpoints, training_dataset
from resources.database import StudioDatabase
from sensors.training_sensor import training_sensor
from tests.training_seed import add_approved, import_example, query, train


@pytest.fixture
def mika(studio_env, db_url):
    import_example(studio_env)
    query(db_url, "UPDATE characters SET target_images = 3 WHERE slug = 'mika'")
    return studio_env


def tick(instance, db_url):
    with dg.build_sensor_context(instance=instance, resources={"database": StudioDatabase(url=db_url)}) as context:
        result = training_sensor(context)
    return result if isinstance(result, dg.SkipReason) else [result]


def stale_status(instance, slug):
    # Dagster's own test helper for the resolver the UI uses to show "stale".
    from dagster._utils.test.data_versions import get_stale_status_resolver

    resolver = get_stale_status_resolver(instance, [approved_images, training_dataset, lora_checkpoints])
    return resolver.get_status(lora_checkpoints.key, slug)


def test_changed_dataset_is_stale_and_trained_once(mika, db_url):
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika", "ember"])
        add_approved(db_url, mika, "mika", 2)
        assert isinstance(tick(instance, db_url), dg.SkipReason)  # 2 of 3: not at its target
        add_approved(db_url, mika, "mika", 1, start=2)
        [request] = tick(instance, db_url)
        assert request.partition_key == "mika" and request.run_key.startswith("lora:mika:")
        [again] = tick(instance, db_url)
        assert again.run_key == request.run_key  # stable: Dagster runs one request per key
        assert train(instance, db_url, mika).success
        assert isinstance(tick(instance, db_url), dg.SkipReason)  # trained on exactly this snapshot
        assert stale_status(instance, "mika").value == "FRESH"

        add_approved(db_url, mika, "mika", 1, start=3)  # the dataset changed
        [new] = tick(instance, db_url)
        assert new.run_key != request.run_key
        assert train(instance, db_url, mika, assets=[training_dataset]).success
        assert stale_status(instance, "mika").value == "STALE"
