"""Database credentials from a real Vault-compatible server (OpenBao in dev mode)."""

import asyncio
import logging
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from urllib.parse import urlsplit

import hvac
import pytest

from studio.settings import load_settings
from studio.db import dsn
from studio.db.errors import DatabaseConfigError
from studio.db.pool import connect
from tests.conftest import EXAMPLE_SPEC

APP_PASSWORD = "pw-" + secrets.token_hex(8)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def vault():
    bao = shutil.which("bao") or os.path.join(os.path.dirname(sys.executable), "bao")
    token = secrets.token_hex(12)
    port = _free_port()
    proc = subprocess.Popen(
        [bao, "server", "-dev", f"-dev-root-token-id={token}", f"-dev-listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = hvac.Client(url=f"http://127.0.0.1:{port}", token=token)
    deadline = time.monotonic() + 15
    while True:
        try:
            if client.sys.is_initialized() and not client.sys.is_sealed():
                break
        except Exception:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("bao server -dev did not start")
        time.sleep(0.05)
    yield client, token
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def app_role_url(db_url) -> str:
    """The test database reached as a dedicated login role, as production credentials would be."""
    role = "studio_app_" + secrets.token_hex(4)

    async def _create():
        async with connect(db_url) as conn:
            db = urlsplit(db_url).path.lstrip("/")
            await conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{APP_PASSWORD}'")
            await conn.execute(f'GRANT ALL ON DATABASE "{db}" TO {role}')
            await conn.execute(f"GRANT ALL ON SCHEMA public TO {role}")
            await conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
            await conn.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {role}")

    asyncio.run(_create())
    query = urlsplit(db_url).query
    host = dict(p.split("=", 1) for p in query.split("&"))["host"]
    return role, host, urlsplit(db_url).path.lstrip("/")


def _vault_env(monkeypatch, client, token, path):
    monkeypatch.setenv("STUDIO_VAULT_ADDR", client.url)
    monkeypatch.setenv("STUDIO_VAULT_TOKEN", token)
    monkeypatch.setenv("STUDIO_VAULT_PATH", path)
    monkeypatch.delenv("STUDIO_DATABASE_URL", raising=False)


def test_app_connects_with_credentials_read_from_vault(vault, app_role_url, monkeypatch, tmp_path):
    client, token = vault
    role, host, dbname = app_role_url
    client.secrets.kv.v2.create_or_update_secret(
        path="studio/db1", mount_point="secret",
        secret={"host": host, "user": role, "password": APP_PASSWORD, "dbname": dbname},
    )
    _vault_env(monkeypatch, client, token, "studio/db1")
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))

    async def whoami():
        url = await dsn.resolve_database_url(load_settings())
        async with connect(url) as conn:
            return await conn.fetchval("SELECT current_user")

    assert asyncio.run(whoami()) == role

    # The real CLI, in its own process, imports through the Vault credentials and never prints them.
    done = subprocess.run([sys.executable, "-m", "studio.cli", "import", str(EXAMPLE_SPEC)],
                          capture_output=True, text=True, env=os.environ.copy(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert "2 character created" in done.stdout
    assert APP_PASSWORD not in done.stdout + done.stderr


def test_vault_down_falls_back_to_env_and_says_so_once(db_url, monkeypatch, caplog, tmp_path):
    monkeypatch.setattr(dsn, "_fallback_logged", False)
    monkeypatch.setenv("STUDIO_VAULT_ADDR", f"http://127.0.0.1:{_free_port()}")  # nothing listens
    monkeypatch.setenv("STUDIO_VAULT_TOKEN", "irrelevant")
    monkeypatch.setenv("STUDIO_DATABASE_URL", db_url)
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    with caplog.at_level(logging.WARNING, logger="studio.db.dsn"):
        for _ in range(3):
            assert asyncio.run(dsn.resolve_database_url(load_settings())) == db_url
    warnings = [r for r in caplog.records if "Vault failed" in r.getMessage()]
    assert len(warnings) == 1
    assert "cannot reach Vault" in warnings[0].getMessage()


def test_neither_vault_nor_env_is_one_clear_line(monkeypatch, tmp_path, vault):
    client, token = vault
    _vault_env(monkeypatch, client, token, "studio/absent")
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    with pytest.raises(DatabaseConfigError) as err:
        asyncio.run(dsn.resolve_database_url(load_settings()))
    message = str(err.value)
    assert "\n" not in message
    assert "no secret at secret/studio/absent" in message and "STUDIO_DATABASE_URL is not set" in message
    assert token not in message


def test_wrong_token_is_reported_without_the_token(monkeypatch, tmp_path, vault):
    client, _ = vault
    _vault_env(monkeypatch, client, "not-the-token", "studio/db1")
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path))
    done = subprocess.run([sys.executable, "-m", "studio.cli", "migrate"], capture_output=True, text=True,
                          env=os.environ.copy(), timeout=60)
    assert done.returncode == 2
    # Every command first says which home and database it uses; the error is the line after that.
    assert done.stderr.splitlines()[-1].startswith(
        "error: no database: Vault failed (the token may not read secret/studio/db1)")
    assert "not-the-token" not in done.stderr and "Traceback" not in done.stderr
