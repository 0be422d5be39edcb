"""Every setting of Anime Studio, declared once: each `STUDIO_*` variable with its default and meaning.

Read once per process (`load_settings()`), then handed to whatever needs it: the Dagster resources
(anime_assets/resources_by_backend.py) and the review service (api/app.py). The README's
configuration table is generated from this class (`configuration_table()`) and a test keeps the two
equal. Secrets are `SecretStr`: printing or logging the settings shows `**********`.
"""

import ipaddress
import os
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Backend = Literal["preview", "live"]
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# Comma-separated in the environment ("a,b"), a list here; NoDecode stops pydantic-settings parsing JSON.
CommaList = Annotated[tuple[str, ...], NoDecode]
NetworkList = Annotated[tuple[IpNetwork, ...], NoDecode]

ENV_PREFIX = "STUDIO_"


def _default_home() -> Path:
    from studio.home import default_home  # the one discovery rule, shared with the CLI

    return default_home()


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="ignore")

    # --- where things are ---------------------------------------------------------------------
    home: Path = Field(default_factory=_default_home,
                       description="folder for the embedded DB, Dagster home and media (default: `.studio` in the project root, the folder holding `.studio-root`, found from any folder below it)")
    backend: Backend = Field("preview", description="`preview` (CPU stand-ins) or `live` (the GPU services over HTTP)")

    # --- the studio database ------------------------------------------------------------------
    database_url: SecretStr | None = Field(None, description="a PostgreSQL URL; unset means the embedded server")
    vault_addr: str | None = Field(None, description="read DB credentials from Vault (KV v2) instead")
    vault_token: SecretStr | None = Field(None, description="the Vault token (`VAULT_TOKEN` is also read)")
    vault_mount: str = Field("secret", description="Vault KV mount of the database secret")
    vault_path: str = Field("studio/database",
                            description="path of the secret (`url`, or `host`/`port`/`user`/`password`/`dbname`)")

    # --- GPU services (live backend) ----------------------------------------------------------
    comfyui_urls: CommaList = Field(("http://127.0.0.1:8188",),
                                    description="ComfyUI servers, comma-separated, one per GPU")
    ollama_url: str = Field("http://127.0.0.1:11434", description="Ollama (vision review, story planning)")
    vision_model: str = Field("qwen2.5vl:7b", description="Ollama model that reviews images")
    text_model: str = Field("qwen2.5:7b", description="Ollama model for chat, prompts and story planning")
    echo_url: str = Field("", description="Echo (chat, prompt enhancement, live scene planning); empty means Ollama answers instead")
    echo_model: str = Field("qwen2.5:7b", description="model Echo (or Ollama in its place) chats with")

    # --- the review service -------------------------------------------------------------------
    api_trusted_networks: NetworkList = Field(
        (ipaddress.ip_network("127.0.0.1/32"), ipaddress.ip_network("::1/128")),
        description="networks whose requests need no token, comma-separated")
    api_trusted_proxies: NetworkList = Field(
        (), description="proxies whose X-Forwarded-For / X-Real-IP is believed, comma-separated")
    jwt_secret: SecretStr | None = Field(None, description="HS256 key for JWTs of callers outside the trusted networks")
    jwt_public_key: SecretStr | None = Field(None, description="RS256 public key (PEM) for those JWTs")
    jwt_audience: str = Field("anime-studio", description="the JWT audience the service accepts")
    dagster_graphql_url: str = Field("http://127.0.0.1:3000/graphql",
                                     description="Dagster's GraphQL API, for run triggers")
    max_upload_bytes: int = Field(20 * 1024 * 1024, gt=0, description="largest accepted upload")

    # --- LoRA training (live backend) ---------------------------------------------------------
    kohya_dir: Path | None = Field(None, description="kohya sd-scripts checkout (train_network.py, sdxl_train_network.py)")
    kohya_accelerate: str = Field("accelerate", description="the `accelerate` executable of kohya's environment")
    kohya_checkpoint_dir: Path | None = Field(None, description="folder of the styles' base checkpoints, for kohya")
    lora_rank: int = Field(16, ge=1, le=256, description="LoRA rank (network_dim) of live trainings; alpha is half")
    lora_epochs: int = Field(10, ge=1, le=1000, description="epochs of a live training")
    api_max_body_bytes: int = Field(1024 * 1024, gt=0, description="largest accepted request body other than an upload")
    api_allowed_hosts: CommaList = Field(
        (), description="Host names the service answers to, comma-separated; unset: the address it is reached at and localhost")
    api_client_ip_header: Literal["x-forwarded-for", "x-real-ip"] = Field(
        "x-forwarded-for", description="the one header a trusted proxy's client address is read from")
    db_connect_timeout_s: float = Field(2.0, gt=0, description="seconds to open a database connection before answering 503")
    framepack_model: str = Field("FramePackI2V_HY_bf16.safetensors",
                                 description="FramePack model file in ComfyUI's models/diffusion_models (live shots)")
    framepack_steps: int = Field(30, ge=1, le=1000, description="FramePack sampling steps per shot")
    framepack_teacache: bool = Field(False, description="FramePack TeaCache: faster and lossy, for drafts")
    framepack_f1: bool = Field(False, description="FramePack F1 (forward-only) sampling; needs a wrapper fork with an F1 sampler node")
    db_command_timeout_s: float = Field(10.0, gt=0, description="seconds a database statement may take before answering 503")
    # --- scene sound ------------------------------------------------------------------------------
    tts_url: str = Field("", description="a live TTS server speaking `POST /v1/audio/speech`; empty: offline piper with the bundled voice")
    tts_api_key: SecretStr | None = Field(None, description="bearer key of the live TTS server")
    music_volume: float = Field(0.3, gt=0, le=1.0, description="level of a scene's music bed (1 = as the file is)")
    music_duck_db: float = Field(8.0, ge=0, le=40, description="the least the music is lowered under speech, in dB")
    music_urls_allowed: bool = Field(False, description="fetch a music bed given as an http(s) URL; off: such a bed is refused")
    # --- publishing to Jellyfin ---------------------------------------------------------------
    jellyfin_library: Path | None = Field(None, description="root of the published Jellyfin tree (unset: `<home>/published`)")
    jellyfin_url: str = Field("", description="Jellyfin server to announce new episodes to; empty: files are written, nobody is told")
    jellyfin_token: SecretStr | None = Field(None, description="Jellyfin API key, sent as `Authorization: MediaBrowser Token=...`")
    jellyfin_path_map: str = Field("", description="`<our prefix>=<Jellyfin's prefix>` when Jellyfin sees the library under another path")
    jellyfin_link: Literal["auto", "copy", "symlink"] = Field(
        "auto", description="`auto`: hard link on the same filesystem, else copy; `symlink`: an absolute symlink")
    jellyfin_debounce_s: float = Field(30.0, ge=0, description="an unchanged episode is not announced again within this many seconds")
    # --- `studio up`: the ports of the services it starts (one place) --------------------------
    webserver_port: int = Field(3000, ge=1, le=65535, description="port of the Dagster webserver (`studio up`, `make webserver`)")
    api_port: int = Field(8401, ge=1, le=65535, description="port of the review service (`studio up`, `studio serve`)")
    code_server_port: int = Field(4266, ge=1, le=65535, description="port of the code location's gRPC code server (`studio up`)")
    # --- tests only -----------------------------------------------------------------------------
    preview_delay_s: float = Field(0.0, ge=0, le=600, description="tests only: seconds each preview item (an image, its review, a training epoch, a shot) is held, so a fault test can kill a run mid-step")

    @field_validator("api_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(h.strip().lower() for h in value if h and h.strip())

    @field_validator("comfyui_urls", mode="before")
    @classmethod
    def _split_urls(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = value.split(",")
        return tuple(u.strip().rstrip("/") for u in value if u and u.strip())

    @field_validator("api_trusted_networks", "api_trusted_proxies", mode="before")
    @classmethod
    def _split_networks(cls, value: Any) -> Any:
        if isinstance(value, str):
            value = [v for v in value.split(",") if v.strip()]
        return tuple(v if not isinstance(v, str) else ipaddress.ip_network(v.strip(), strict=False) for v in value)

    @field_validator("home", mode="after")
    @classmethod
    def _absolute_home(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @field_validator("ollama_url", "echo_url", "dagster_graphql_url", "jellyfin_url", mode="after")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    # --- derived paths ------------------------------------------------------------------------
    @cached_property
    def media_root(self) -> Path:
        return self.home / "media"

    @cached_property
    def published_root(self) -> Path:
        return (self.jellyfin_library or self.home / "published").expanduser().resolve()

    @cached_property
    def embedded_pg_dir(self) -> Path:
        return self.home / "pg"

    def with_values(self, **changes: Any) -> "Settings":
        """A validated copy with some settings changed (tests, tools); the environment is not read again."""
        return settings_for(**{**{name: getattr(self, name) for name in type(self).model_fields}, **changes})

    def secret(self, name: str) -> str | None:
        """The plain value of a SecretStr setting, for the one place that uses it."""
        value = getattr(self, name)
        return value.get_secret_value() if value is not None else None


def env_name(field: str) -> str:
    return ENV_PREFIX + field.upper()


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """The settings from the process environment, or from `env` alone when given (tests, tools)."""
    if env is None:
        return Settings()
    return settings_for(**{field: env[env_name(field)] for field in Settings.model_fields if env_name(field) in env})


def settings_for(**values: Any) -> Settings:
    """Settings from these values and the defaults alone: nothing is read from os.environ."""
    return _ExplicitSettings(**values)


class _ExplicitSettings(Settings):
    """Settings from the values given and the defaults only: nothing from os.environ leaks in."""

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **other_sources):
        return (init_settings,)


def vault_token(settings: Settings) -> str | None:
    """STUDIO_VAULT_TOKEN, else the Vault CLI's own VAULT_TOKEN."""
    return settings.secret("vault_token") or os.environ.get("VAULT_TOKEN") or None


def _default_text(field: str) -> str:
    info = Settings.model_fields[field]
    if info.default_factory is not None:
        return "`<project root>/.studio`" if field == "home" else "computed"
    value = info.default
    if value is None or value == "" or value == ():
        return "unset"
    if isinstance(value, tuple):
        value = ",".join(str(v) for v in value)
    return f"`{value}`"


def configuration_table() -> str:
    """The README's configuration table, one row per setting, in declaration order."""
    rows = ["| variable | meaning | default |", "| --- | --- | --- |"]
    for field, info in Settings.model_fields.items():
        rows.append(f"| `{env_name(field)}` | {info.description} | {_default_text(field)} |")
    return "\n".join(rows)
