-- The caption the vision model wrote for an approved image when it went into a training dataset (live
-- backend). Kept, so the dataset snapshot and its hash stay the same until the images change: the
-- training sensor reads these instead of asking the model again. An image without a row is captioned
-- from its character's appearance data and its review.
CREATE TABLE training_captions (
    image_id   bigint PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    caption    text NOT NULL CHECK (caption <> ''),
    model      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
