"""Database credentials from Vault (KV v2), read with hvac."""

from __future__ import annotations

from urllib.parse import quote


def read_database_url(addr: str, mount: str, path: str, token: str | None = None) -> str:
    """Return a postgres URL built from the secret at `mount`/`path`.

    The secret holds either `url`, or `host`, `port`, `user`, `password` and `dbname`.
    Raises RuntimeError with a one-line reason (never the secret) when it cannot.
    """
    if not token:
        raise RuntimeError("no Vault token (set STUDIO_VAULT_TOKEN)")
    import hvac  # only deployments that use Vault pay for importing it (~40 ms, requests included)

    client = hvac.Client(url=addr, token=token, timeout=3)
    try:
        response = client.secrets.kv.v2.read_secret_version(
            path=path, mount_point=mount, raise_on_deleted_version=True
        )
    except hvac.exceptions.InvalidPath:
        raise RuntimeError(f"no secret at {mount}/{path}") from None
    except hvac.exceptions.Forbidden:
        raise RuntimeError(f"the token may not read {mount}/{path}") from None
    except Exception as exc:  # connection refused, timeout, TLS: all mean "Vault unusable"
        raise RuntimeError(f"cannot reach Vault at {addr} ({type(exc).__name__})") from None
    data = response["data"]["data"]
    if data.get("url"):
        return data["url"]
    missing = [k for k in ("host", "user", "password", "dbname") if not data.get(k)]
    if missing:
        raise RuntimeError(f"secret {mount}/{path} lacks {', '.join(missing)}")
    creds = f"{quote(data['user'], safe='')}:{quote(data['password'], safe='')}"
    dbname = quote(data["dbname"], safe="")
    if data["host"].startswith("/"):  # a Unix socket directory, as the embedded server uses
        return f"postgresql://{creds}@/{dbname}?host={data['host']}&port={data.get('port', 5432)}"
    return f"postgresql://{creds}@{data['host']}:{data.get('port', 5432)}/{dbname}"
