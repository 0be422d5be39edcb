-- Scene sound: a character's voice (engine settings and pitch; empty means derived from its slug,
-- studio/domain/voices.py) and a project's music bed, used by a scene that names none of its own.

ALTER TABLE characters ADD COLUMN voice jsonb NOT NULL DEFAULT '{}'::jsonb;
ALTER TABLE projects ADD COLUMN music text;
