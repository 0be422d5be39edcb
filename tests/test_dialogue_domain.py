"""Pure rules of scene sound: dialogue placement, subtitles, voices and the line-audio cache key."""

import pytest

from studio.domain.dialogue_subtitles import dialogue_cues
from studio.domain.dialogue_timing import (
    LineToPlace,
    TimingRules,
    place_dialogue,
    worst_offset_ms,
)
from studio.domain.subtitles import parse_srt, to_srt, to_webvtt
from studio.domain.voices import Voice, line_audio_key, voice_for

RULES = TimingRules(lead_in_s=0.25, gap_s=0.3, tail_s=0.25, fps=24)


def line(shot, index, duration, speaker="mina", text="hello", offset=None):
    return LineToPlace(shot, index, speaker, text, duration, offset)


def test_lines_start_at_their_shot_plus_offset_in_order_without_overlap():
    plan = place_dialogue([3.0, 4.0, 2.0], [line(1, 1, 1.0), line(0, 0, 1.5), line(1, 0, 1.2),
                                            line(2, 0, 0.8, offset=0.5)], RULES)
    starts = [(p.shot, p.index, p.start_s) for p in plan.placements]
    assert starts == [(0, 0, 0.25), (1, 0, 3.25), (1, 1, 4.75), (2, 0, 7.5)]
    ends = [p.end_s for p in plan.placements]
    assert all(e + RULES.gap_s <= s + 1e-9 for e, s in zip(ends, [p.start_s for p in plan.placements][1:]))
    assert plan.problems == () and plan.duration_s == 9.0


def test_a_line_never_starts_before_the_previous_one_ended():
    # shot 0's line ends at 2.85, inside the tail of the 3 s shot; shot 1's line waits for the gap.
    plan = place_dialogue([3.0, 3.0], [line(0, 0, 2.5), line(1, 0, 1.0, offset=0.0)],
                          TimingRules(tail_s=0.0, lead_in_s=0.35, gap_s=0.3))
    assert plan.placements[1].start_s == pytest.approx(3.15)


def test_a_line_longer_than_its_shot_is_reported_and_the_shot_lengthened_to_whole_frames():
    plan = place_dialogue([2.0, 3.0], [line(0, 0, 2.6), line(1, 0, 1.0)], RULES)
    (problem,) = plan.problems
    assert problem.shot == 0 and problem.action == "lengthened"
    needed = 0.25 + 2.6 + 0.25
    assert problem.needed_s >= needed and round(problem.needed_s * 24, 6) == round(problem.needed_s * 24)
    assert plan.shot_durations_s[0] == problem.needed_s and plan.held_s[0] == pytest.approx(problem.needed_s - 2.0)
    assert "shot 1" in problem.message and "lengthened" in problem.message
    # nothing is cut: every line keeps its full length
    assert [p.duration_s for p in plan.placements] == [2.6, 1.0]
    assert plan.placements[1].start_s == pytest.approx(problem.needed_s + 0.25)


def test_without_lengthening_a_long_line_runs_into_the_next_shot_but_the_last_shot_still_grows():
    rules = TimingRules(lengthen_shots=False, fps=24)
    plan = place_dialogue([2.0, 2.0], [line(0, 0, 2.6), line(1, 0, 1.9)], rules)
    assert [p.action for p in plan.problems] == ["runs into next shot", "lengthened"]
    assert plan.shot_durations_s[0] == 2.0
    assert plan.placements[1].start_s == pytest.approx(0.25 + 2.6 + 0.3)
    assert plan.duration_s >= plan.placements[1].end_s + rules.tail_s


def test_bad_lines_are_refused_with_their_place():
    with pytest.raises(ValueError, match="shot 3"):
        place_dialogue([1.0], [line(2, 0, 1.0)])
    with pytest.raises(ValueError, match="no length"):
        place_dialogue([1.0], [line(0, 0, 0.0)])


def test_worst_offset():
    assert worst_offset_ms([1.0, 2.0], [1.01, 1.97]) == pytest.approx(30.0)
    with pytest.raises(ValueError):
        worst_offset_ms([1.0], [])


def test_srt_and_webvtt_carry_the_placements():
    plan = place_dialogue([3.0, 62.0], [line(0, 0, 1.234, "mina", "Hi.\n\nThere"),
                                        line(1, 0, 2.0, "taro", "A b c", offset=59.5)], RULES)
    text = to_srt(dialogue_cues(plan.placements))
    assert text.startswith("1\n00:00:00,250 --> 00:00:01,484\nHi.\nThere\n")
    assert "00:01:02,500 --> 00:01:04,500" in text
    cues = parse_srt(text)
    assert [(c.start_s, c.end_s) for c in cues] == [(p.start_s, p.end_s) for p in plan.placements]
    named = to_srt(dialogue_cues(plan.placements, {"mina": "Mina"}))
    assert "Mina: Hi." in named and "taro: A b c" in named
    vtt = to_webvtt(dialogue_cues(plan.placements, {"mina": "Mina", "taro": "Taro"}))
    assert vtt.startswith("WEBVTT\n") and "00:00:00.250 --> 00:00:01.484" in vtt and "Taro: A b c" in vtt


def test_voices_differ_per_character_and_the_spec_wins():
    derived = {voice_for(slug, None) for slug in ("mina", "taro", "kenji", "old-sailor", "cat")}
    assert len(derived) > 1
    assert voice_for("mina", None) == voice_for("mina", {})
    assert voice_for("mina", {"pitch_semitones": -2.0}).pitch_semitones == -2.0
    with pytest.raises(ValueError, match="pitch"):
        voice_for("mina", {"pitchh": 1})


def test_line_audio_key_changes_with_voice_text_and_engine_only():
    v = Voice(pitch_semitones=1.5)
    key = line_audio_key("piper", v, "Hello there.")
    assert key == line_audio_key("piper", Voice(pitch_semitones=1.5), "Hello   there. ")
    assert key != line_audio_key("piper", v, "Hello there!")
    assert key != line_audio_key("piper", Voice(pitch_semitones=2.0), "Hello there.")
    assert key != line_audio_key("live", v, "Hello there.")
