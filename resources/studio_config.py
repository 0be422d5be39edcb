"""Non-secret settings every asset needs: which backends run, and where media files live."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from studio.settings import load_settings


class StudioConfig(dg.ConfigurableResource):
    # "preview": CPU stand-ins that write real files; "live": ComfyUI/Ollama/Jellyfin/Echo over HTTP.
    backend: str = "preview"
    home: str = ""

    @property
    def media_root(self) -> Path:
        return Path(self.home) / "media" if self.home else load_settings().media_root

    @classmethod
    def from_env(cls) -> "StudioConfig":
        settings = load_settings()
        return cls(backend=settings.backend, home=str(settings.home))
