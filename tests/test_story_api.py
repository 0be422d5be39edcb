"""Projects, generation styles, storyline, world and characters (with reference uploads) over HTTP."""

from __future__ import annotations

import io

import httpx
from PIL import Image

from tests.story_api import MAX_UPLOAD_BYTES, assert_conflict, assert_invalid, png_bytes, story_api  # noqa: F401


def test_projects_list_get_create_update(story_api):
    api = story_api.client
    [example] = api.get("/api/projects").json()
    assert example["slug"] == "lantern-harbor"
    assert (example["characters"], example["scenes"], example["episodes"]) == (2, 1, 1)
    assert api.get("/api/projects/lantern-harbor").json()["name"] == "Lantern Harbor"
    assert api.get("/api/projects/nowhere").status_code == 404

    created = api.post("/api/projects", json={"slug": "moon-ferry", "name": " Moon Ferry "})
    assert created.status_code == 201
    assert created.json()["name"] == "Moon Ferry" and created.json()["characters"] == 0
    assert api.post("/api/projects", json={"slug": "moon-ferry", "name": "Again"}).status_code == 409
    assert_invalid(api.post("/api/projects", json={"slug": "Moon Ferry", "name": "x"}), "slug")
    assert_invalid(api.post("/api/projects", json={"slug": "x", "name": ""}), "name")

    patched = api.patch("/api/projects/moon-ferry", json={"description": "night crossings"})
    assert patched.json()["description"] == "night crossings" and patched.json()["name"] == "Moon Ferry"
    assert_invalid(api.patch("/api/projects/moon-ferry", json={"name": None}), "name")
    assert_invalid(api.patch("/api/projects/moon-ferry", json={"slug": "renamed"}), "slug")
    assert api.patch("/api/projects/nowhere", json={"name": "x"}).status_code == 404


def test_project_delete_needs_confirm_when_it_has_characters(story_api):
    api = story_api.client
    api.post("/api/projects", json={"slug": "empty", "name": "Empty"})
    assert api.delete("/api/projects/empty").status_code == 204
    refused = api.delete("/api/projects/lantern-harbor")
    assert refused.status_code == 409 and "2 characters" in refused.json()["detail"]
    assert api.get("/api/characters/mika").status_code == 200
    assert api.delete("/api/projects/lantern-harbor", params={"confirm": "true"}).status_code == 204
    assert api.get("/api/projects/lantern-harbor").status_code == 404
    assert api.get("/api/characters").json() == [] and api.get("/api/scenes").json() == []
    assert api.delete("/api/projects/lantern-harbor").status_code == 404
    deleted = {(e["table"], e["slug"]) for e in story_api.catalog_events() if e["action"] == "deleted"}
    assert deleted == {("characters", "mika"), ("characters", "ember"), ("scenes", "lamp-goes-out"),
                       ("episodes", "lantern-harbor-e01")}


def test_generation_styles(story_api):
    api = story_api.client
    base = "/api/projects/lantern-harbor/styles"
    [soft_cel] = api.get(base).json()
    assert soft_cel["slug"] == "soft-cel" and soft_cel["cfg"] == 6.5 and soft_cel["lora"] is None
    assert api.get(f"{base}/soft-cel").json()["width"] == 832
    assert api.get(f"{base}/nope").status_code == 404
    assert api.get("/api/projects/nowhere/styles").status_code == 404

    ink = {"slug": "ink", "checkpoint": "ink.safetensors", "lora": {"name": "inkwash", "strength": 0.7}}
    created = api.post(base, json=ink)
    assert created.status_code == 201 and created.json()["lora"] == {"name": "inkwash", "strength": 0.7}
    assert api.post(base, json=ink).status_code == 409
    assert_invalid(api.post(base, json={**ink, "slug": "ink2", "width": 500}), "width")
    assert_invalid(api.post(base, json={**ink, "slug": "ink2", "lora": {"name": "x", "strength": 3}}),
                   "lora", "strength")

    patched = api.patch(f"{base}/ink", json={"cfg": 5.5, "lora": None}).json()
    assert (patched["cfg"], patched["lora"], patched["checkpoint"]) == (5.5, None, "ink.safetensors")
    assert_invalid(api.patch(f"{base}/ink", json={"steps": 0}), "steps")
    assert api.delete(f"{base}/ink").status_code == 204
    assert api.get(f"{base}/ink").status_code == 404

    # The style both characters use: they are left without one, and the sensor hears about it.
    assert api.delete(f"{base}/soft-cel").status_code == 204
    assert api.get("/api/characters/mika").json()["style"] is None
    assert {"table": "characters", "slug": "ember", "action": "updated"} in story_api.catalog_events()


def test_storyline_and_world(story_api):
    api = story_api.client
    story = api.get("/api/projects/lantern-harbor/storyline").json()
    assert story["title"] == "The Lamp Keeper's Apprentice" and "courage" in story["themes"]
    replaced = api.put("/api/projects/lantern-harbor/storyline", json={"title": "Keeper", "themes": ["light"]})
    assert replaced.status_code == 200
    assert replaced.json()["title"] == "Keeper" and replaced.json()["logline"] == ""
    assert_invalid(api.put("/api/projects/lantern-harbor/storyline", json={"logline": "x"}), "title")
    assert api.get("/api/projects/lantern-harbor/world").json()["era"] == "present day, rural coast"

    api.post("/api/projects", json={"slug": "blank", "name": "Blank"})
    # Not written yet: 204 (the project has them, empty); a project that does not exist is 404.
    assert api.get("/api/projects/blank/storyline").status_code == 204
    assert api.get("/api/projects/blank/world").status_code == 204
    assert api.get("/api/projects/nowhere/storyline").status_code == 404
    world = api.put("/api/projects/blank/world", json={"name": "Nowhere", "rules": ["no maps"]})
    assert world.status_code == 201 and world.json()["rules"] == ["no maps"]
    assert api.put("/api/projects/nowhere/world", json={"name": "x"}).status_code == 404


def test_characters_crud(story_api):
    api = story_api.client
    assert [c["slug"] for c in api.get("/api/characters", params={"project": "lantern-harbor"}).json()] \
        == ["mika", "ember"]
    assert api.get("/api/characters", params={"project": "nowhere"}).status_code == 404
    mika = api.get("/api/characters/mika").json()
    assert mika["style"] == "soft-cel" and mika["appearance_data"]["key_colors"]["hair"] == "#1f2a5c"
    assert api.get("/api/characters/nobody").status_code == 404

    new = {"project": "lantern-harbor", "slug": "gran", "name": "Grandmother Aoyama",
           "design_prompt": "old woman, grey bun", "appearance_data": {"features": ["grey bun"]}}
    created = api.post("/api/characters", json=new)
    assert created.status_code == 201
    assert created.json()["style"] == "soft-cel" and created.json()["target_images"] == 20
    api.post("/api/projects", json={"slug": "other", "name": "Other"})
    clash = api.post("/api/characters", json={**new, "project": "other"})
    assert clash.status_code == 409 and "lantern-harbor" in clash.json()["detail"]
    bad_colour = {**new, "slug": "gran2", "appearance_data": {"key_colors": {"hair": "grey"}}}
    assert "#rrggbb" in assert_invalid(api.post("/api/characters", json=bad_colour), "appearance_data", "key_colors")
    assert_conflict(api.post("/api/characters", json={**new, "slug": "gran2", "style": "nope"}), "style")
    assert_invalid(api.post("/api/characters", json={**new, "slug": "gran2", "target_images": -1}), "target_images")
    assert api.post("/api/characters", json={**new, "slug": "gran2", "project": "nowhere"}).status_code == 404

    patched = api.patch("/api/characters/gran", json={
        "name": "Gran", "target_images": 5, "style": None,
        "appearance_data": {"species": "human", "key_colors": {"hair": "#cccccc"}}}).json()
    assert (patched["name"], patched["target_images"], patched["style"]) == ("Gran", 5, None)
    assert patched["appearance_data"]["key_colors"] == {"hair": "#cccccc"}
    assert patched["design_prompt"] == "old woman, grey bun"
    assert api.patch("/api/characters/gran", json={"style": "soft-cel"}).json()["style"] == "soft-cel"
    assert_invalid(api.patch("/api/characters/gran", json={"appearance_data": {"wings": 2}}),
                   "appearance_data", "wings")
    assert_invalid(api.patch("/api/characters/gran", json={"design_prompt": None}), "design_prompt")
    assert api.patch("/api/characters/nobody", json={"name": "x"}).status_code == 404
    events = len(story_api.catalog_events())
    assert api.patch("/api/characters/gran", json={}).json()["name"] == "Gran"
    assert len(story_api.catalog_events()) == events  # an empty PATCH is no change for the sensor

    assert api.delete("/api/characters/gran").status_code == 204
    assert api.get("/api/characters/gran").status_code == 404
    assert api.delete("/api/characters/gran").status_code == 404
    gran_events = [e["action"] for e in story_api.catalog_events() if e["slug"] == "gran"]
    assert gran_events == ["created", "updated", "updated", "deleted"]


def _upload(api, slug: str, data: bytes, name="ref.png"):
    return api.post(f"/api/characters/{slug}/references", files={"file": (name, data, "image/png")})


def test_reference_upload_and_removal(story_api):
    api, media = story_api.client, story_api.media_root
    first = _upload(api, "mika", png_bytes())
    assert first.status_code == 201
    body = first.json()
    assert body["index"] == 0 and body["path"].startswith("references/mika/") and body["path"].endswith(".png")
    assert (media / body["path"]).read_bytes() == png_bytes()
    jpeg = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 90, 200)).save(jpeg, "JPEG")
    second = _upload(api, "mika", jpeg.getvalue(), "ref.jpg").json()
    assert second["index"] == 1 and second["path"].endswith(".jpg")
    assert api.get("/api/characters/mika").json()["reference_images"] == [body["path"], second["path"]]
    assert _upload(api, "mika", png_bytes()).status_code == 409  # the same image twice

    after_removal = api.delete("/api/characters/mika/references/0")
    assert after_removal.json()["reference_images"] == [second["path"]]
    assert api.delete("/api/characters/mika/references/1").status_code == 404
    assert api.delete("/api/characters/nobody/references/0").status_code == 404


def test_refused_uploads_leave_nothing_behind(story_api):
    api, media = story_api.client, story_api.media_root
    events_before = story_api.catalog_events()

    assert "not a readable" in assert_invalid(_upload(api, "mika", b"<html>not an image</html>"), "file")
    assert_invalid(_upload(api, "mika", b""), "file")
    too_large = _upload(api, "mika", png_bytes() + b"\0" * MAX_UPLOAD_BYTES)
    assert too_large.status_code == 413
    bomb = io.BytesIO()
    Image.new("1", (9500, 9500)).save(bomb, "PNG")  # ~11 kB on disk, 90 megapixels decoded
    assert len(bomb.getvalue()) < MAX_UPLOAD_BYTES
    assert "bomb" in assert_invalid(_upload(api, "mika", bomb.getvalue()), "file")
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    assert "GIF" in assert_invalid(_upload(api, "mika", gif.getvalue(), "x.gif"), "file")
    assert api.post("/api/characters/mika/references").status_code == 422  # no file at all
    assert _upload(api, "nobody", png_bytes()).status_code == 404

    assert not (media / "references").exists()
    assert api.get("/api/characters/mika").json()["reference_images"] == []
    assert story_api.catalog_events() == events_before


def test_upload_failing_after_the_file_is_written_removes_it(story_api, monkeypatch):
    from studio.story import references

    async def database_fails(*args):
        raise RuntimeError("simulated failure after the file was stored")

    monkeypatch.setattr(references, "catalog_changed", database_fails)
    try:
        assert _upload(story_api.client, "mika", png_bytes()).status_code == 500
    except httpx.TransportError:
        pass  # uvicorn may reset the connection after an unhandled error instead of answering 500
    assert list((story_api.media_root / "references" / "mika").iterdir()) == []
    assert story_api.query("SELECT reference_images FROM characters WHERE slug = 'mika'") == [{"reference_images": []}]
