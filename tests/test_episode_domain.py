"""Pure episode rules: Jellyfin names and layout, NFO documents, timeline offsets, chapters, the plan."""

import datetime as dt
import xml.etree.ElementTree as ET

import pytest

from studio.domain.episode_timeline import (TimelineClip, TimelineError, assemble_plan, chapters, start_offsets,
                                            total_duration)
from studio.domain.jellyfin_layout import EpisodeIdentity, episode_layout, safe_name
from studio.domain.jellyfin_nfo import EpisodeDetails, episode_nfo, tvshow_nfo
from studio.domain.subtitles import Cue, merge, parse_srt, shifted, to_srt


@pytest.mark.parametrize("title, expected", [
    ('AC/DC: "Live" <at> the *Harbor*?', "AC DC Live at the Harbor"),
    ("...", "fallback"),
    ("  .hidden name.  ", "hidden name"),
    ("Mr. Smith goes to Washington.", "Mr. Smith goes to Washington"),
    ("灯台の竜 — Ember's night", "灯台の竜 — Ember's night"),
    ("", "fallback"),
    ("tab\there\x00and\nnewline", "tab here and newline"),
    ("a\\b|c", "a b c"),
])
def test_safe_names(title, expected):
    assert safe_name(title, "fallback") == expected


def test_layout_follows_jellyfin_naming():
    layout = episode_layout(EpisodeIdentity("Lantern Harbor", 2026, 1, 3, "The Lamp: Goes Out?"))
    assert str(layout.video) == "Lantern Harbor (2026)/Season 01/Lantern Harbor S01E03 - The Lamp Goes Out.mp4"
    assert str(layout.nfo).endswith("S01E03 - The Lamp Goes Out.nfo")
    assert str(layout.thumb).endswith("S01E03 - The Lamp Goes Out-thumb.jpg")
    assert str(layout.subtitles).endswith("S01E03 - The Lamp Goes Out.en.srt")
    assert str(layout.tvshow_nfo) == "Lantern Harbor (2026)/tvshow.nfo"
    untitled = episode_layout(EpisodeIdentity("../..", 2026, 12, 1, "/"))
    assert str(untitled.video) == "Untitled Show (2026)/Season 12/Untitled Show S12E01.mp4"
    with pytest.raises(ValueError, match="start at 1"):
        episode_layout(EpisodeIdentity("Show", 2026, 0, 1, "x"))


def test_episode_nfo_fields():
    doc = episode_nfo(EpisodeDetails("The <Lamp> & Co", "Lantern Harbor", 1, 2, plot="Storm.",
                                     aired=dt.date(2026, 5, 1), runtime_s=95, thumb="/media/x-thumb.jpg"))
    root = ET.fromstring(doc)
    assert root.tag == "episodedetails"
    fields = {child.tag: child.text for child in root}
    assert fields == {"title": "The <Lamp> & Co", "showtitle": "Lantern Harbor", "season": "1", "episode": "2",
                      "plot": "Storm.", "aired": "2026-05-01", "runtime": "2", "thumb": "/media/x-thumb.jpg",
                      "lockdata": "true"}
    with pytest.raises(ValueError, match="absolute"):
        episode_nfo(EpisodeDetails("t", "s", 1, 1, thumb="x-thumb.jpg"))
    show = ET.fromstring(tvshow_nfo("Lantern Harbor", year=2026))
    assert (show.tag, show.findtext("year"), show.findtext("lockdata")) == ("tvshow", "2026", "true")


def clip(scene, d, transition="cut", t=0.0):
    return TimelineClip(scene, scene.title(), d, transition, t)


def test_offsets_and_duration_with_transitions():
    clips = [clip("a", 4.0), clip("b", 3.0, "fade", 1.0), clip("c", 5.0, "cut"), clip("d", 2.0, "wipe", 0.5)]
    # offset_k = (d_0 + ... + d_{k-1}) - overlaps so far
    assert start_offsets(clips) == [0.0, 3.0, 6.0, 10.5]
    assert total_duration(clips) == 12.5
    assert [(c.title, c.start_s, c.end_s) for c in chapters(clips)] == [
        ("A", 0.0, 3.0), ("B", 3.0, 6.0), ("C", 6.0, 10.5), ("D", 10.5, 12.5)]
    same_t = [clip("a", 4.0), clip("b", 4.0, "dissolve", 1.0), clip("c", 4.0, "dissolve", 1.0)]
    assert start_offsets(same_t) == [0.0, 3.0, 6.0]  # (sum d) - k*T


@pytest.mark.parametrize("clips, field", [
    ([], "scenes"),
    ([clip("a", 1.0), clip("b", 1.0, "fade", 1.0)], "transition_s"),
    ([clip("a", 2.0), clip("b", 2.0, "spin", 0.5)], "transition"),
    ([clip("a", 2.0), clip("b", 2.0, "fade", 0.0)], "transition_s"),
    ([clip("a", 0.0)], "duration"),
])
def test_bad_timelines_name_the_field(clips, field):
    with pytest.raises(TimelineError, match=field):
        total_duration(clips)


def test_plan_copies_identical_cuts_and_normalises_the_odd_clip():
    clips = [clip("a", 2), clip("b", 2), clip("c", 2), clip("d", 2, "fade", 0.5), clip("e", 2)]
    same = assemble_plan(clips[:3], ["p", "p", "p"])
    assert same.copy_only and same.copied_joins() == [1, 2]
    mixed = assemble_plan(clips, ["p", "q", "p", "p", "p"])
    assert not mixed.copy_only and mixed.target == "p"
    assert [(g.indexes, g.normalise, g.transition_in) for g in mixed.groups] == [
        ((0, 1, 2), (1,), "cut"), ((3, 4), (), "fade")]
    assert mixed.copied_joins() == [4]
    unreadable = assemble_plan(clips[:2], ["p", None])
    assert unreadable.groups[0].normalise == (1,)


def test_scene_subtitles_shift_into_the_episode():
    scene = parse_srt("1\n00:00:00,500 --> 00:00:01,500\nHello\n\n2\n00:00:02,000 --> 00:00:04,000\nBye\n")
    merged = merge([shifted(scene, 0.0, until_s=3.0), shifted(scene, 3.0)])
    assert [(c.start_s, c.end_s, c.text) for c in merged] == [
        (0.5, 1.5, "Hello"), (2.0, 3.0, "Bye"), (3.5, 4.5, "Hello"), (5.0, 7.0, "Bye")]
    assert parse_srt(to_srt(merged)) == merged
    assert Cue(1, 2, "x") == Cue(1.0, 2.0, "x")
