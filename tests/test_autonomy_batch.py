"""Parameters chosen by the learner reach the batch's generation requests and its provenance."""

import asyncio

import dagster as dg

from anime_assets.datasets import approved_images, dataset_images
from resources.database import StudioDatabase
from resources.image_generation import PreviewImageGeneratorResource
from resources.image_review import PreviewImageReviewerResource
from resources.studio_config import StudioConfig
from studio.cli import main as studio
from studio.datasets.generators import ComfyImageGenerator
from studio.datasets.models import BatchParameters, GenerationRequest, StyleParams
from studio.db.pool import connect
from studio.domain.appearance import Appearance
from tests.conftest import EXAMPLE_SPEC


def _rows(db_url, sql):
    async def go():
        async with connect(db_url) as conn:
            return [dict(r) for r in await conn.fetch(sql)]
    return asyncio.run(go())


def test_run_config_parameters_change_the_batch_and_are_recorded(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    parameters = {"cfg": 8.5, "steps": 35, "sampler": "dpmpp_2m", "width": 512, "height": 768,
                  "ipadapter_weight": 0.8, "extra_negatives": ["(extra limbs:1.3)"],
                  "provenance": {"strategy": "raise_steps", "why": "raise_steps after rejections (blurry x2)"}}
    run_config = {"ops": {"dataset_images": {"config": {"count": 2, "parameters": parameters}}}}
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(studio_env)),
                 "image_generator": PreviewImageGeneratorResource(), "image_reviewer": PreviewImageReviewerResource()}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika"])
        result = dg.materialize([dataset_images, approved_images], partition_key="mika", instance=instance,
                                resources=resources, run_config=run_config)
    assert result.success
    meta = result.asset_materializations_for_node("dataset_images")[0].metadata
    assert meta["strategy"].value == "raise_steps"
    used = meta["parameters"].value["used"]
    assert (used["cfg"], used["steps"], used["sampler"], used["ipadapter_weight"]) == (8.5, 35, "dpmpp_2m", 0.8)
    [history] = _rows(db_url, "SELECT parameters, strategy FROM generation_history")
    assert history["strategy"] == "raise_steps" and history["parameters"]["used"] == used
    images = _rows(db_url, "SELECT width, height, negative_prompt FROM images")
    # The preview draws at most 512 px on the long side, keeping the requested aspect ratio.
    assert images and all((r["width"], r["height"]) == (336, 512) for r in images)
    assert all(r["negative_prompt"].endswith("(extra limbs:1.3)") for r in images)


def test_a_bad_parameter_fails_the_run_naming_the_field(studio_env, db_url):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    run_config = {"ops": {"dataset_images": {"config": {"count": 1, "parameters": {"steps": 0}}}}}
    resources = {"database": StudioDatabase(url=db_url), "studio": StudioConfig(backend="preview", home=str(studio_env)),
                 "image_generator": PreviewImageGeneratorResource(), "image_reviewer": PreviewImageReviewerResource()}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("character", ["mika"])
        result = dg.materialize([dataset_images], partition_key="mika", instance=instance, resources=resources,
                                run_config=run_config, raise_on_error=False)
    assert not result.success
    failure = result.get_step_failure_events()[0].event_specific_data.error.message
    assert "steps" in failure


def test_comfyui_workflow_carries_the_chosen_parameters():
    style = StyleParams(checkpoint="a.safetensors")
    chosen = BatchParameters(cfg=8.0, steps=40, sampler="dpmpp_2m", ipadapter_weight=0.9).apply(style)
    request = GenerationRequest(character="mika", appearance=Appearance(), positive="p", negative="n", seed=1,
                                style=chosen, references={"ref_a.png": b"x"}, ipadapter_weight=0.9,
                                filename_prefix="mika/x_0")
    graph = ComfyImageGenerator(comfyui=None).workflow_for(request)
    sampler = next(n["inputs"] for n in graph.values() if n["class_type"] == "KSampler")
    assert (sampler["cfg"], sampler["steps"], sampler["sampler_name"]) == (8.0, 40, "dpmpp_2m")
    adapter = next(n["inputs"] for n in graph.values() if n["class_type"] == "IPAdapterAdvanced")
    assert adapter["weight"] == 0.9
