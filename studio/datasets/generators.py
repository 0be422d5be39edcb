"""Image generators for dataset batches: ComfyUI on the GPU (live) or the CPU preview drawer.

Both take a GenerationRequest and return a GeneratedImage, so the batch code does not know which
backend it runs on; the preview marks its images `backend: preview`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from comfy_graphs.hashing import workflow_hash
from comfy_graphs.params import IPAdapterReference, LoraParams, Txt2ImgParams
from comfy_graphs.txt2img import build_txt2img_workflow
from studio.clients.comfyui import ComfyUIClient
from studio.datasets.models import GeneratedImage, GenerationRequest
from studio.preview.character_image import draw_character, encode_png


class PreviewImageGenerator:
    backend = "preview"

    def __init__(self, max_side: int = 512, delay_s: float = 0.0):
        # Preview pictures are small: they stand in for the real thing, they are not the real thing.
        self.max_side = max_side
        self.delay_s = delay_s  # tests only (STUDIO_PREVIEW_DELAY_S): a job a fault test can kill mid-way

    def session(self) -> contextlib.AbstractAsyncContextManager:
        return contextlib.nullcontext()  # nothing to share for a local backend

    async def generate(self, request: GenerationRequest, log: logging.Logger) -> GeneratedImage:
        scale = min(1.0, self.max_side / max(request.style.width, request.style.height))
        width, height = int(request.style.width * scale) // 8 * 8, int(request.style.height * scale) // 8 * 8
        # Drawing is CPU-bound: keep the event loop free for the other jobs of the batch.
        picture = await asyncio.to_thread(
            draw_character, request.appearance, seed=request.seed, width=width, height=height,
            name=request.character,
        )
        await asyncio.sleep(self.delay_s)
        return GeneratedImage(data=encode_png(picture), seed=request.seed, backend="preview",
                              checkpoint=f"preview:{request.style.checkpoint}")


class ComfyImageGenerator:
    backend = "comfyui"

    def __init__(self, comfyui: ComfyUIClient, ipadapter_preset: str = "PLUS (high strength)"):
        self.comfyui, self.ipadapter_preset = comfyui, ipadapter_preset

    def session(self) -> contextlib.AbstractAsyncContextManager:
        """Around a batch: one HTTP client and one socket per server for all its jobs."""
        return self.comfyui.session()

    def workflow_for(self, request: GenerationRequest) -> dict:
        style = request.style
        references = None
        if request.references:
            references = IPAdapterReference(images=sorted(request.references), preset=self.ipadapter_preset,
                                            weight=request.ipadapter_weight)
        params = Txt2ImgParams(
            checkpoint=style.checkpoint,
            lora=LoraParams(name=style.lora_name, strength_model=style.lora_strength,
                            strength_clip=style.lora_strength) if style.lora_name else None,
            positive=request.positive, negative=request.negative, seed=request.seed, steps=style.steps,
            cfg=style.cfg, sampler_name=style.sampler, scheduler=style.scheduler, width=style.width,
            height=style.height, batch_size=1, filename_prefix=request.filename_prefix,
            reference=references,
        )
        return build_txt2img_workflow(params)

    async def preflight(self, request: GenerationRequest) -> None:
        """Before a batch: every server has the nodes and model files this workflow needs, or the
        batch stops here with what to install (an error that would otherwise repeat for every job)."""
        from studio.clients.comfyui_protocol import ComfySetupError
        from studio.doctor.comfy import comfy_problems

        problems = await comfy_problems(self.comfyui, [self.workflow_for(request)])
        if problems:
            raise ComfySetupError(problems)

    async def generate(self, request: GenerationRequest, log: logging.Logger) -> GeneratedImage:
        workflow = self.workflow_for(request)
        run = await self.comfyui.run(workflow, images=request.references, log=log)
        images = [o for o in run.outputs if o.kind == "images"]
        if not images:
            raise RuntimeError(f"ComfyUI prompt {run.prompt_id} finished without an image")
        data = await self.comfyui.download(run, images[0])
        return GeneratedImage(
            data=data, seed=request.seed, backend="comfyui", checkpoint=request.style.checkpoint,
            lora=request.style.lora_name, workflow_hash=workflow_hash(workflow),
            comfy_prompt_id=run.prompt_id, gpu_seconds=run.gpu_seconds,
        )
