-- LoRA training: what each checkpoint was trained on and how it did, and which one a character uses.
ALTER TABLE lora_checkpoints
    ADD COLUMN lora_name      text,                               -- as ComfyUI's LoraLoader names it
    ADD COLUMN architecture   text CHECK (architecture IN ('sd15', 'sdxl')),
    ADD COLUMN rank           integer CHECK (rank >= 1),
    ADD COLUMN network_alpha  real,
    ADD COLUMN epochs         integer,
    ADD COLUMN image_ids      jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN loss_curve     jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [[step, avr_loss], ...]
    ADD COLUMN epoch_losses   jsonb NOT NULL DEFAULT '[]'::jsonb,
    ADD COLUMN file_bytes     bigint,
    ADD COLUMN gpu_seconds    real,
    ADD COLUMN sample_images  jsonb NOT NULL DEFAULT '[]'::jsonb,  -- [{path, seed, prompt, score}, ...]
    ADD COLUMN quality_score  real,                               -- mean sample score; null when unreviewed
    ADD COLUMN is_active      boolean NOT NULL DEFAULT false,
    ADD COLUMN gate_reason    text NOT NULL DEFAULT '';

-- At most one active LoRA per character: choosing another is one transaction flipping two rows.
CREATE UNIQUE INDEX lora_checkpoints_one_active_idx ON lora_checkpoints (character_id) WHERE is_active;
CREATE INDEX lora_checkpoints_character_idx ON lora_checkpoints (character_id, version);

-- A style may name its base architecture; null means it is read from the checkpoint's name.
ALTER TABLE generation_styles
    ADD COLUMN base_architecture text CHECK (base_architecture IN ('sd15', 'sdxl'));
