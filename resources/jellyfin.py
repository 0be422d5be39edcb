"""Jellyfin as a Dagster resource: where the library tree is and whom to tell about new episodes.

The token is a secret and never sits in resource config (the UI shows config): it is read from the
settings when the client is made.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from studio.clients.jellyfin import JellyfinClient, PathMap
from studio.episodes.publish import PublishOptions
from studio.settings import load_settings


class JellyfinResource(dg.ConfigurableResource):
    library_root: str = Field(description="root of the published Jellyfin tree")
    url: str = Field("", description="Jellyfin server; empty: files are written, nobody is told")
    path_map: str = Field("", description="`<our prefix>=<Jellyfin's prefix>`")
    link: str = Field("auto", description="auto (hard link, else copy) | copy | symlink")
    debounce_s: float = 30.0

    def get_client(self) -> JellyfinClient | None:
        if not self.url:
            return None
        return JellyfinClient(self.url, load_settings().secret("jellyfin_token"), path_map=PathMap.parse(self.path_map))

    def options(self) -> PublishOptions:
        return PublishOptions(Path(self.library_root), link=self.link, debounce_s=self.debounce_s)


def jellyfin_resources(settings) -> dict:
    return {"jellyfin": JellyfinResource(library_root=str(settings.published_root), url=settings.jellyfin_url,
                                         path_map=settings.jellyfin_path_map, link=settings.jellyfin_link,
                                         debounce_s=settings.jellyfin_debounce_s)}
