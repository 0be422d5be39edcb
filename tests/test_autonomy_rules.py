"""The pure autonomy rules: replenishment guards, Thompson sampling, corrections and the drift test."""

import random
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from studio.domain import corrections as c
from studio.domain.drift import detect_drift
from studio.domain.learning import (
    ArmStats, GenerationParams, choose, parameter_space, validate_pins,
)
from studio.domain.replenishment import CharacterFacts, OpenRequest, Thresholds, evaluate

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
STYLE = GenerationParams(checkpoint="anime.safetensors", cfg=6.5, steps=28, sampler="euler_ancestral",
                         scheduler="normal", width=832, height=1216)


def facts(**changes) -> CharacterFacts:
    base = CharacterFacts(character_id=1, slug="mika", project_id=1, target=12, approved=3, pending=0,
                          paused=False, auto_reject_streak=0, last_batch_at=None, batches_today=0,
                          run_in_progress=False)
    return replace(base, **changes)


def decide(f, t=Thresholds(), spent=0.0, estimate=0.0, now=NOW):
    return evaluate(f, t, now, project_gpu_seconds_today=spent, estimated_batch_gpu_seconds=estimate)


def test_below_target_with_every_guard_open_requests_a_batch():
    d = decide(facts())
    assert d.action == "requested" and d.launches
    assert d.guards["missing"] == 9 and "batch of 3" in d.reason


@pytest.mark.parametrize("changes, code", [
    ({"approved": 12}, "target_reached"),
    ({"paused": True}, "paused"),
    ({"run_in_progress": True}, "run_in_progress"),
    ({"last_batch_at": NOW - timedelta(seconds=100)}, "cooldown"),
    ({"batches_today": 8}, "daily_limit"),
    ({"pending": 12}, "pending_buffer"),
    ({"is_partition": False}, "no_partition"),
])
def test_each_guard_blocks_and_releases(changes, code):
    blocked = decide(facts(**changes))
    assert (blocked.action, blocked.code) == ("skipped", code)
    released = {"approved": 11, "paused": False, "run_in_progress": False,
                "last_batch_at": NOW - timedelta(seconds=901), "batches_today": 7, "pending": 11,
                "is_partition": True}
    key = next(iter(changes))
    assert decide(facts(**{key: released[key]})).action == "requested"


def test_cooldown_says_when_the_character_is_next_eligible():
    d = decide(facts(last_batch_at=NOW - timedelta(seconds=300)))
    assert d.next_eligible_at == NOW + timedelta(seconds=600)
    assert "600 s left" in d.reason


def test_gpu_budget_counts_the_batch_about_to_be_requested():
    t = Thresholds(daily_gpu_seconds=100)
    assert decide(facts(), t, spent=90, estimate=5).action == "requested"
    blocked = decide(facts(), t, spent=90, estimate=20)
    assert blocked.code == "gpu_budget"
    assert blocked.next_eligible_at == datetime(2026, 12, 2, tzinfo=timezone.utc)


def test_five_consecutive_auto_rejects_pause_and_four_do_not():
    assert decide(facts(auto_reject_streak=4)).action == "requested"
    d = decide(facts(auto_reject_streak=5))
    assert d.action == "paused" and "5 consecutive auto-rejects" in d.reason
    assert decide(facts(auto_reject_streak=5), Thresholds(pause_after_auto_rejects=6)).action == "requested"


def test_an_unlaunched_request_is_reissued_with_its_run_key_until_it_expires():
    open_request = OpenRequest("autonomy-mika-7", NOW - timedelta(seconds=30))
    # The cooldown from that very request would otherwise block the re-issue.
    d = decide(facts(open_request=open_request, last_batch_at=NOW - timedelta(seconds=30)))
    assert (d.action, d.run_key) == ("reissued", "autonomy-mika-7")
    stale = OpenRequest("autonomy-mika-7", NOW - timedelta(seconds=601))
    assert decide(facts(open_request=stale)).action == "requested"


def test_autonomy_switched_off_skips_everything():
    assert decide(facts(), Thresholds(enabled=False)).code == "autonomy_off"


# --- learning ------------------------------------------------------------------------------------

def test_parameter_space_stays_within_the_style_bounds():
    space = parameter_space(STYLE, {"cfg": [5, 8], "steps": [20, 30], "samplers": ["dpmpp_2m"]})
    assert min(space.values("cfg")) == 5 and max(space.values("cfg")) == 8 and 6.5 in space.values("cfg")
    assert set(space.values("steps")) == {20, 25, 28, 30}
    assert space.values("sampler") == ("euler_ancestral", "dpmpp_2m")
    with pytest.raises(ValueError, match="learning_bounds.cfg"):
        parameter_space(STYLE, {"cfg": [9, 5]})


def test_with_no_history_the_style_is_the_favourite_but_others_are_explored():
    space = parameter_space(STYLE)
    choices = [choose(space, ArmStats(), random.Random(seed)).params for seed in range(200)]
    style_sampler = sum(p.sampler == STYLE.sampler for p in choices)
    assert 200 / len(space.values("sampler")) < style_sampler < 200  # favoured, not alone


def test_thompson_sampling_exploits_what_was_approved():
    space = parameter_space(STYLE)
    stats = ArmStats()
    good = STYLE.with_value("sampler", "dpmpp_2m").with_value("steps", 35)
    stats.add(good, approved=30, rejected=2)
    stats.add(STYLE, approved=2, rejected=30)
    picks = [choose(space, stats, random.Random(s)).params for s in range(50)]
    # Untried values (Beta(1, 1)) still win a draw now and then: that is the exploration.
    assert sum(p.sampler == "dpmpp_2m" for p in picks) >= 38
    assert sum(p.sampler == STYLE.sampler for p in picks) <= 1
    assert sum(p.steps == 35 for p in picks) >= 30


def test_the_same_seed_chooses_the_same_parameters():
    space = parameter_space(STYLE)
    assert choose(space, ArmStats(), random.Random(7)) == choose(space, ArmStats(), random.Random(7))


def test_pins_hold_and_learning_off_keeps_the_style():
    space = parameter_space(STYLE)
    pins = validate_pins(space, {"cfg": 7.5, "sampler": "euler_ancestral"})
    for seed in range(20):
        p = choose(space, ArmStats(), random.Random(seed), pins=pins).params
        assert p.cfg == 7.5 and p.sampler == "euler_ancestral"
    off = choose(space, ArmStats(), random.Random(1), pins={"steps": 30}, learning_enabled=False)
    assert off.params == STYLE.with_value("steps", 30) and off.mode == "learning off"
    with pytest.raises(ValueError, match="pins.cfg"):
        validate_pins(space, {"cfg": 20})
    with pytest.raises(ValueError, match="pins.colour"):
        validate_pins(space, {"colour": 1})


# --- corrections ---------------------------------------------------------------------------------

@pytest.mark.parametrize("reasons, strategy", [
    ({"blurry": 3}, c.RAISE_STEPS),
    ({"off_model_colours": 2}, c.RAISE_IPADAPTER_WEIGHT),
    ({"wrong_species": 1}, c.STRENGTHEN_NEGATIVES),
    ({"not_solo": 2}, c.STRENGTHEN_NEGATIVES),
    ({"style_drift": 1}, c.ADJUST_CFG),
    ({"extra_limbs": 1}, c.CHANGE_RESOLUTION),
    ({"other": 1}, c.NEW_SEED),
])
def test_correction_follows_the_rejection_reasons(reasons, strategy):
    correction = c.choose_correction(reasons, STYLE, parameter_space(STYLE))
    assert correction.strategy == strategy


def test_corrections_change_the_parameters_they_name():
    space = parameter_space(STYLE)
    assert c.choose_correction({"blurry": 1}, STYLE, space).params.steps == 30
    assert c.choose_correction({"off_model_colours": 1}, STYLE, space).params.ipadapter_weight == 0.8
    switched = c.choose_correction({"blurry": 1}, STYLE, space, pins={"steps": 28})
    assert switched.strategy == c.SWITCH_SAMPLER and switched.params.sampler != STYLE.sampler
    assert c.choose_correction({}, STYLE, space) is None


def test_a_strategy_that_did_not_help_gives_way_to_the_next():
    space = parameter_space(STYLE)
    effects = {c.RAISE_STEPS: (0, 20), c.SWITCH_SAMPLER: (10, 2)}
    assert c.choose_correction({"blurry": 2}, STYLE, space, effects=effects).strategy == c.SWITCH_SAMPLER


def test_learning_off_allows_only_prompt_and_seed_corrections():
    space = parameter_space(STYLE)
    assert c.choose_correction({"blurry": 3}, STYLE, space, learning_enabled=False).strategy == c.NEW_SEED
    assert c.choose_correction({"not_solo": 1}, STYLE, space, learning_enabled=False).strategy == \
        c.STRENGTHEN_NEGATIVES


def test_reasons_are_read_from_an_automatic_review():
    review = {"solo": True, "species_ok": None, "checklist": [
        {"item": "sharp", "passed": False}, {"item": "hair colour #1f2a5c", "passed": False},
        {"item": "well exposed", "passed": True}]}
    assert c.reasons_from_review(review) == ["blurry", "off_model_colours"]
    assert c.reasons_from_review({"solo": False, "species_ok": False}) == ["wrong_species", "not_solo"]
    assert c.reasons_from_review(None) == ["other"]


# --- drift ---------------------------------------------------------------------------------------

def test_drift_is_a_significant_fall_not_a_fixed_gap():
    assert detect_drift(3, 20, 80, 100).drifting  # 15 % vs 80 %
    # The same 10-point gap: significant with much data, not with little.
    assert not detect_drift(14, 20, 80, 100).drifting
    assert detect_drift(700, 1000, 8000, 10000).drifting
    assert not detect_drift(20, 20, 50, 100).drifting  # better is never drift
    few = detect_drift(0, 5, 80, 100)
    assert not few.drifting and "not enough" in few.reason


def test_drift_p_value_matches_the_normal_tail():
    # 25 % vs 50 %: pooled 70/160, se = sqrt(0.4375 * 0.5625 * (1/40 + 1/120)) = 0.09057, z = 0.25 / se
    result = detect_drift(10, 40, 60, 120)
    assert result.z == pytest.approx(2.7603, abs=1e-3)
    assert result.p_value == pytest.approx(0.002887, abs=2e-5)
    with pytest.raises(ValueError, match="recent"):
        detect_drift(5, 3, 1, 30)
