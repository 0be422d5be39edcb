"""api.auth on the real server: trusted networks, JWTs (HS256 / RS256), forwarded addresses.

Every request comes from 127.0.0.1, so "someone elsewhere" is simulated by trusting another network
(10.9.0.0/16) and, where a proxy is part of the story, trusting 127.0.0.1 as that proxy.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import time

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from studio.settings import settings_for
from tests.review_seed import (review_app, seed_character, seed_image, seed_project, served_review_app,
                               served_without_proxy_headers)

SECRET = "test-secret-that-is-long-enough-for-hs256"
AUDIENCE = "anime-studio"
ELSEWHERE = (ipaddress.ip_network("10.9.0.0/16"),)
LOCAL_PROXY = (ipaddress.ip_network("127.0.0.1/32"),)
ROUTE = "/api/review/counts"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _claims(**overrides) -> dict:
    claims = {"sub": "alice", "aud": AUDIENCE, "exp": int(time.time()) + 300}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def hs256(claims: dict, secret: str | bytes = SECRET) -> str:
    """Signed by hand, so a PEM public key can be used as the HMAC secret (algorithm confusion)."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = _b64(json.dumps(claims).encode())
    key = secret.encode() if isinstance(secret, str) else secret
    signature = hmac.new(key, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(signature)}"


def unsigned(claims: dict) -> str:
    return f"{_b64(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{_b64(json.dumps(claims).encode())}."


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def rsa_keys() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


@pytest.fixture
async def image_id(db) -> int:
    project = await seed_project(db)
    character = await seed_character(db, project, "mika")
    return await seed_image(db, None, character, 1)


async def test_the_trusted_network_needs_no_token(db_url, tmp_path, image_id):
    with served_review_app(db_url, tmp_path / "home", settings_for()) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert (await api.get(ROUTE)).status_code == 200
            decided = await api.post(f"/api/images/{image_id}/approve", json={})
    assert decided.json()["reviewer"] == "local"


async def test_hs256_tokens(db_url, tmp_path, image_id):
    settings = settings_for(api_trusted_networks=ELSEWHERE, jwt_secret=SECRET, jwt_audience=AUDIENCE)
    refused = {
        "no header": ({}, "Authorization: Bearer"),
        "not bearer": ({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, "Authorization: Bearer"),
        "garbage": (bearer("not.a.jwt"), "not a well-formed JWT"),
        "expired": (bearer(hs256(_claims(exp=int(time.time()) - 5))), "expired"),
        "no exp": (bearer(hs256(_claims(exp=None))), "'exp'"),
        "wrong audience": (bearer(hs256(_claims(aud="someone-else"))), "audience"),
        "no audience": (bearer(hs256(_claims(aud=None))), "'aud'"),
        "no subject": (bearer(hs256(_claims(sub=None))), "'sub'"),
        "bad signature": (bearer(hs256(_claims(), secret="another-secret-another-secret!!")), "signature"),
        "alg none": (bearer(unsigned(_claims())), "'none' is not accepted"),
        "RS256 when only HS256 is configured": (bearer(hs256(_claims()).replace(
            _b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()),
            _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode()))), "'RS256' is not accepted"),
    }
    with served_review_app(db_url, tmp_path / "home", settings) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            for case, (headers, reason) in refused.items():
                response = await api.get(ROUTE, headers=headers)
                assert response.status_code == 401, case
                assert reason in response.json()["detail"], (case, response.json())
                assert response.headers["www-authenticate"] == "Bearer"
                token = headers.get("Authorization", "").partition(" ")[2]
                assert not token or token not in response.text, "a token must never be echoed"
            good = bearer(hs256(_claims(sub="alice")))
            assert (await api.get(ROUTE, headers=good)).status_code == 200
            decided = await api.post(f"/api/images/{image_id}/approve", json={}, headers=good)
    assert decided.status_code == 200 and decided.json()["reviewer"] == "alice"


async def test_rs256_tokens_and_no_algorithm_confusion(db_url, tmp_path, rsa_keys):
    private, public = rsa_keys
    settings = settings_for(api_trusted_networks=ELSEWHERE, jwt_public_key=public, jwt_audience=AUDIENCE)
    with served_review_app(db_url, tmp_path / "home", settings) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            valid = jwt.encode(_claims(sub="bob"), private, algorithm="RS256")
            assert (await api.get(ROUTE, headers=bearer(valid))).status_code == 200
            expired = jwt.encode(_claims(exp=int(time.time()) - 5), private, algorithm="RS256")
            wrong_aud = jwt.encode(_claims(aud="other"), private, algorithm="RS256")
            other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            foreign = jwt.encode(_claims(), other_key, algorithm="RS256")
            # The classic confusion attack: an HMAC "signed" with the server's public key.
            confused = hs256(_claims(), secret=public)
            for case, token in {"expired": expired, "wrong audience": wrong_aud, "foreign key": foreign,
                                "HS256 with the public key": confused, "alg none": unsigned(_claims())}.items():
                response = await api.get(ROUTE, headers=bearer(token))
                assert response.status_code == 401, case


async def test_forwarded_addresses_count_only_from_a_trusted_proxy(db_url, tmp_path):
    no_proxy = settings_for(api_trusted_networks=ELSEWHERE, jwt_secret=SECRET)
    app = review_app(db_url, tmp_path / "home", no_proxy)
    with served_without_proxy_headers(app) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert (await api.get(ROUTE, headers={"X-Real-IP": "10.9.0.5"})).status_code == 401
            assert (await api.get(ROUTE, headers={"X-Forwarded-For": "10.9.0.5"})).status_code == 401

    behind_proxy = settings_for(api_trusted_networks=ELSEWHERE, api_trusted_proxies=LOCAL_PROXY, jwt_secret=SECRET)
    with served_without_proxy_headers(review_app(db_url, tmp_path / "home", behind_proxy)) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            async def status(**headers) -> int:
                return (await api.get(ROUTE, headers={k.replace("_", "-"): v for k, v in headers.items()})).status_code

            # One rule: X-Forwarded-For, read from the right. X-Real-IP is not read unless it is the
            # configured header (a proxy that appends to XFF may pass the client's own X-Real-IP through).
            assert await status(X_Real_IP="10.9.0.5") == 401
            assert await status(X_Real_IP="10.9.0.5", X_Forwarded_For="203.0.113.9") == 401
            assert await status(X_Forwarded_For="10.9.0.7") == 200
            # A proxy appends what it saw: the rightmost hop that is not our proxy is the client, and
            # anything left of it was written by the client (a proxy that appends keeps the spoof).
            assert await status(X_Forwarded_For="203.0.113.9, 10.9.0.7") == 200
            assert await status(X_Forwarded_For="10.9.0.7, 203.0.113.9") == 401
            assert await status(X_Forwarded_For="10.9.0.7, 203.0.113.9, 127.0.0.1") == 401
            # The proxy itself is not on the trusted network, and an outside client still needs a token.
            assert await status() == 401
            assert await status(X_Forwarded_For="203.0.113.9", Authorization=f"Bearer {hs256(_claims())}") == 200

    real_ip = behind_proxy.with_values(api_client_ip_header="x-real-ip")
    with served_without_proxy_headers(review_app(db_url, tmp_path / "home", real_ip)) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            async def status(**headers) -> int:
                return (await api.get(ROUTE, headers={k.replace("_", "-"): v for k, v in headers.items()})).status_code

            assert await status(X_Real_IP="10.9.0.5") == 200
            # Configured to X-Real-IP, the chain is not read at all.
            assert await status(X_Forwarded_For="10.9.0.7") == 401
            assert await status(X_Real_IP="203.0.113.9", X_Forwarded_For="10.9.0.7") == 401
            assert await status(X_Real_IP="not-an-ip") == 401


async def test_a_forwarded_address_substituted_by_uvicorn_is_not_trusted(db_url, tmp_path):
    """uvicorn's own proxy-headers handling (on by default for loopback peers, or for everyone with
    FORWARDED_ALLOW_IPS=*) replaces the peer from X-Forwarded-For before the app sees it."""
    settings = settings_for(api_trusted_networks=ELSEWHERE, jwt_secret=SECRET)
    with served_review_app(db_url, tmp_path / "home", settings) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert (await api.get(ROUTE)).status_code == 401
            # uvicorn turns this into request.client == 10.9.0.5: without api.auth noticing, a 200.
            assert (await api.get(ROUTE, headers={"X-Forwarded-For": "10.9.0.5"})).status_code == 401
            assert (await api.get(ROUTE, headers={"X-Forwarded-For": "10.9.0.5",
                                                  **bearer(hs256(_claims()))})).status_code == 200


async def test_no_token_configuration_says_so(db_url, tmp_path):
    with served_review_app(db_url, tmp_path / "home", settings_for(api_trusted_networks=ELSEWHERE)) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            response = await api.get(ROUTE, headers=bearer(hs256(_claims())))
    assert response.status_code == 401 and "not configured" in response.json()["detail"]
