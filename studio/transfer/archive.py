"""The `studio export` archive: manifest.json (images with provenance and decisions, and the human
review feedback) plus every image file under media/, in one .tar.gz."""

from __future__ import annotations

VERSION = 1
MANIFEST = "manifest.json"
IMAGE_FIELDS = ("file_path", "sha256", "phash", "width", "height", "status", "quality_score", "review",
                "decided_by", "reviewer", "prompt", "negative_prompt", "seed", "checkpoint", "lora",
                "workflow_hash", "comfy_prompt_id", "gpu_seconds", "backend", "source")
