"""Settings of the review service, from the environment. Secrets stay out of repr()."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field


def _networks(value: str) -> tuple:
    return tuple(ipaddress.ip_network(v.strip(), strict=False) for v in value.split(",") if v.strip())


@dataclass(frozen=True)
class ApiSettings:
    # Requests from these networks need no token (the creator's own LAN).
    trusted_networks: tuple = _networks("127.0.0.1/32,::1/128")
    # Only when the direct peer is one of these is X-Real-IP / X-Forwarded-For believed.
    trusted_proxies: tuple = ()
    jwt_secret: str | None = field(default=None, repr=False)  # HS256
    jwt_public_key: str | None = field(default=None, repr=False)  # RS256 (PEM)
    jwt_audience: str = "anime-studio"
    dagster_graphql_url: str = "http://127.0.0.1:3000/graphql"
    max_upload_bytes: int = 20 * 1024 * 1024

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> "ApiSettings":
        env = os.environ if env is None else env
        return cls(
            trusted_networks=_networks(env.get("STUDIO_API_TRUSTED_NETWORKS", "127.0.0.1/32,::1/128")),
            trusted_proxies=_networks(env.get("STUDIO_API_TRUSTED_PROXIES", "")),
            jwt_secret=env.get("STUDIO_JWT_SECRET") or None,
            jwt_public_key=env.get("STUDIO_JWT_PUBLIC_KEY") or None,
            jwt_audience=env.get("STUDIO_JWT_AUDIENCE", "anime-studio"),
            dagster_graphql_url=env.get("STUDIO_DAGSTER_GRAPHQL_URL", "http://127.0.0.1:3000/graphql"),
            max_upload_bytes=int(env.get("STUDIO_MAX_UPLOAD_BYTES", 20 * 1024 * 1024)),
        )
