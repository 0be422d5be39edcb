"""Shot identity through re-import: a shot's row (its clip, input hash and seed) follows its key, which
the spec names or the description gives, never its position in the scene."""

import asyncio
import logging

import pytest
import yaml

from studio.cli import main as studio
from studio.db.pool import create_pool
from studio.domain.shot_keys import derived_shot_key, free_derived_key, shot_keys
from studio.shots.keyframes import ensure_keyframes
from studio.shots.render_scene import render_scene
from studio.shots.renderers import PreviewShotRenderer
from tests.conftest import EXAMPLE_SPEC

SCENE = "lamp-goes-out"
STATE = "SELECT id, shot_key, position, description, clip_path, input_hash, seed, last_frame_path, status FROM shots"


def example() -> dict:
    return yaml.safe_load(EXAMPLE_SPEC.read_text())


def write(tmp_path, spec: dict):
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


async def import_spec(path) -> int:
    # The CLI runs its own event loop.
    return await asyncio.to_thread(studio, ["import", str(path)])


def scene_shots(spec: dict) -> list[dict]:
    return next(s for s in spec["scenes"] if s["slug"] == SCENE)["shots"]


async def rows(db) -> list[dict]:
    return [dict(r) for r in await db.fetch(
        STATE + " WHERE scene_id = (SELECT id FROM scenes WHERE slug = $1) ORDER BY position", SCENE)]


def test_derived_keys_ignore_position_case_and_spacing_and_tell_repeats_apart():
    a, b = "Mika opens the door.", "The lamp goes out."
    assert shot_keys([(None, a), (None, b)]) == list(reversed(shot_keys([(None, b), (None, a)])))
    assert derived_shot_key("  mika OPENS the   door. ") == derived_shot_key(a)
    assert derived_shot_key(a).startswith("mika-opens-the-door-")
    first, second = shot_keys([(None, a), (None, a)])
    assert first != second and first == derived_shot_key(a)
    assert shot_keys([("door", a), (None, b)])[0] == "door"


def test_a_shot_added_alone_gets_the_key_its_place_among_repeats_would_give():
    a = "Mika opens the door."
    first, second, third = shot_keys([(None, a)] * 3)
    assert free_derived_key(a, set()) == first
    assert free_derived_key(a, {first, "door"}) == second
    assert free_derived_key(a, {first, third}) == second  # a freed occurrence is reused


async def test_a_reordered_spec_keeps_every_rendered_clip_and_input_hash(studio_env, db, db_url, tmp_path):
    spec = example()
    assert await import_spec(str(write(tmp_path, spec))) == 0
    media = studio_env / "media"
    pool = await create_pool(db_url, max_size=4)
    try:
        log = logging.getLogger("test_import_shot_keys")
        await ensure_keyframes(pool, SCENE, media, size=(128, 72), allow_drawing=True, log=log)
        await render_scene(pool, SCENE, PreviewShotRenderer(width=128, height=72, fps=8), media, log=log)
    finally:
        await pool.close()
    before = {r["description"]: r for r in await rows(db)}
    assert all(r["status"] == "rendered" and r["input_hash"] for r in before.values())

    scene_shots(spec).reverse()
    assert await import_spec(str(write(tmp_path, spec))) == 0
    after = await rows(db)
    assert [r["description"] for r in after] == [s["description"] for s in scene_shots(spec)]
    kept = ("id", "shot_key", "clip_path", "input_hash", "seed", "last_frame_path")
    for row in after:
        assert {k: row[k] for k in kept} == {k: before[row["description"]][k] for k in kept}
        assert (media / row["clip_path"]).is_file()
    assert [r["position"] for r in after] == [1, 2, 3]


async def test_an_explicit_key_keeps_the_shot_through_a_description_edit(studio_env, db, tmp_path):
    spec = example()
    scene_shots(spec)[1]["key"] = "mika-lamp-room"
    assert await import_spec(str(write(tmp_path, spec))) == 0
    await db.execute("UPDATE shots SET clip_path = 'shots/x/clip.mp4', input_hash = 'h1' WHERE shot_key = $1",
                     "mika-lamp-room")
    kept_id = await db.fetchval("SELECT id FROM shots WHERE shot_key = 'mika-lamp-room'")
    keyed = scene_shots(spec).pop(1)
    keyed["description"] = "Mika in the lamp room, soaked, staring at the dead lamp."
    scene_shots(spec).append(keyed)  # edited and moved to the end
    scene_shots(spec)[0]["description"] += " Thunder."  # no key: a new shot
    first = (await rows(db))[0]
    assert await import_spec(str(write(tmp_path, spec))) == 0
    now = await rows(db)
    assert (now[2]["id"], now[2]["shot_key"], now[2]["clip_path"], now[2]["input_hash"]) == \
           (kept_id, "mika-lamp-room", "shots/x/clip.mp4", "h1")
    assert now[2]["description"].endswith("soaked, staring at the dead lamp.")
    assert now[0]["id"] != first["id"] and now[0]["shot_key"] != first["shot_key"]


async def test_shots_stored_under_other_keys_are_taken_over_by_their_description(studio_env, db, tmp_path):
    # Rows from before keys were derived (a random key each) keep their clips on the next import.
    assert await import_spec(str(EXAMPLE_SPEC)) == 0
    await db.execute("UPDATE shots SET shot_key = 'shot-' || id, clip_path = 'clip-' || id, input_hash = 'h' || id")
    before = await rows(db)
    assert await import_spec(str(EXAMPLE_SPEC)) == 0
    after = await rows(db)
    assert [(r["id"], r["clip_path"], r["input_hash"]) for r in after] == \
           [(r["id"], r["clip_path"], r["input_hash"]) for r in before]
    assert [r["shot_key"] for r in after] == shot_keys((None, r["description"]) for r in after)
    assert await import_spec(str(EXAMPLE_SPEC)) == 0
    assert await rows(db) == after  # and then it is a no-op


@pytest.mark.parametrize("shots,where", [
    ([{"key": "door", "description": "a"}, {"key": "door", "description": "b"}], "scenes[0].shots[1].key"),
    ([{"key": "bad key", "description": "a"}], "scenes[0].shots[0].key"),
])
def test_a_bad_or_repeated_key_is_refused_naming_the_shot(studio_env, tmp_path, capsys, shots, where):
    spec = example()
    spec["scenes"][0]["shots"] = shots
    assert studio(["import", str(write(tmp_path, spec))]) != 0
    assert f"{where}:" in capsys.readouterr().err
