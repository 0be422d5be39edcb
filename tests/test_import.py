import asyncio
import copy

import pytest
import yaml

from studio.cli import main as studio
from studio.db.pool import connect
from tests.conftest import EXAMPLE_SPEC

TABLES = ("projects", "generation_styles", "characters", "storylines", "world_settings",
          "scenes", "shots", "episodes", "episode_scenes", "autonomy_settings")


def snapshot(db_url: str) -> dict:
    """Every row of every catalog table, updated_at included: any write shows up as a difference."""

    async def _snap():
        async with connect(db_url) as conn:
            return {t: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t} ORDER BY 1, 2")] for t in TABLES}

    return asyncio.run(_snap())


def example() -> dict:
    return yaml.safe_load(EXAMPLE_SPEC.read_text())


def write(tmp_path, spec: dict, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, allow_unicode=True))
    return path


def test_example_imports_into_every_table(studio_env, db_url, capsys):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    snap = snapshot(db_url)
    assert [c["slug"] for c in snap["characters"]] == ["mika", "ember"]
    ember = snap["characters"][1]
    assert ember["appearance_data"]["species"] == "dragon — NOT human"
    assert [s["position"] for s in snap["shots"]] == [1, 2, 3]
    assert snap["shots"][2]["dialogue"][0] == {"character": "ember", "line": "Um. I can explain the lamp."}
    assert snap["episode_scenes"][0]["transition"] == "fade"
    assert "2 character created" in capsys.readouterr().out


def test_reimport_is_a_no_op(studio_env, db_url, capsys):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    before = snapshot(db_url)
    capsys.readouterr()
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    assert snapshot(db_url) == before
    assert "(nothing changed)" in capsys.readouterr().out


def test_reimport_updates_in_place_and_drops_removed_shots(studio_env, db_url, tmp_path):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    ids_before = {c["slug"]: c["id"] for c in snapshot(db_url)["characters"]}
    spec = example()
    spec["characters"][0]["target_images"] = 30
    spec["scenes"][0]["shots"] = spec["scenes"][0]["shots"][:2]
    spec["episodes"][0]["scenes"][0]["transition"] = "cut"
    assert studio(["import", str(write(tmp_path, spec))]) == 0
    snap = snapshot(db_url)
    assert {c["slug"]: c["id"] for c in snap["characters"]} == ids_before
    assert snap["characters"][0]["target_images"] == 30
    assert len(snap["shots"]) == 2
    assert snap["episode_scenes"][0]["transition"] == "cut"


def _set(path: str, value):
    def mutate(spec):
        *parents, last = path.split(".")
        node = spec
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if value is DELETE:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value
    return mutate


DELETE = object()

INVALID = [
    ("missing field", _set("characters.0.design_prompt", DELETE), "characters[0].design_prompt", "Field required"),
    ("wrong type", _set("style.steps", "many"), "style.steps", "valid integer"),
    ("unknown character in shot", _set("scenes.0.shots.1.characters", ["nobody"]),
     "scenes[0].shots[1].characters[0]", "unknown character 'nobody'"),
    ("duplicate slug", _set("characters.1.slug", "mika"), "characters[1].slug", "duplicate slug 'mika'"),
    ("bad colour", _set("characters.0.appearance.key_colors.hair", "navy"),
     "characters[0].appearance.key_colors", "not a #rrggbb colour"),
    ("unknown scene in episode", _set("episodes.0.scenes.0.scene", "nowhere"),
     "episodes[0].scenes[0].scene", "unknown scene 'nowhere'"),
    ("speaker not in shot", _set("scenes.0.shots.1.dialogue.0.character", "ember"),
     "scenes[0].shots[1].dialogue[0].character", "'ember' is not in this shot"),
    ("misspelt field", _set("characters.0.desing_prompt", "x"), "characters[0].desing_prompt", "Extra inputs"),
    ("bad slug", _set("project.slug", "Lantern Harbor"), "project.slug", "should match pattern"),
    ("size not a multiple of 8", _set("style.width", 830), "style.width", "multiple of 8"),
    ("missing reference image", _set("characters.0.reference_images", ["refs/nope.png"]),
     "characters[0].reference_images[0]", "no file 'refs/nope.png'"),
    ("scene without shots", _set("scenes.0.shots", []), "scenes[0].shots", "at least 1 item"),
    ("autonomy below its bound", _set("autonomy.batch_size", 0), "autonomy.batch_size",
     "greater than or equal to 1"),
    ("autonomy misspelt", _set("autonomy.cooldown", 60), "autonomy.cooldown", "Extra inputs"),
    ("autonomy not a switch", _set("autonomy.enabled", "sometimes"), "autonomy.enabled", "valid boolean"),
    ("autonomy alpha a real cannot hold", _set("autonomy.drift_alpha", 1e-9), "autonomy.drift_alpha",
     "greater than or equal to 0.000001"),
    ("learning bound outside the style's range", _set("style.learning_bounds", {"steps": [0, 40]}),
     "style.learning_bounds.steps[0]", "greater than or equal to 1"),
    ("learning size not a multiple of 8", _set("style.learning_bounds", {"resolutions": [{"width": 830, "height": 1216}]}),
     "style.learning_bounds.resolutions[0].width", "multiple of 8"),
    ("autonomy over an integer column", _set("autonomy.cooldown_seconds", 2**31), "autonomy.cooldown_seconds",
     "less than or equal to 2147483647"),
]


@pytest.mark.parametrize("mutate,field,reason", [c[1:] for c in INVALID], ids=[c[0] for c in INVALID])
def test_invalid_spec_names_file_field_and_reason_and_writes_nothing(
    studio_env, db_url, tmp_path, capsys, mutate, field, reason
):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    before = snapshot(db_url)
    spec = copy.deepcopy(example())
    spec["project"]["name"] = "Renamed"  # a valid change that must not be written either
    mutate(spec)
    path = write(tmp_path, spec)
    capsys.readouterr()
    assert studio(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {field}: " in err and reason in err, err
    assert "Traceback" not in err
    assert snapshot(db_url) == before


def test_slug_owned_by_another_project_rolls_back_everything(studio_env, db_url, tmp_path, capsys):
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    before = snapshot(db_url)
    spec = example()
    spec["project"]["slug"] = "another-show"  # a new project whose character slug is taken
    path = write(tmp_path, spec)
    assert studio(["import", str(path)]) == 2
    assert "characters[0].slug: slug 'mika' already belongs to project 'lantern-harbor'" in capsys.readouterr().err
    assert snapshot(db_url) == before  # the new project row written first was rolled back too


@pytest.mark.parametrize("content,reason", [("project: [unclosed", "not valid YAML"),
                                            ("- just\n- a list\n", "expected a mapping")])
def test_unreadable_file_gives_one_clear_line(studio_env, tmp_path, capsys, content, reason):
    path = tmp_path / "broken.yaml"
    path.write_text(content)
    assert studio(["import", str(path)]) == 2
    err = capsys.readouterr().err
    assert reason in err and "Traceback" not in err


def _api_settings(db_url: str, **changes) -> dict:
    from studio.autonomy.settings import get_thresholds, put_thresholds

    async def work():
        async with connect(db_url) as conn:
            project = await conn.fetchval("SELECT id FROM projects WHERE slug = 'lantern-harbor'")
            if changes:
                await put_thresholds(conn, project, changes)
            return (await get_thresholds(conn, project)).as_dict()
    return asyncio.run(work())


def test_spec_autonomy_thresholds_are_the_ones_the_sensor_and_api_use(studio_env, db_url, tmp_path, capsys):
    spec = example()
    spec["autonomy"] = {"cooldown_seconds": 60, "drift_alpha": 0.05, "learning_enabled": False}
    path = write(tmp_path, spec)
    assert studio(["import", str(path)]) == 0
    assert "1 autonomy settings created" in capsys.readouterr().out
    settings = _api_settings(db_url)
    assert (settings["cooldown_seconds"], settings["drift_alpha"], settings["learning_enabled"]) == (60, 0.05, False)
    assert settings["batch_size"] == 3  # left out: the default
    # A person changes one the spec does not name through the API: a re-import keeps it and writes nothing.
    _api_settings(db_url, pending_buffer=4)
    before = snapshot(db_url)
    assert studio(["import", str(path)]) == 0
    assert "1 autonomy settings unchanged" in capsys.readouterr().out
    assert snapshot(db_url) == before and _api_settings(db_url)["pending_buffer"] == 4
    # What the spec names, the spec decides.
    spec["autonomy"]["cooldown_seconds"] = 120
    assert studio(["import", str(write(tmp_path, spec))]) == 0
    assert "1 autonomy settings updated" in capsys.readouterr().out
    assert _api_settings(db_url)["cooldown_seconds"] == 120


def test_a_spec_without_autonomy_leaves_the_settings_alone(studio_env, db_url, tmp_path):
    spec = example()
    del spec["autonomy"]
    assert studio(["import", str(write(tmp_path, spec))]) == 0
    assert snapshot(db_url)["autonomy_settings"] == []


def test_style_learning_bounds_are_what_the_learner_chooses_within(studio_env, db_url, tmp_path):
    import random

    from studio.autonomy.learning_store import load_learning_data, recommend_one

    spec = example()
    spec["style"]["learning_bounds"] = {"cfg": [6.0, 5.0], "samplers": ["dpmpp_2m"], "steps": [20, 30],
                                        "resolutions": [{"width": 768, "height": 1152}]}
    assert studio(["import", str(write(tmp_path, spec))]) == 0
    [style] = snapshot(db_url)["generation_styles"]
    assert style["learning_bounds"]["cfg"] == [5.0, 6.0] and "cfg_step" not in style["learning_bounds"]  # low first
    assert style["learning_bounds"]["resolutions"] == ["768x1152"]

    async def choices():
        async with connect(db_url) as conn:
            mika = await conn.fetchval("SELECT id FROM characters WHERE slug = 'mika'")
            data = await load_learning_data(conn, [mika])
            return [recommend_one(data, mika, random.Random(seed)) for seed in range(30)]

    picked = asyncio.run(choices())
    assert {p["cfg"] for p in picked} <= {5.0, 6.0} and {p["sampler"] for p in picked} <= {"euler_ancestral", "dpmpp_2m"}
    assert all(20 <= p["steps"] <= 30 for p in picked) and len({p["cfg"] for p in picked}) == 2
    # Left out of the spec again: the bounds go back to the style's defaults.
    assert studio(["import", str(EXAMPLE_SPEC)]) == 0
    assert snapshot(db_url)["generation_styles"][0]["learning_bounds"] == {}
