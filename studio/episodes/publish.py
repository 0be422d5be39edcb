"""Publishing an assembled episode into the Jellyfin library tree, and telling Jellyfin about it.

Layout and names come from studio/domain/jellyfin_layout.py. The video and thumbnail are hard links
to the media files when the library is on the same filesystem, else copies; an absolute symlink only
when configured (Jellyfin resolves links to real paths, does not serve relative ones, and a broken
one aborts a scan). Every file is put in place under a temporary name and renamed. The publication
row lists this episode's files, so a re-publish after a rename removes the old ones and any folder
left empty: nothing stays behind. Publishing what is already there changes nothing.

Jellyfin is told with one `POST /Library/Media/Updated` per publish that changed files (Created for
the new video, Deleted for one that moved away). An unchanged re-publish is announced again only
after `debounce_s`. Without a Jellyfin URL the files are still written; an unreachable Jellyfin is
recorded in the publication, not raised.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from studio.clients.jellyfin import JellyfinClient, JellyfinError, MediaUpdate
from studio.domain.jellyfin_layout import episode_layout
from studio.domain.jellyfin_nfo import EpisodeDetails, episode_nfo, tvshow_nfo
from studio.episodes import repository
from studio.uploads import write_atomically


class NotAssembled(LookupError):
    pass


@dataclass(frozen=True)
class PublishOptions:
    library_root: Path
    link: str = "auto"  # auto | copy | symlink
    debounce_s: float = 30.0


def _same_file(source: Path, target: Path, mode: str) -> bool:
    if not target.exists() and not target.is_symlink():
        return False
    if mode == "symlink":
        return target.is_symlink() and os.readlink(target) == str(source)
    if target.is_symlink():
        return False
    a, b = source.stat(), target.stat()
    if (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino):
        return True
    return a.st_size == b.st_size and _bytes_equal(source, target)


def _bytes_equal(a: Path, b: Path) -> bool:
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 20), fb.read(1 << 20)
            if x != y:
                return False
            if not x:
                return True


def _place(source: Path, target: Path, mode: str) -> tuple[bool, str]:
    """Put `source` at `target`; (changed, how)."""
    source = source.resolve()
    how = "symlink" if mode == "symlink" else "hardlink"
    if mode != "symlink" and (mode == "copy" or source.stat().st_dev != _device_of(target.parent)):
        how = "copy"
    if _same_file(source, target, how if how == "symlink" else "file"):
        return False, how
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        if how == "symlink":
            os.symlink(source, tmp)
        elif how == "hardlink":
            try:
                os.link(source, tmp)
            except OSError as error:  # a bind mount or a filesystem without links: copy instead
                if error.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                shutil.copyfile(source, tmp)
                how = "copy"
        else:
            shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.is_symlink() or tmp.exists():
            tmp.unlink()
    return True, how


def _device_of(folder: Path) -> int:
    while not folder.exists():
        folder = folder.parent
    return folder.stat().st_dev


def _write_if_changed(target: Path, data: bytes) -> bool:
    if target.is_file() and target.read_bytes() == data:
        return False
    write_atomically(target, data)
    return True


def _remove_empty_dirs(start: Path, root: Path) -> None:
    folder = start
    while folder != root and root in folder.parents:
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


async def publish(conn: asyncpg.Connection, media_root: Path, slug: str, options: PublishOptions,
                  client: JellyfinClient | None = None, *, now: dt.datetime | None = None) -> dict:
    now = now or dt.datetime.now(dt.timezone.utc)
    episode = await repository.load_episode(conn, slug)
    render = await repository.load_render(conn, slug)
    if render is None:
        raise NotAssembled(f"episode {slug!r} is not assembled yet")
    root = options.library_root
    layout = episode_layout(episode.identity)
    previous = await repository.load_publication(conn, episode.id)

    changed = _write_if_changed(root / layout.tvshow_nfo, tvshow_nfo(episode.show, year=episode.year))
    video_changed, how = _place(media_root / render["file_path"], root / layout.video, options.link)
    files = [layout.video]
    thumb_changed = False
    if render["thumbnail_path"]:
        thumb_changed, _ = _place(media_root / render["thumbnail_path"], root / layout.thumb, options.link)
        files.append(layout.thumb)
    srt_changed = False
    if render["subtitles_path"]:
        srt_changed = _write_if_changed(root / layout.subtitles, (media_root / render["subtitles_path"]).read_bytes())
        files.append(layout.subtitles)
    thumb_abs = str(root / layout.thumb)
    if client is not None and client.path_map.ours:
        thumb_abs = client.path_map.to_jellyfin(thumb_abs)
    details = EpisodeDetails(episode.title, episode.show, episode.season, episode.number, plot=episode.synopsis,
                             aired=episode.aired, runtime_s=render["duration_s"],
                             thumb=thumb_abs if render["thumbnail_path"] else None)
    nfo_changed = _write_if_changed(root / layout.nfo, episode_nfo(details))
    files.append(layout.nfo)
    wanted = {str(f) for f in files}

    removed: list[str] = []
    moved_from: str | None = None
    if previous is not None:
        old_root = Path(previous["library_root"])
        for relative in previous["files"]:
            if old_root == root and relative in wanted:
                continue
            old = old_root / relative
            if old.is_file() or old.is_symlink():
                old.unlink()
                removed.append(relative)
        if previous["video_path"] != str(layout.video) or old_root != root:
            moved_from = str(old_root / previous["video_path"])
        old_show = old_root / Path(previous["video_path"]).parent.parent
        _remove_empty_dirs(old_root / Path(previous["video_path"]).parent, old_root)
        leftover = sorted(p.name for p in old_show.iterdir()) if old_show.is_dir() else []
        if old_show != root / layout.show_dir and leftover == ["tvshow.nfo"]:
            (old_show / "tvshow.nfo").unlink()
            _remove_empty_dirs(old_show, old_root)
    changed = changed or video_changed or thumb_changed or srt_changed or nfo_changed or bool(removed)

    announced, announce_error = None, None
    announced_at = previous["announced_at"] if previous else None
    recently = announced_at is not None and (now - announced_at).total_seconds() < options.debounce_s
    retry = previous is not None and previous["announce_error"] is not None
    if client is not None and client.configured and (changed or retry or not recently):
        updates = [MediaUpdate(str(root / layout.video), "Modified" if previous and not moved_from else "Created")]
        if moved_from:
            updates.append(MediaUpdate(moved_from, "Deleted"))
        try:
            announced = await client.announce(updates)
            announced_at = now
        except (JellyfinError, ValueError) as error:
            announce_error = str(error)
    await repository.save_publication(conn, episode.id, {
        "library_root": str(root), "files": sorted(wanted), "video_path": str(layout.video), "link_mode": how,
        "render_sha256": render["sha256"], "announced_at": announced_at, "announce_error": announce_error})
    return {"episode": slug, "library_root": str(root), "video": str(layout.video), "files": sorted(wanted),
            "link_mode": how, "changed": changed, "removed": removed, "announced": announced,
            "announce_error": announce_error}
