"""Non-secret settings every asset needs: which backends run, and where media files live."""

from __future__ import annotations

from pathlib import Path

import dagster as dg


class StudioConfig(dg.ConfigurableResource):
    # "preview": CPU stand-ins that write real files; "live": ComfyUI/Ollama/Jellyfin/Echo over HTTP.
    backend: str = "preview"
    home: str  # the studio home (studio/settings.py); media live in its media/ folder

    @property
    def media_root(self) -> Path:
        return Path(self.home) / "media"
