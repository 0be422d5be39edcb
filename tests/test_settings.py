"""The one settings class: environment parsing, secrets kept out of output, the README table."""

from __future__ import annotations

import ipaddress
import json
import subprocess
import sys

import pytest
from pydantic import ValidationError

from studio.settings import configuration_table, load_settings
from tests.conftest import REPO


def test_lists_and_networks_are_read_comma_separated():
    settings = load_settings({"STUDIO_COMFYUI_URLS": "http://gpu1:8188/, http://gpu2:8188",
                              "STUDIO_API_TRUSTED_PROXIES": "10.0.0.0/8,192.168.1.1"})
    assert settings.comfyui_urls == ("http://gpu1:8188", "http://gpu2:8188")
    assert settings.api_trusted_proxies == (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("192.168.1.1/32"))


def test_an_explicit_environment_ignores_the_process_environment(monkeypatch):
    monkeypatch.setenv("STUDIO_OLLAMA_URL", "http://elsewhere:1")
    assert load_settings({}).ollama_url == "http://127.0.0.1:11434"
    assert load_settings().ollama_url == "http://elsewhere:1"


def test_a_bad_value_names_the_variable():
    with pytest.raises(ValidationError, match="backend"):
        load_settings({"STUDIO_BACKEND": "gpu"})


def test_secrets_never_appear_in_the_settings_text():
    settings = load_settings({"STUDIO_JWT_SECRET": "hunter2-very-secret",
                              "STUDIO_DATABASE_URL": "postgresql://u:pw-secret@db/studio"})
    assert "hunter2" not in repr(settings) and "pw-secret" not in str(settings)
    assert settings.secret("jwt_secret") == "hunter2-very-secret"


def test_the_readme_configuration_table_is_the_settings_class():
    readme = (REPO / "README.md").read_text()
    assert configuration_table() in readme, "README's table is stale: paste studio.settings.configuration_table()"


# Loaded where they are used, not at the service's start, which they cost ~100 ms together: httpx
# with its command-line extras, Pillow, numpy with imagehash, the ComfyUI client's websockets.
LAZY_IN_THE_SERVICE = ("httpx", "PIL", "numpy", "imagehash", "websockets")
# Our own code that only rare routes need, loaded by those routes (api/routers/ says where): ~128M
# instructions of the service's start-up together, and no review request needs any of it.
LAZY_STUDIO_MODULES = (
    "studio.story.planner", "studio.story.proposals",  # scene proposals (api/routers/shots.py)
    "studio.shots.status", "studio.shots.repository", "studio.domain.shot_rendering",  # shot status
    "studio.training.repository", "studio.training.dagster_training", "studio.domain.lora_training",  # training
    "studio.datasets.repository", "studio.datasets.models",
    "studio.autonomy.decisions", "studio.autonomy.facts", "studio.autonomy.learning_store",  # autonomy loop
    "studio.autonomy.drift_status", "studio.domain.learning", "studio.domain.corrections", "studio.domain.drift",
    "studio.clients.jellyfin", "studio.episodes.repository", "studio.episodes.gpu_accounting",  # episodes
    "studio.domain.jellyfin_layout", "studio.domain.subtitles",
    "studio.run_progress", "studio.domain.progress",  # run progress (api/routers/runs.py)
    "studio.audio.voices_repository", "studio.domain.voices",  # voices (api/routers/audio.py)
)


def test_the_review_service_imports_no_dagster_and_loads_heavy_libraries_only_when_used():
    code = ("import json, sys; from api.app import create_app; create_app(); "
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    modules = set(json.loads(done.stdout))
    loaded = {m.split('.')[0] for m in modules}
    assert not {name for name in loaded if name.startswith("dagster")}
    assert not loaded & set(LAZY_IN_THE_SERVICE)
    assert not modules & set(LAZY_STUDIO_MODULES)
