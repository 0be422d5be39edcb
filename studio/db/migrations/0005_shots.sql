-- Shots become renderable: a stable key, what the renderer needs, and per-shot render state.
-- status 'rendering' is the shot in flight; a render of the scene starts by setting any it finds
-- back to 'planned' (it holds the scene's advisory lock, so no other render is running it).

ALTER TABLE shots
    ADD COLUMN shot_key           text,
    ADD COLUMN shot_type          text NOT NULL DEFAULT 'medium',
    ADD COLUMN motion_prompt      text NOT NULL DEFAULT '',
    ADD COLUMN first_frame        text NOT NULL DEFAULT '',
    ADD COLUMN cut                boolean NOT NULL DEFAULT false,
    ADD COLUMN keyframe_image_id  bigint REFERENCES images(id) ON DELETE SET NULL,
    ADD COLUMN keyframe_path      text,
    ADD COLUMN keyframe_sha256    text,
    ADD COLUMN start_frame_path   text,
    ADD COLUMN start_frame_sha256 text,
    ADD COLUMN last_frame_sha256  text,
    ADD COLUMN rendered_duration_s real,
    ADD COLUMN render_backend     text,
    ADD COLUMN comfy_prompt_id    text,
    ADD COLUMN render_error       text,
    ADD COLUMN rendered_at        timestamptz;

UPDATE shots SET shot_key = 'shot-' || substr(md5(random()::text || id::text), 1, 10);
ALTER TABLE shots ALTER COLUMN shot_key SET DEFAULT 'shot-' || substr(md5(random()::text || clock_timestamp()::text), 1, 10);
ALTER TABLE shots ALTER COLUMN shot_key SET NOT NULL;
ALTER TABLE shots ADD CONSTRAINT shots_scene_key_unique UNIQUE (scene_id, shot_key);

ALTER TABLE scenes
    ADD COLUMN weather           text NOT NULL DEFAULT '',
    ADD COLUMN target_duration_s real CHECK (target_duration_s > 0);

-- A planner's proposal waits here for a person; accepting it writes its scenes and shots at once.
CREATE TABLE scene_proposals (
    id          bigserial PRIMARY KEY,
    project_id  bigint NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
    breakdown   jsonb NOT NULL,
    backend     text NOT NULL,
    attempts    integer NOT NULL DEFAULT 1,
    status      text NOT NULL DEFAULT 'proposed' CHECK (status IN ('proposed', 'accepted')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX scene_proposals_project_idx ON scene_proposals (project_id, id);
