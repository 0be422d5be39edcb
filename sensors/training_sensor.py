"""Request a LoRA training when a character's dataset reached its target and changed since its last
checkpoint; one training at a time (the GPU pool holds the step, this keeps the queue short too)."""

import dagster as dg

from jobs.training_jobs import training_job
from resources.database import StudioDatabase
from studio.training.dataset import trainings_due

IN_PROGRESS = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
               dg.DagsterRunStatus.STARTED]


@dg.sensor(job=training_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def training_sensor(context: dg.SensorEvaluationContext, database: StudioDatabase):
    running = context.instance.get_run_records(
        dg.RunsFilter(job_name=training_job.name, statuses=IN_PROGRESS), limit=1)
    if running:
        return dg.SkipReason(f"training run {running[0].dagster_run.run_id} is still in progress")
    due = database.run_sync(trainings_due)
    known = set(context.instance.get_dynamic_partitions("character"))
    due = [(slug, digest) for slug, digest in due if slug in known]
    if not due:
        return dg.SkipReason("no character has a new dataset snapshot at its target")
    slug, digest = due[0]
    context.log.info("training %s on snapshot %s (%d more waiting)", slug, digest[:16], len(due) - 1)
    # The run key names the snapshot: the same dataset is never trained twice by this sensor.
    return dg.RunRequest(run_key=f"lora:{slug}:{digest}", partition_key=slug,
                         tags={"studio/dataset_hash": digest})
