"""approved_images is kept fresh: a person's approval makes the sensor re-count that character once."""

from __future__ import annotations

import asyncio

import dagster as dg

from anime_assets.datasets import approved_images
from resources.database import StudioDatabase
from resources.studio_config import StudioConfig
from sensors.approved_images_sensor import approved_images_sensor
from studio.db.pool import connect
from studio.review.decisions import approve
from tests.review_seed import seed_character, seed_image, seed_project


def _evaluate(instance, database, cursor=None):
    with dg.build_sensor_context(instance=instance, resources={"database": database}, cursor=cursor) as context:
        result = approved_images_sensor(context)
        return result, result.cursor


def test_a_human_approval_requests_one_recount_of_that_character(db_url, tmp_path):
    async def seed():
        async with connect(db_url) as conn:
            project = await seed_project(conn)
            mika = await seed_character(conn, project, "mika", target=2)
            style = await conn.fetchval("INSERT INTO generation_styles (project_id, slug, checkpoint) "
                                        "VALUES ($1, 'anime', 'x.safetensors') RETURNING id", project)
            await conn.execute("UPDATE characters SET style_id = $1", style)
            await seed_character(conn, project, "ember")
            images = [await seed_image(conn, tmp_path / "media", mika, n) for n in (1, 2)]
            return images

    images = asyncio.run(seed())
    database = StudioDatabase(url=db_url)
    assert approved_images_sensor.default_status == dg.DefaultSensorStatus.RUNNING
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika", "ember"])
        result, cursor = _evaluate(instance, database)
        assert not result.run_requests  # nothing decided yet

        async def decide():
            async with connect(db_url) as conn:
                for image_id in images:
                    await approve(conn, image_id, reviewer="ana")

        asyncio.run(decide())
        result, cursor = _evaluate(instance, database, cursor)
        [request] = result.run_requests
        assert request.partition_key == "mika" and request.run_key.startswith("approved_images:mika:")
        again, _ = _evaluate(instance, database, cursor)
        assert not again.run_requests  # the cursor moved past those decisions

        materialized = dg.materialize([approved_images], partition_key="mika", instance=instance,
                                      resources={"database": database,
                                                 "studio": StudioConfig(backend="preview", home=str(tmp_path))})
        meta = materialized.asset_materializations_for_node("approved_images")[0].metadata
        assert meta["approved"].value == 2 and meta["ready"].value is True
