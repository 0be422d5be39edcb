-- The studio database: the system of record for projects, story, datasets and decisions.
-- Slugs of characters, scenes and episodes are Dagster partition keys, so they are unique across projects.

CREATE TABLE projects (
    id          bigserial PRIMARY KEY,
    slug        text NOT NULL UNIQUE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE generation_styles (
    id                bigserial PRIMARY KEY,
    project_id        bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug              text NOT NULL,
    checkpoint        text NOT NULL,
    lora_name         text,
    lora_strength     real NOT NULL DEFAULT 1.0,
    cfg               real NOT NULL DEFAULT 7.0,
    steps             integer NOT NULL DEFAULT 25 CHECK (steps > 0),
    sampler           text NOT NULL DEFAULT 'euler',
    scheduler         text NOT NULL DEFAULT 'normal',
    width             integer NOT NULL DEFAULT 768 CHECK (width > 0),
    height            integer NOT NULL DEFAULT 768 CHECK (height > 0),
    positive_template text NOT NULL DEFAULT '{prompt}',
    negative_template text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, slug)
);

CREATE TABLE characters (
    id               bigserial PRIMARY KEY,
    project_id       bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug             text NOT NULL UNIQUE,
    name             text NOT NULL,
    design_prompt    text NOT NULL,
    appearance_data  jsonb NOT NULL DEFAULT '{}'::jsonb,
    style_id         bigint REFERENCES generation_styles(id) ON DELETE SET NULL,
    target_images    integer NOT NULL DEFAULT 20 CHECK (target_images >= 0),
    reference_images jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX characters_project_idx ON characters (project_id);

CREATE TABLE storylines (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,
    title      text NOT NULL,
    logline    text NOT NULL DEFAULT '',
    summary    text NOT NULL DEFAULT '',
    themes     jsonb NOT NULL DEFAULT '[]'::jsonb,
    tone       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE world_settings (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL UNIQUE REFERENCES projects(id) ON DELETE CASCADE,
    name        text NOT NULL,
    era         text NOT NULL DEFAULT '',
    description text NOT NULL DEFAULT '',
    locations   jsonb NOT NULL DEFAULT '[]'::jsonb,
    rules       jsonb NOT NULL DEFAULT '[]'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE scenes (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug        text NOT NULL UNIQUE,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    location    text NOT NULL DEFAULT '',
    time_of_day text NOT NULL DEFAULT '',
    mood        text NOT NULL DEFAULT '',
    music       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scenes_project_idx ON scenes (project_id);

-- Per-shot render state lives here too (status, paths, seed, input hash, GPU seconds): shot_clips is
-- partitioned by scene, so the shot row is where a single shot's history is kept.
CREATE TABLE shots (
    id              bigserial PRIMARY KEY,
    scene_id        bigint NOT NULL REFERENCES scenes(id) ON DELETE CASCADE,
    position        integer NOT NULL CHECK (position >= 1),
    description     text NOT NULL,
    camera          text NOT NULL DEFAULT '',
    duration_s      real NOT NULL DEFAULT 3.0 CHECK (duration_s > 0),
    characters      jsonb NOT NULL DEFAULT '[]'::jsonb,
    dialogue        jsonb NOT NULL DEFAULT '[]'::jsonb,
    status          text NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'rendering', 'rendered', 'failed')),
    clip_path       text,
    last_frame_path text,
    seed            bigint,
    input_hash      text,
    gpu_seconds     real,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (scene_id, position)
);

CREATE TABLE episodes (
    id         bigserial PRIMARY KEY,
    project_id bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    slug       text NOT NULL UNIQUE,
    number     integer NOT NULL CHECK (number >= 1),
    season     integer NOT NULL DEFAULT 1 CHECK (season >= 1),
    title      text NOT NULL,
    synopsis   text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (project_id, season, number)
);

CREATE TABLE episode_scenes (
    episode_id   bigint NOT NULL REFERENCES episodes(id) ON DELETE CASCADE,
    scene_id     bigint NOT NULL REFERENCES scenes(id) ON DELETE RESTRICT,
    position     integer NOT NULL CHECK (position >= 1),
    transition   text NOT NULL DEFAULT 'cut' CHECK (transition IN ('cut', 'fade', 'dissolve', 'wipe')),
    transition_s real NOT NULL DEFAULT 0 CHECK (transition_s >= 0),
    PRIMARY KEY (episode_id, position),
    UNIQUE (episode_id, scene_id)
);

CREATE TABLE images (
    id               bigserial PRIMARY KEY,
    character_id     bigint NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    file_path        text NOT NULL UNIQUE,
    sha256           text NOT NULL UNIQUE,
    phash            bigint NOT NULL,
    width            integer,
    height           integer,
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    quality_score    real CHECK (quality_score BETWEEN 0 AND 1),
    review           jsonb,
    decided_by       text CHECK (decided_by IN ('auto', 'human')),
    reviewer         text,
    prompt           text,
    negative_prompt  text,
    seed             bigint,
    checkpoint       text,
    lora             text,
    workflow_hash    text,
    comfy_prompt_id  text,
    gpu_seconds      real,
    backend          text NOT NULL DEFAULT 'preview',
    source           text NOT NULL DEFAULT 'generated' CHECK (source IN ('generated', 'uploaded')),
    dagster_run_id   text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    reviewed_at      timestamptz
);
-- The review queue pages by (character, status, id); counts per character and status feed the sensors.
CREATE INDEX images_character_status_idx ON images (character_id, status, id);
CREATE INDEX images_status_id_idx ON images (status, id);
CREATE INDEX images_status_score_idx ON images (status, quality_score);

CREATE TABLE review_feedback (
    id           bigserial PRIMARY KEY,
    image_id     bigint NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    character_id bigint NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    decision     text NOT NULL CHECK (decision IN ('approved', 'rejected')),
    categories   text[] NOT NULL DEFAULT '{}',
    comment      text NOT NULL DEFAULT '',
    reviewer     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX review_feedback_character_idx ON review_feedback (character_id, created_at);

CREATE TABLE generation_history (
    id             bigserial PRIMARY KEY,
    character_id   bigint NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    dagster_run_id text,
    status         text NOT NULL DEFAULT 'started' CHECK (status IN ('started', 'succeeded', 'failed')),
    requested      integer NOT NULL CHECK (requested >= 0),
    generated      integer NOT NULL DEFAULT 0,
    duplicates     integer NOT NULL DEFAULT 0,
    approved       integer NOT NULL DEFAULT 0,
    rejected       integer NOT NULL DEFAULT 0,
    pending        integer NOT NULL DEFAULT 0,
    gpu_seconds    real NOT NULL DEFAULT 0,
    backend        text NOT NULL,
    error          text,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz
);
CREATE INDEX generation_history_character_idx ON generation_history (character_id, started_at);

CREATE TABLE autonomy_decisions (
    id           bigserial PRIMARY KEY,
    character_id bigint REFERENCES characters(id) ON DELETE CASCADE,
    kind         text NOT NULL,
    action       text NOT NULL,
    reason       text NOT NULL,
    details      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX autonomy_decisions_character_idx ON autonomy_decisions (character_id, created_at);

CREATE TABLE lora_checkpoints (
    id             bigserial PRIMARY KEY,
    character_id   bigint NOT NULL REFERENCES characters(id) ON DELETE CASCADE,
    version        integer NOT NULL CHECK (version >= 1),
    file_path      text NOT NULL UNIQUE,
    sha256         text NOT NULL,
    base_model     text NOT NULL,
    image_count    integer NOT NULL,
    dataset_hash   text NOT NULL,
    steps          integer,
    backend        text NOT NULL,
    dagster_run_id text,
    created_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (character_id, version)
);

-- Review decisions and other changes the sensors react to; a cursor over id makes them a queue.
CREATE TABLE studio_events (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    character_id bigint REFERENCES characters(id) ON DELETE CASCADE,
    image_id     bigint REFERENCES images(id) ON DELETE SET NULL,
    payload      jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX studio_events_kind_idx ON studio_events (kind, id);
