"""Pure shot rules: motion presets, the input hash, which shots re-render, breakdown validation."""

import dataclasses

import pytest

from studio.domain.motion_presets import MOTION_PRESETS, SHOT_TYPES, motion_preset, motion_prompt_for
from studio.domain.scene_plan import breakdown_errors
from studio.domain.shot_rendering import (ChainShot, ShotRenderInputs, gpu_seconds_per_video_second,
                                          needs_render, plan_renders, remaining_seconds, shot_input_hash)

INPUTS = ShotRenderInputs(motion_prompt="slow push-in", seed=7, steps=30, duration_s=2.4,
                          model="FramePackI2V_HY_bf16.safetensors", settings={"cfg": 1.0, "sampler": "unipc_bh1"})


# --- motion presets ------------------------------------------------------------------------------

def test_every_shot_type_has_a_camera_move_duration_and_motion_prompt():
    assert set(SHOT_TYPES) >= {"establishing", "wide", "medium", "close_up", "action"}
    for preset in MOTION_PRESETS.values():
        assert preset.camera_move and preset.motion_prompt and preset.default_duration_s > 0
        assert 1.0 <= preset.zoom < 2


def test_unknown_shot_type_names_the_choices():
    with pytest.raises(ValueError, match="unknown shot type 'dolly'.*close_up"):
        motion_preset("dolly")


def test_a_shot_without_its_own_motion_prompt_takes_its_types():
    assert motion_prompt_for("close_up", "  ") == MOTION_PRESETS["close_up"].motion_prompt
    assert motion_prompt_for("close_up", "she smiles") == "she smiles"


# --- the input hash ------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    {"motion_prompt": "fast pan"}, {"seed": 8}, {"steps": 25}, {"duration_s": 3.6},
    {"model": "other.safetensors"}, {"settings": {"cfg": 1.5, "sampler": "unipc_bh1"}},
])
def test_every_picture_input_changes_the_hash(change):
    assert shot_input_hash("a" * 64, dataclasses.replace(INPUTS, **change)) != shot_input_hash("a" * 64, INPUTS)


def test_the_start_frame_changes_the_hash_and_is_required():
    assert shot_input_hash("a" * 64, INPUTS) != shot_input_hash("b" * 64, INPUTS)
    with pytest.raises(ValueError, match="start frame"):
        shot_input_hash("", INPUTS)


def test_same_inputs_same_hash():
    again = ShotRenderInputs(motion_prompt="slow push-in ", seed=7, steps=30, duration_s=2.4000001,
                             model=INPUTS.model, settings={"sampler": "unipc_bh1", "cfg": 1.0})
    assert shot_input_hash("a" * 64, again) == shot_input_hash("a" * 64, INPUTS)


def test_needs_render_when_hash_changed_or_clip_missing():
    assert not needs_render("h", True, "h")
    assert needs_render("h", False, "h")
    assert needs_render("old", True, "h")
    assert needs_render(None, True, "h")


# --- the chain -----------------------------------------------------------------------------------

def _rendered_scene(count: int, cuts: tuple[int, ...] = ()) -> list[ChainShot]:
    """A scene whose every shot is rendered and up to date."""
    shots, previous_last = [], None
    for i in range(count):
        opens = i == 0 or i in cuts
        inputs = dataclasses.replace(INPUTS, seed=i)
        start = f"key{i}".ljust(64, "0") if opens else previous_last
        last = f"last{i}".ljust(64, "0")
        shots.append(ChainShot(f"s{i}", opens, inputs, start if opens else None, shot_input_hash(start, inputs),
                               True, last))
        previous_last = last
    return shots


def test_an_up_to_date_scene_renders_nothing():
    assert plan_renders(_rendered_scene(10)).render == ()


def test_editing_shot_k_renders_k_and_the_rest_of_its_chain_only():
    shots = _rendered_scene(10, cuts=(9,))
    shots[6] = dataclasses.replace(shots[6], inputs=dataclasses.replace(shots[6].inputs, motion_prompt="new"))
    plan = plan_renders(shots)
    assert plan.render == ("s6", "s7", "s8")  # s9 opens its own chain from a keyframe
    assert plan.reasons["s6"] == "its inputs changed"
    assert plan.reasons["s7"] == "the previous shot is rendered again"


def test_a_missing_clip_renders_that_shot_and_its_followers():
    shots = _rendered_scene(4)
    shots[2] = dataclasses.replace(shots[2], clip_present=False)
    assert plan_renders(shots).render == ("s2", "s3")


def test_a_chain_opener_without_keyframe_renders():
    shots = _rendered_scene(2)
    shots[0] = dataclasses.replace(shots[0], keyframe_sha256=None)
    assert plan_renders(shots).reasons["s0"] == "no keyframe yet"


def test_eta_from_measured_gpu_seconds_per_video_second():
    rate = gpu_seconds_per_video_second([(60.0, 2.0), (120.0, 4.0), (None, 3.0)], default=300.0)
    assert rate == 30.0
    assert gpu_seconds_per_video_second([], default=300.0) == 300.0
    assert remaining_seconds([2.0, 1.5], rate) == 105.0


# --- breakdown validation ------------------------------------------------------------------------

def _shot(**overrides) -> dict:
    return {"shot_type": "medium", "camera_angle": "eye level", "duration_s": 3.0,
            "first_frame": "Mika at the lamp", "motion_prompt": "she turns", "characters": ["mika"],
            "dialogue": [{"character": "mika", "line": "Not tonight."}], **overrides}


def _breakdown(*shots, target=6.0) -> dict:
    return {"scenes": [{"title": "Storm", "description": "The lamp dies.", "location": "lamp room",
                        "time_of_day": "night", "weather": "storm", "mood": "tense",
                        "target_duration_s": target, "shots": list(shots) or [_shot(), _shot()]}]}


def test_a_good_breakdown_has_no_errors():
    assert breakdown_errors(_breakdown(), {"mika", "ember"}) == []


def test_unknown_character_type_and_durations_are_named_for_the_model():
    answer = _breakdown(_shot(characters=["bob"], dialogue=[]), _shot(shot_type="dolly"), _shot(duration_s=40))
    errors = breakdown_errors(answer, {"mika", "ember"})
    assert "scenes[0].shots[0].characters[0]: 'bob' is not a character of this project (known: ember, mika)" in errors
    assert any(e.startswith("scenes[0].shots[1].shot_type: 'dolly' is not a shot type; use one of") for e in errors)
    assert any(e.startswith("scenes[0].shots[2].duration_s: 40") for e in errors)


def test_durations_must_add_up_to_the_scene_target():
    errors = breakdown_errors(_breakdown(_shot(), _shot(), target=12.0), {"mika"})
    assert errors == ["scenes[0]: the shots last 6 s but target_duration_s is 12 s; make them add up (within 1.2 s)"]


def test_a_speaker_must_be_in_the_shot_and_not_an_object_is_refused():
    errors = breakdown_errors(_breakdown(_shot(characters=[]), _shot()), {"mika"})
    assert errors == ["scenes[0].shots[0].dialogue[0].character: 'mika' speaks but is not in the shot's characters"]
    assert breakdown_errors("prose", {"mika"}) == ["the answer must be an object with a list `scenes`"]


def test_a_shot_keeps_its_default_seed_when_reordered_and_a_set_seed_wins():
    from studio.domain.shot_rendering import default_seed, opens_chain, shot_seed

    shot = {"shot_key": "s-ab12", "seed": None, "cut": False}
    assert shot_seed("harbor", shot) == default_seed("harbor", "s-ab12")
    assert shot_seed("harbor", shot) != default_seed("harbor", "s-cd34")
    assert 0 <= shot_seed("harbor", shot) < 2**31
    assert shot_seed("harbor", {**shot, "seed": 7}) == 7
    assert opens_chain(shot, 0) and not opens_chain(shot, 3) and opens_chain({**shot, "cut": True}, 3)
