-- Autonomy: per-project thresholds, per-character pause/learning state, the parameters each batch used.

-- One row per project; a project without a row uses the defaults of studio/domain/replenishment.py.
CREATE TABLE autonomy_settings (
    project_id               bigint PRIMARY KEY REFERENCES projects(id) ON DELETE CASCADE,
    enabled                  boolean NOT NULL DEFAULT true,
    batch_size               integer NOT NULL DEFAULT 3 CHECK (batch_size BETWEEN 1 AND 64),
    cooldown_seconds         integer NOT NULL DEFAULT 900 CHECK (cooldown_seconds >= 0),
    daily_batch_limit        integer NOT NULL DEFAULT 8 CHECK (daily_batch_limit >= 0),
    daily_gpu_seconds        real NOT NULL DEFAULT 7200 CHECK (daily_gpu_seconds >= 0),
    pending_buffer           integer NOT NULL DEFAULT 12 CHECK (pending_buffer >= 0),
    pause_after_auto_rejects integer NOT NULL DEFAULT 5 CHECK (pause_after_auto_rejects >= 1),
    learning_enabled         boolean NOT NULL DEFAULT true,
    drift_window             integer NOT NULL DEFAULT 20 CHECK (drift_window >= 5),
    drift_alpha              real NOT NULL DEFAULT 0.01 CHECK (drift_alpha > 0 AND drift_alpha < 1),
    request_ttl_seconds      integer NOT NULL DEFAULT 600 CHECK (request_ttl_seconds >= 0),
    updated_at               timestamptz NOT NULL DEFAULT now()
);

-- A character without a row is not paused, learns, and has no pins.
CREATE TABLE character_autonomy (
    character_id     bigint PRIMARY KEY REFERENCES characters(id) ON DELETE CASCADE,
    paused           boolean NOT NULL DEFAULT false,
    paused_reason    text,
    paused_at        timestamptz,
    resumed_at       timestamptz,
    resumed_by       text,
    -- Auto-rejects in a row count only images after this one: a resume starts the count afresh.
    streak_after_image_id bigint NOT NULL DEFAULT 0,
    learning_enabled boolean NOT NULL DEFAULT true,
    pins             jsonb NOT NULL DEFAULT '{}'::jsonb,
    drifting         boolean NOT NULL DEFAULT false,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Which values learning may try, per style: {"cfg": [lo, hi], "steps": [lo, hi], "samplers": [...],
-- "schedulers": [...], "checkpoints": [...], "resolutions": ["WxH", ...], "ipadapter_weight": [lo, hi]}.
ALTER TABLE generation_styles ADD COLUMN learning_bounds jsonb NOT NULL DEFAULT '{}'::jsonb;

-- The parameters a batch ran with, the learner's arm, the correction strategy and why.
ALTER TABLE generation_history ADD COLUMN parameters jsonb;
ALTER TABLE generation_history ADD COLUMN strategy text;
CREATE INDEX generation_history_run_idx ON generation_history (dagster_run_id);

-- The sensor reads the latest decision of each kind per character, and the log pages by id.
ALTER TABLE autonomy_decisions ADD COLUMN run_key text;
ALTER TABLE autonomy_decisions ADD COLUMN dagster_run_id text;
CREATE INDEX autonomy_decisions_latest_idx ON autonomy_decisions (character_id, kind, id);
CREATE INDEX autonomy_decisions_run_key_idx ON autonomy_decisions (run_key) WHERE run_key IS NOT NULL;

-- Latest reviewed images of a character in generation order (the auto-reject streak, the drift window).
CREATE INDEX images_character_id_idx ON images (character_id, id);
