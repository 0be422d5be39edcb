"""The review service against hostile input, served by uvicorn on the real database.

Every refusal is a documented 4xx in the one JSON shape naming the field; nothing is a 500, nothing
echoes what could not be encoded, and checks run before the body is read.
"""

from __future__ import annotations

import asyncio
import io

import httpx
import pytest
from PIL import Image

from api.app import create_app
from api.routers import review, stats
from studio.settings import settings_for
from tests.api_server import serve_api, with_routers
from tests.review_seed import png_bytes, seed_character, seed_image, seed_project, studio_settings


@pytest.fixture
async def world(db, tmp_path):
    home = tmp_path / "home"
    project = await seed_project(db)
    mika = await seed_character(db, project, "mika")
    image = await seed_image(db, home / "media", mika, 1)
    return home, image


def _served(db_url, home, **settings):
    app = create_app(studio_settings(home, base=settings_for(**settings)), database_url=db_url)
    return serve_api(with_routers(app, review.router, stats.router))


def _locs(response: httpx.Response) -> list[list]:
    assert response.status_code == 422, response.text
    return [error["loc"] for error in response.json()["detail"]]


async def test_values_no_column_can_hold_are_422_naming_the_field(db_url, world):
    home, image = world
    with _served(db_url, home) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert _locs(await api.get(f"/api/images/{2**63}/file")) == [["path", "image_id"]]
            assert _locs(await api.get("/api/images/0/thumb")) == [["path", "image_id"]]
            assert _locs(await api.get(f"/api/images/{image}/thumb", params={"size": 300})) == [["query", "size"]]
            assert _locs(await api.get("/api/review/pending", params={"character": "mi\x00ka"})) == [["query", "character"]]
            assert _locs(await api.get("/api/images/1%00/file")) == [["path"]]
            cursor = str(2**63)  # one past bigint
            assert _locs(await api.get("/api/review/pending", params={"after": cursor})) == [["query", "after"]]
            headers = {"content-type": "application/json"}
            for body, loc in [
                ('{"action": "approve", "ids": [9223372036854775808]}', ["body", "ids", 0]),
                ('{"action": "approve", "ids": [1], "comment": "a\\u0000b"}', ["body", "comment"]),
                ('{"action": "approve", "ids": [1], "comment": "\\ud800"}', ["body", "comment"]),
                ('{"action": "approve", "ids": [1], "\\udfff": 1}', ["body", "\\udfff"]),
                ('{"action": "approve", "ids": [NaN]}', ["body"]),
            ]:
                response = await api.post("/api/images/bulk", content=body, headers=headers)
                assert _locs(response) == [loc], body
            # pydantic's own refusal of a value it was given: no "input" echoed back.
            refused = await api.post("/api/images/bulk", json={"action": "burn", "ids": [1]})
            assert _locs(refused) == [["body", "action"]] and "burn" not in refused.text


async def test_the_body_limit_answers_413_before_and_while_reading(db_url, world):
    home, image = world
    with _served(db_url, home, api_max_body_bytes=1000) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            big = '{"categories": ["off_model_colours"], "comment": "' + "x" * 2000 + '"}'
            declared = await api.post(f"/api/images/{image}/reject", content=big,
                                      headers={"content-type": "application/json"})
            assert declared.status_code == 413 and "1000" in declared.json()["detail"]

            async def chunks():
                for _ in range(5):
                    yield b"x" * 400
            streamed = await api.post(f"/api/images/{image}/reject", content=chunks(),
                                      headers={"content-type": "application/json"})
            assert streamed.status_code == 413
            # An upload has its own, larger limit: a 5 kB image passes a 1 kB JSON limit.
            upload = await api.post("/api/characters/mika/images",
                                    files={"file": ("a.png", png_bytes(7, 96), "image/png")})
            assert upload.status_code == 201, upload.text


async def test_auth_is_decided_before_the_body_is_read(db_url, world):
    """A caller off the trusted network announcing 100 MB gets its 401 without sending a byte of it."""
    home, _ = world
    elsewhere = settings_for(api_trusted_networks="10.9.0.0/16").api_trusted_networks
    with _served(db_url, home, api_trusted_networks=elsewhere) as url:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST /api/characters/mika/images HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     b"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: 100000000\r\n\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        writer.close()
    assert b" 401 " in status_line


async def test_rebinding_and_cross_site_writes_are_refused(db_url, world):
    home, image = world
    with _served(db_url, home) as url:
        port = url.rsplit(":", 1)[1]
        async with httpx.AsyncClient(base_url=url) as api:
            rebound = await api.get("/api/review/counts", headers={"Host": f"attacker.example:{port}"})
            assert rebound.status_code == 400
            assert (await api.get("/api/review/counts", headers={"Host": f"localhost:{port}"})).status_code == 200
            for headers in ({"Origin": "http://attacker.example"}, {"Origin": "null"},
                            {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"}):
                refused = await api.post(f"/api/images/{image}/approve", json={}, headers=headers)
                assert refused.status_code == 403, headers
            same = await api.post(f"/api/images/{image}/approve", json={},
                                  headers={"Origin": url, "Sec-Fetch-Site": "same-origin"})
            assert same.status_code == 200 and same.json()["status"] == "approved"
    with _served(db_url, home, api_allowed_hosts="studio.lan") as url:
        async with httpx.AsyncClient(base_url=url) as api:
            assert (await api.get("/api/review/counts")).status_code == 400  # 127.0.0.1 is no longer listed
            assert (await api.get("/api/review/counts", headers={"Host": "studio.lan"})).status_code == 200


async def test_operators_get_ids_headers_metrics_and_throttled_auth_failures(db_url, world, caplog):
    home, image = world
    caplog.set_level("INFO", logger="studio")
    with _served(db_url, home, api_trusted_networks="10.9.0.0/16", jwt_secret="s" * 40) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            refused = await api.get("/api/review/counts?access_token=SECRET-IN-QUERY",
                                    headers={"X-Request-ID": "abc-123", "Authorization": "Bearer not.a.jwt"})
            assert refused.status_code == 401 and refused.headers["x-request-id"] == "abc-123"
            assert refused.headers["x-content-type-options"] == "nosniff"
            assert "default-src 'none'" in refused.headers["content-security-policy"]
            generated = await api.get("/api/health/live", headers={"X-Request-ID": "bad id with spaces"})
            assert generated.status_code == 200 and len(generated.headers["x-request-id"]) == 32
            statuses = [(await api.get("/api/review/counts")).status_code for _ in range(35)]
            assert statuses.count(401) == 29 and statuses[-1] == 429
    lines = [r for r in caplog.records if r.name.startswith("studio.api")]
    assert any(r.name == "studio.api.auth" and "not a well-formed JWT" in r.getMessage()
               and r.request_id == "abc-123" for r in lines)
    assert any(r.name == "studio.api.access" and "/api/review/counts 401" in r.getMessage() for r in lines)
    assert not any("SECRET-IN-QUERY" in r.getMessage() or "not.a.jwt" in r.getMessage() for r in lines)
    assert sum(r.name == "studio.api.auth" for r in lines) == 30  # the rest is throttled, not logged

    with _served(db_url, home) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            await api.get(f"/api/images/{image}/file")
            text = (await api.get("/metrics")).text
    assert 'studio_http_requests_total{method="GET",route="/api/images/{image_id}/file",status="200"} 1.0' in text
    assert 'studio_review_images{status="pending"} 1.0' in text and "studio_database_up 1.0" in text


async def test_stored_images_are_re_encoded_so_nothing_appended_survives(db_url, world):
    home, _ = world
    payload = b"<html><script>alert(1)</script></html>PK\x03\x04zipzipzip"
    with _served(db_url, home) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            created = await api.post("/api/characters/mika/images",
                                     files={"file": ("a.png", png_bytes(11, 96) + payload, "image/png")})
            assert created.status_code == 201, created.text
            served = await api.get(created.json()["image_url"])
    assert served.status_code == 200 and payload not in served.content and b"<html>" not in served.content
    with Image.open(io.BytesIO(served.content)) as stored, Image.open(io.BytesIO(png_bytes(11, 96))) as sent:
        assert stored.format == "PNG" and stored.tobytes() == sent.tobytes()


async def test_docs_are_served_from_installed_files_and_the_schema_is_complete(db_url, world):
    home, _ = world
    with _served(db_url, home) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            page = (await api.get("/docs")).text
            assert "cdn" not in page.lower() and "/docs/static/swagger-ui-bundle.js" in page
            bundle = await api.get("/docs/static/swagger-ui-bundle.js")
            assert bundle.status_code == 200 and len(bundle.content) > 500_000
            document = (await api.get("/openapi.json")).json()
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    approve = document["paths"]["/api/images/{image_id}/approve"]["post"]
    assert {"401", "403", "404", "409", "413", "422", "503"} <= set(approve["responses"])
    file_answer = document["paths"]["/api/images/{image_id}/file"]["get"]["responses"]["200"]["content"]
    assert set(file_answer) == {"image/png", "image/jpeg", "image/webp"}
    # Each file route with the type it sends, never JSON: videos, subtitles, thumbnails, checkpoints.
    answers = {path: set(document["paths"][path]["get"]["responses"]["200"]["content"]) for path in (
        "/api/episodes/{episode}/video", "/api/episodes/{episode}/subtitles.vtt", "/api/images/{image_id}/thumb",
        "/api/training/{slug}/checkpoints/{version}/file")}
    assert list(answers.values()) == [{"video/mp4"}, {"text/vtt"}, {"image/webp"}, {"application/octet-stream"}]
    upload = document["paths"]["/api/characters/{slug}/images"]["post"]["requestBody"]["content"]
    assert upload["multipart/form-data"]["encoding"]["file"]["contentType"] == "image/png, image/jpeg, image/webp"


def test_uvicorns_access_line_loses_its_query_string():
    import logging

    from api.logging_setup import DropQueryString, install_request_id_logging

    install_request_id_logging()
    record = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
                               ("127.0.0.1:5", "GET", "/api/x?token=SECRET", "1.1", 200), None)
    assert any(isinstance(f, DropQueryString) for f in logging.getLogger("uvicorn.access").filters)
    DropQueryString().filter(record)
    assert "SECRET" not in record.getMessage() and "/api/x" in record.getMessage()


async def test_text_past_its_bound_is_refused_naming_the_field(db_url, world):
    home, _ = world
    with _served(db_url, home, api_max_body_bytes=100_000) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            response = await api.post("/api/projects", json={"slug": "long", "name": "Long",
                                                             "description": "x" * 20_001})
            assert _locs(response) == [["body", "description"]]
            document = (await api.get("/openapi.json")).json()
    assert document["components"]["schemas"]["ProjectSpec"]["properties"]["description"]["maxLength"] == 20_000


async def test_a_routes_own_422_comes_in_the_one_shape(db, db_url, world):
    home, image = world
    stored = await db.fetchval("SELECT file_path FROM images WHERE id = $1", image)
    (home / "media" / stored).write_bytes(b"not an image any more")
    with _served(db_url, home) as url:
        async with httpx.AsyncClient(base_url=url) as api:
            response = await api.get(f"/api/images/{image}/thumb", params={"size": 64})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["path", "image_id"] and "cannot be thumbnailed" in error["msg"]
