-- Progress of a long step inside a Dagster run (a dataset batch, later shot rendering): done of total,
-- what it is doing now, the latest item's outcome. One row per run and step, overwritten as it moves;
-- the runs API reads it next to Dagster's own status and computes the ETA from the times.
CREATE TABLE run_progress (
    dagster_run_id text NOT NULL,
    step           text NOT NULL,
    done           integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    total          integer NOT NULL CHECK (total >= 0),
    counts         jsonb NOT NULL DEFAULT '{}'::jsonb,
    last_item      text NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dagster_run_id, step)
);
