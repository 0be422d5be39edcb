-- Episodes become files: the assembled video (one row per episode, replaced on re-assembly) and where
-- it is published in the Jellyfin library. The publication's file list is what a rename or a
-- re-publish removes, so nothing is left behind in the library.

ALTER TABLE projects ADD COLUMN premiere_year integer CHECK (premiere_year BETWEEN 1900 AND 2999);
ALTER TABLE episodes ADD COLUMN aired date;

CREATE TABLE episode_renders (
    episode_id         bigint PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    file_path          text NOT NULL,              -- relative to the media root
    thumbnail_path     text,
    subtitles_path     text,
    sha256             text NOT NULL,
    duration_s         real NOT NULL CHECK (duration_s > 0),
    integrated_lufs    real,
    true_peak_dbtp     real,
    normalization_type text NOT NULL,
    copy_only          boolean NOT NULL,
    scenes             jsonb NOT NULL,             -- [{scene, title, data_version, start_s, duration_s}]
    gpu_seconds        real NOT NULL DEFAULT 0,
    dagster_run_id     text,
    assembled_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE episode_publications (
    episode_id     bigint PRIMARY KEY REFERENCES episodes(id) ON DELETE CASCADE,
    library_root   text NOT NULL,
    files          jsonb NOT NULL,                 -- paths relative to library_root, this episode's only
    video_path     text NOT NULL,                  -- relative to library_root
    link_mode      text NOT NULL CHECK (link_mode IN ('hardlink', 'copy', 'symlink')),
    render_sha256  text NOT NULL,
    announced_at   timestamptz,
    announce_error text,
    published_at   timestamptz NOT NULL DEFAULT now()
);
