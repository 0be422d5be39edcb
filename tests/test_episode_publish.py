"""Assembling the example episode from real scene files and publishing it into a Jellyfin tree."""

import datetime as dt
import os
import xml.etree.ElementTree as ET

import pytest

from studio.clients.jellyfin import JellyfinClient, PathMap
from studio.domain.subtitles import parse_srt
from studio.episodes import build
from studio.episodes.build import SceneSource, SceneVideoMissing
from studio.episodes.publish import NotAssembled, PublishOptions, publish
from studio.media.ffmetadata import read_ffmetadata
from studio.spec.importer import import_project
from studio.spec.validation import load_spec
from tests.conftest import EXAMPLE_SPEC
from tests.doubles.jellyfin import JellyfinDouble
from tests.episode_media import make_scene_clip

EPISODE = "lantern-harbor-e01"
SRT = "1\n00:00:00,200 --> 00:00:01,000\nThe lamp!\n"
SHOW = "Lantern Harbor (2026)"


async def import_example(db, home):
    await import_project(db, load_spec(EXAMPLE_SPEC), EXAMPLE_SPEC, home / "media")


@pytest.fixture
async def assembled(studio_env, db, tmp_path):
    await import_example(db, studio_env)
    await db.execute("UPDATE projects SET premiere_year = 2026")
    project = await db.fetchval("SELECT id FROM projects WHERE slug = 'lantern-harbor'")
    await db.execute("INSERT INTO scenes (project_id, slug, title) VALUES ($1, 'harbor-wall', 'On the Harbor Wall')",
                     project)
    await db.execute("""INSERT INTO episode_scenes (episode_id, scene_id, position, transition, transition_s)
                        SELECT e.id, s.id, 2, 'dissolve', 0.5 FROM episodes e, scenes s
                         WHERE e.slug = $1 AND s.slug = 'harbor-wall'""", EPISODE)
    media = studio_env / "media"
    sources = {
        "lamp-goes-out": SceneSource(make_scene_clip(tmp_path / "s1.mp4", duration_s=2.0, srt=SRT), "v1",
                                     tmp_path / "s1.srt"),
        "harbor-wall": SceneSource(make_scene_clip(tmp_path / "s2.mp4", duration_s=1.5, srt=SRT), "v7",
                                   tmp_path / "s2.srt"),
    }
    report = await build.assemble(db, media, EPISODE, sources, run_id="run-1")
    return media, report


def tree(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


async def test_assembly_records_order_subtitles_and_provenance(assembled, db):
    media, report = assembled
    assert report["duration_s"] == pytest.approx(3.0)  # 2 + 1.5 - 0.5
    assert [c["start_s"] for c in report["chapters"]] == [0.0, 1.5]
    cues = parse_srt((media / report["subtitles_path"]).read_text())
    assert [(c.start_s, c.end_s) for c in cues] == [(0.2, 1.0), (1.7, 2.5)]
    tags, chapters = read_ffmetadata(media / report["file_path"])
    assert tags["studio_data_versions"] == '{"lamp-goes-out": "v1", "harbor-wall": "v7"}'
    assert [t for _, _, t in chapters] == ["The Lamp Goes Out", "On the Harbor Wall"]
    row = await db.fetchrow("SELECT normalization_type, dagster_run_id FROM episode_renders")
    assert row["normalization_type"] in ("linear", "dynamic") and row["dagster_run_id"] == "run-1"


async def test_a_missing_scene_video_is_named(studio_env, db, tmp_path):
    await import_example(db, studio_env)
    with pytest.raises(SceneVideoMissing, match=r"scenes\[0\] \(lamp-goes-out\)"):
        await build.assemble(db, studio_env / "media", EPISODE, {})
    with pytest.raises(NotAssembled):
        await publish(db, studio_env / "media", EPISODE, PublishOptions(tmp_path / "lib"))


async def test_published_tree_announcement_idempotence_and_rename(assembled, db, tmp_path):
    media, report = assembled
    library = tmp_path / "library"
    options = PublishOptions(library, debounce_s=30)
    with JellyfinDouble(token="k3y") as jellyfin:
        client = JellyfinClient(jellyfin.url, "k3y")
        first = await publish(db, media, EPISODE, options, client)
        base = f"{SHOW}/Season 01/Lantern Harbor S01E01 - The Lamp Keeper's Apprentice"
        files = tree(library)
        assert sorted(files) == [f"{base}-thumb.jpg", f"{base}.en.srt", f"{base}.mp4", f"{base}.nfo",
                                 f"{SHOW}/tvshow.nfo"]
        assert first["link_mode"] == "hardlink"
        assert os.stat(library / f"{base}.mp4").st_ino == os.stat(media / report["file_path"]).st_ino
        nfo = ET.fromstring(files[f"{base}.nfo"])
        assert (nfo.tag, nfo.findtext("season"), nfo.findtext("episode"), nfo.findtext("lockdata")) == \
            ("episodedetails", "1", "1", "true")
        assert nfo.findtext("showtitle") == "Lantern Harbor" and nfo.findtext("thumb") == str(library / f"{base}-thumb.jpg")
        assert jellyfin.announcements == [[{"Path": str(library / f"{base}.mp4"), "UpdateType": "Created"}]]
        assert jellyfin.auth_headers == ['MediaBrowser Token="k3y"']

        again = await publish(db, media, EPISODE, options, client)
        assert not again["changed"] and tree(library) == files
        assert len(jellyfin.announcements) == 1  # unchanged, within the debounce

        await db.execute("UPDATE episodes SET title = 'Dark: the \"Lamp\"?' WHERE slug = $1", EPISODE)
        renamed = await publish(db, media, EPISODE, options, client)
        new_base = f"{SHOW}/Season 01/Lantern Harbor S01E01 - Dark the Lamp"
        assert sorted(tree(library)) == [f"{new_base}-thumb.jpg", f"{new_base}.en.srt", f"{new_base}.mp4",
                                         f"{new_base}.nfo", f"{SHOW}/tvshow.nfo"]
        assert len(renamed["removed"]) == 4
        assert jellyfin.announcements[-1] == [{"Path": str(library / f"{new_base}.mp4"), "UpdateType": "Created"},
                                              {"Path": str(library / f"{base}.mp4"), "UpdateType": "Deleted"}]

        await db.execute("UPDATE projects SET name = 'Harbor Lights'")
        await publish(db, media, EPISODE, options, client)
        assert sorted(p.name for p in library.iterdir()) == ["Harbor Lights (2026)"]  # the old show folder is gone
        assert len(jellyfin.announcements) == 3


async def test_without_jellyfin_files_are_written_and_other_link_modes(assembled, db, tmp_path):
    media, report = assembled
    copied = await publish(db, media, EPISODE, PublishOptions(tmp_path / "a", link="copy"))
    video = tmp_path / "a" / copied["video"]
    assert copied["announced"] is None and video.read_bytes() == (media / report["file_path"]).read_bytes()
    assert os.stat(video).st_ino != os.stat(media / report["file_path"]).st_ino
    linked = await publish(db, media, EPISODE, PublishOptions(tmp_path / "b", link="symlink"))
    link = tmp_path / "b" / linked["video"]
    assert link.is_symlink() and os.path.isabs(os.readlink(link))
    assert not (tmp_path / "a").exists() or not any((tmp_path / "a").rglob("*.mp4"))  # moved to the new root


async def test_an_unreachable_jellyfin_is_recorded_and_retried(assembled, db, tmp_path):
    media, _ = assembled
    with JellyfinDouble(token="k") as jellyfin:
        jellyfin.healthy = False
        client = JellyfinClient(jellyfin.url, "k", path_map=PathMap.parse(f"{tmp_path}=/media"))
        failed = await publish(db, media, EPISODE, PublishOptions(tmp_path / "lib"), client)
        assert "503" in failed["announce_error"] and (tmp_path / "lib" / failed["video"]).is_file()
        jellyfin.healthy = True
        later = dt.datetime.now(dt.timezone.utc)
        retried = await publish(db, media, EPISODE, PublishOptions(tmp_path / "lib"), client, now=later)
        assert retried["announce_error"] is None
        assert jellyfin.announcements[0][0]["Path"] == "/media/lib/" + retried["video"]
