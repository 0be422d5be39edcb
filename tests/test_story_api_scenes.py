"""Scenes, shots (insert, reorder, renumbering) and episodes (running order) over HTTP."""

from __future__ import annotations

from studio.domain.shot_keys import shot_keys
from tests.story_api import assert_conflict, assert_invalid, story_api  # noqa: F401

SCENE = "/api/scenes/lamp-goes-out"


def _positions(api) -> list[tuple[int, str]]:
    return [(s["position"], s["description"][:12]) for s in api.get(f"{SCENE}/shots").json()]


def _shot_ids(api) -> list[int]:
    return [s["id"] for s in api.get(f"{SCENE}/shots").json()]


def _other_project_with_kai(api) -> None:
    api.post("/api/projects", json={"slug": "other", "name": "Other"})
    api.post("/api/characters", json={"project": "other", "slug": "kai", "name": "Kai", "design_prompt": "boy"})


def test_scenes_crud(story_api):
    api = story_api.client
    [listed] = api.get("/api/scenes", params={"project": "lantern-harbor"}).json()
    assert listed["slug"] == "lamp-goes-out" and listed["shot_count"] == 3
    assert api.get("/api/scenes", params={"project": "nowhere"}).status_code == 404
    scene = api.get(SCENE).json()
    assert [s["position"] for s in scene["shots"]] == [1, 2, 3] and scene["episodes"] == ["lantern-harbor-e01"]
    assert scene["shots"][1]["duration_s"] == 3.5 and scene["shots"][2]["characters"] == ["mika", "ember"]
    assert api.get("/api/scenes/nowhere").status_code == 404

    _other_project_with_kai(api)
    new = {"project": "lantern-harbor", "slug": "harbor-wall", "title": "On the Harbor Wall",
           "shots": [{"description": "Mika runs along the wall.", "characters": ["mika"]},
                     {"description": "Ember rides in her hood.", "dialogue": [{"character": "ember", "line": "Hi"}]}]}
    created = api.post("/api/scenes", json=new)
    assert created.status_code == 201
    assert [s["position"] for s in created.json()["shots"]] == [1, 2] and created.json()["episodes"] == []
    assert api.post("/api/scenes", json={**new, "project": "other", "shots": []}).status_code == 409
    kai_shots = [{"description": "x"}, {"description": "y", "characters": ["mika", "kai"]}]
    assert "kai" in assert_conflict(api.post("/api/scenes", json={**new, "slug": "s2", "shots": kai_shots}),
                                   "shots", 1, "characters", 1)
    zero_length = [{"description": "x", "duration_s": 0}]
    assert_invalid(api.post("/api/scenes", json={**new, "slug": "s2", "shots": zero_length}), "shots", 0, "duration_s")
    assert api.get("/api/scenes/s2").status_code == 404  # nothing of a refused scene was written

    patched = api.patch("/api/scenes/harbor-wall", json={"mood": "hurried", "music": None}).json()
    assert (patched["mood"], patched["music"], patched["title"]) == ("hurried", None, "On the Harbor Wall")
    assert_invalid(api.patch("/api/scenes/harbor-wall", json={"title": ""}), "title")
    assert api.patch("/api/scenes/nowhere", json={"mood": "x"}).status_code == 404

    in_use = api.delete(SCENE)
    assert in_use.status_code == 409 and "lantern-harbor-e01" in in_use.json()["detail"]
    assert api.delete("/api/scenes/harbor-wall").status_code == 204
    assert api.get("/api/scenes/harbor-wall").status_code == 404
    assert [(e["slug"], e["action"]) for e in story_api.catalog_events() if e["table"] == "scenes"] == [
        ("harbor-wall", "created"), ("harbor-wall", "updated"), ("harbor-wall", "deleted")]


def test_shots_insert_update_delete_keep_positions_dense(story_api):
    api = story_api.client
    assert _positions(api) == [(1, "Wide shot of"), (2, "Mika in the "), (3, "Inside the l")]
    appended = api.post(f"{SCENE}/shots", json={"description": "Ember breathes on the lamp."})
    assert appended.status_code == 201 and appended.json()["position"] == 4
    first = api.post(f"{SCENE}/shots", json={"description": "Black screen, thunder.", "position": 1}).json()
    assert _positions(api) == [(1, "Black screen"), (2, "Wide shot of"), (3, "Mika in the "), (4, "Inside the l"),
                               (5, "Ember breath")]
    middle = api.post(f"{SCENE}/shots", json={"description": "Rain on glass.", "position": 3}).json()
    assert [p for p, _ in _positions(api)] == [1, 2, 3, 4, 5, 6] and middle["position"] == 3
    assert "at most 7" in assert_conflict(api.post(f"{SCENE}/shots", json={"description": "x", "position": 9}),
                                         "position")
    assert_invalid(api.post(f"{SCENE}/shots", json={"description": "x", "position": 0}), "position")

    _other_project_with_kai(api)
    lines = [{"character": "mika", "line": "a"}, {"character": "kai", "line": "b"}]
    bad_speaker = {"description": "x", "dialogue": lines}
    assert_conflict(api.post(f"{SCENE}/shots", json=bad_speaker), "dialogue", 1, "character")
    assert_conflict(api.post(f"{SCENE}/shots", json={"description": "x", "characters": ["nobody"]}), "characters", 0)
    assert len(_positions(api)) == 6

    patched = api.patch(f"{SCENE}/shots/{first['id']}", json={"camera": "black", "characters": ["ember"],
                                                              "duration_s": 1.5})
    assert patched.json()["camera"] == "black" and patched.json()["duration_s"] == 1.5
    assert patched.json()["position"] == 1 and patched.json()["status"] == "planned"
    assert_conflict(api.patch(f"{SCENE}/shots/{first['id']}", json={"characters": ["kai"]}), "characters", 0)
    assert_invalid(api.patch(f"{SCENE}/shots/{first['id']}", json={"description": None}), "description")
    assert api.patch(f"{SCENE}/shots/999999", json={"camera": "x"}).status_code == 404
    assert api.patch(f"/api/scenes/nowhere/shots/{first['id']}", json={"camera": "x"}).status_code == 404

    assert api.delete(f"{SCENE}/shots/{middle['id']}").status_code == 204
    assert api.delete(f"{SCENE}/shots/{first['id']}").status_code == 204
    assert _positions(api) == [(1, "Wide shot of"), (2, "Mika in the "), (3, "Inside the l"), (4, "Ember breath")]
    assert api.delete(f"{SCENE}/shots/{first['id']}").status_code == 404
    shot_events = [e["action"] for e in story_api.catalog_events() if e["table"] == "shots"]
    assert shot_events == ["created"] * 3 + ["updated"] + ["deleted"] * 2


def test_shot_reorder_takes_a_permutation(story_api):
    api = story_api.client
    a, b, c = _shot_ids(api)
    reordered = api.put(f"{SCENE}/shots/order", json=[c, a, b])
    assert reordered.status_code == 200
    assert [(s["id"], s["position"]) for s in reordered.json()] == [(c, 1), (a, 2), (b, 3)]
    assert _shot_ids(api) == [c, a, b]

    assert "twice" in assert_conflict(api.put(f"{SCENE}/shots/order", json=[a, a, b]), 1)
    assert "not a shot" in assert_conflict(api.put(f"{SCENE}/shots/order", json=[a, b, c, 999999]), 3)
    assert "leaves out" in assert_conflict(api.put(f"{SCENE}/shots/order", json=[a, b]))
    assert_invalid(api.put(f"{SCENE}/shots/order", json=[a, "first", b]), 1)
    assert_invalid(api.put(f"{SCENE}/shots/order", json={"order": [a, b, c]}))
    assert api.put("/api/scenes/nowhere/shots/order", json=[a]).status_code == 404
    assert _shot_ids(api) == [c, a, b]  # refused orders changed nothing
    assert [e["action"] for e in story_api.catalog_events() if e["table"] == "shots"] == ["reordered"]


def test_episodes_and_running_order(story_api):
    api = story_api.client
    [episode] = api.get("/api/episodes", params={"project": "lantern-harbor"}).json()
    assert episode["scenes"] == [{"scene": "lamp-goes-out", "position": 1, "transition": "fade",
                                  "transition_s": 0.5}]
    assert api.get("/api/episodes", params={"project": "nowhere"}).status_code == 404
    assert api.get("/api/episodes/lantern-harbor-e01").json()["number"] == 1
    assert api.get("/api/episodes/nowhere").status_code == 404

    api.post("/api/scenes", json={"project": "lantern-harbor", "slug": "kitchen", "title": "Kitchen"})
    new = {"project": "lantern-harbor", "slug": "lantern-harbor-e02", "number": 2, "title": "Morning",
           "scenes": [{"scene": "kitchen"}, {"scene": "lamp-goes-out", "transition": "dissolve", "transition_s": 1}]}
    created = api.post("/api/episodes", json=new)
    assert created.status_code == 201
    assert [(s["scene"], s["transition"]) for s in created.json()["scenes"]] == [("kitchen", "cut"),
                                                                                ("lamp-goes-out", "dissolve")]
    assert api.post("/api/episodes", json=new).status_code == 409  # slug
    number_taken = api.post("/api/episodes", json={**new, "slug": "e02b", "scenes": []})
    assert number_taken.status_code == 409 and "lantern-harbor-e02" in number_taken.json()["detail"]
    assert_conflict(api.post("/api/episodes", json={**new, "slug": "e03", "number": 3, "scenes": [{"scene": "nope"}]}),
                   "scenes", 0, "scene")
    assert api.get("/api/episodes/e03").status_code == 404
    assert_invalid(api.post("/api/episodes", json={**new, "slug": "e03", "number": 0}), "number")

    order = "/api/episodes/lantern-harbor-e02/scenes"
    replaced = api.put(order, json=[{"scene": "lamp-goes-out", "transition": "wipe", "transition_s": 0.25},
                                    {"scene": "kitchen", "transition": "fade"}])
    assert [(s["scene"], s["position"], s["transition"], s["transition_s"]) for s in replaced.json()["scenes"]] \
        == [("lamp-goes-out", 1, "wipe", 0.25), ("kitchen", 2, "fade", 0.0)]
    assert_invalid(api.put(order, json=[{"scene": "kitchen", "transition": "spin"}]), 0, "transition")
    assert_invalid(api.put(order, json=[{"scene": "kitchen", "transition_s": -1}]), 0, "transition_s")
    assert "twice" in assert_conflict(api.put(order, json=[{"scene": "kitchen"}, {"scene": "kitchen"}]), 1, "scene")
    api.post("/api/projects", json={"slug": "other", "name": "Other"})
    api.post("/api/scenes", json={"project": "other", "slug": "elsewhere", "title": "Elsewhere"})
    assert_conflict(api.put(order, json=[{"scene": "kitchen"}, {"scene": "elsewhere"}]), 1, "scene")
    assert api.put("/api/episodes/nowhere/scenes", json=[]).status_code == 404
    assert [s["scene"] for s in api.get("/api/episodes/lantern-harbor-e02").json()["scenes"]] \
        == ["lamp-goes-out", "kitchen"]
    assert api.put(order, json=[]).json()["scenes"] == []

    patched = api.patch("/api/episodes/lantern-harbor-e02", json={"title": "Dawn", "season": 2}).json()
    assert (patched["title"], patched["season"], patched["number"]) == ("Dawn", 2, 2)
    api.post("/api/episodes", json={**new, "slug": "s2e1", "season": 2, "number": 1, "scenes": []})
    assert api.patch("/api/episodes/s2e1", json={"number": 2}).status_code == 409
    assert_invalid(api.patch("/api/episodes/s2e1", json={"season": 0}), "season")
    assert api.patch("/api/episodes/nowhere", json={"title": "x"}).status_code == 404

    assert api.delete("/api/scenes/kitchen").status_code == 204  # no episode uses it any more
    assert api.delete("/api/episodes/lantern-harbor-e02").status_code == 204
    assert api.get("/api/episodes/lantern-harbor-e02").status_code == 404
    assert api.delete("/api/episodes/lantern-harbor-e02").status_code == 404
    e02 = [e["action"] for e in story_api.catalog_events() if e["slug"] == "lantern-harbor-e02"]
    assert e02 == ["created", "updated", "updated", "updated", "deleted"]


def test_shot_keys_follow_their_shots_when_reordered(story_api):
    api = story_api.client
    before = {s["id"]: s["shot_key"] for s in api.get(f"{SCENE}/shots").json()}
    assert len(set(before.values())) == 3 and all(before.values())
    ids = _shot_ids(api)
    assert api.put(f"{SCENE}/shots/order", json=[ids[2], ids[0], ids[1]]).status_code == 200
    after = api.get(f"{SCENE}/shots").json()
    assert [s["shot_key"] for s in after] == [before[ids[2]], before[ids[0]], before[ids[1]]]
    assert all(s["shot_type"] == "medium" and s["cut"] is False for s in after)


def test_a_shot_key_is_set_through_the_api_and_unique_within_the_scene(story_api):
    api = story_api.client
    first, second = _shot_ids(api)[:2]
    keyed = api.patch(f"{SCENE}/shots/{first}", json={"key": "harbor-opening"})
    assert keyed.status_code == 200 and keyed.json()["shot_key"] == "harbor-opening"
    kept = api.patch(f"{SCENE}/shots/{first}", json={"key": None, "camera": "close"})
    assert kept.status_code == 200 and kept.json()["shot_key"] == "harbor-opening"
    taken = api.patch(f"{SCENE}/shots/{second}", json={"key": "harbor-opening"})
    assert taken.status_code == 409 and "already taken" in taken.json()["detail"]
    added = api.post(f"{SCENE}/shots", json={"description": "gulls", "key": "gulls-over-the-pier"})
    assert added.status_code == 201 and added.json()["shot_key"] == "gulls-over-the-pier"
    assert api.post(f"{SCENE}/shots", json={"description": "x", "key": "gulls-over-the-pier"}).status_code == 409


def test_a_shot_added_without_a_key_gets_the_one_its_description_gives(story_api):
    """As a spec import would name it, so exporting and re-importing the scene keeps its clips."""
    api = story_api.client
    added = [api.post(f"{SCENE}/shots", json={"description": "Gulls over the pier"}).json()["shot_key"]
             for _ in range(2)]
    assert added == shot_keys([(None, "Gulls over the pier")] * 2)
    assert added[0].startswith("gulls-over-the-pier-")
