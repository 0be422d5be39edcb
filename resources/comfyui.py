"""ComfyUI as a Dagster resource: configuration in, a `ComfyUIClient` out (studio/clients/comfyui.py)."""

from __future__ import annotations

import dagster as dg
from pydantic import Field, PrivateAttr

from studio.clients.comfyui import ComfyUIClient


class ComfyUIResource(dg.ConfigurableResource):
    urls: list[str] = Field(["http://127.0.0.1:8188"], description="One ComfyUI per GPU; jobs go to the least busy.")
    connect_timeout_s: float = 5.0
    request_timeout_s: float = Field(120.0, description="One HTTP request, uploads and downloads included.")
    queue_timeout_s: float = Field(3600.0, description="Waiting behind other jobs before ours starts.")
    run_timeout_s: float = Field(1800.0, description="One job's execution, once started.")
    history_timeout_s: float = Field(10.0, description="How long /history may trail completion.")
    poll_interval_s: float = Field(5.0, description="Slow poll of /queue and /history beside the socket.")
    max_resubmits: int = 3
    progress_log_interval_s: float = 10.0
    unreachable_timeout_s: float = Field(120.0, description="How long a server that answered may stay away "
                                         "(a restart) before its jobs fail as not reachable.")

    # One client per resource: its sessions and in-flight bookkeeping are shared by every caller.
    _client: ComfyUIClient | None = PrivateAttr(default=None)

    def get_client(self) -> ComfyUIClient:
        if self._client is None:
            self._client = ComfyUIClient(
                self.urls, connect_timeout_s=self.connect_timeout_s, request_timeout_s=self.request_timeout_s,
                queue_timeout_s=self.queue_timeout_s, run_timeout_s=self.run_timeout_s,
                history_timeout_s=self.history_timeout_s, poll_interval_s=self.poll_interval_s,
                max_resubmits=self.max_resubmits, progress_log_interval_s=self.progress_log_interval_s,
                unreachable_timeout_s=self.unreachable_timeout_s)
        return self._client
