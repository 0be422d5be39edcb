"""The code location of the daemon-restart fault test: the studio's assets and resources, the dead-run
sensor, and a sensor asking for three GPU runs under stable run keys (as the replenishment and training
sensors do) instead of the studio's own sensors, whose runs the test could not count.

Its jobs run their steps in the run process (in_process_executor): a step subprocess costs seconds to
start on a loaded machine, and it is the daemon, not the executor, that this test kills.
"""

import dagster as dg

from anime_assets import definitions as studio_location

BATCH = {"ops": {"dataset_images": {"config": {"count": 3}}}}
fault_batch_job = dg.define_asset_job("fault_batch_job", selection=["dataset_images"],
                                      executor_def=dg.in_process_executor)
fault_shots_job = dg.define_asset_job("fault_shots_job", selection=["shot_keyframes", "shot_clips"],
                                      executor_def=dg.in_process_executor)
# (run key, job, partition, run config)
WANTED = [("fault-batch-mika", fault_batch_job, "mika", BATCH),
          ("fault-batch-ember", fault_batch_job, "ember", BATCH),
          ("fault-shots-lamp-goes-out", fault_shots_job, "lamp-goes-out", {})]


@dg.sensor(jobs=[fault_batch_job, fault_shots_job], minimum_interval_seconds=2,
           default_status=dg.DefaultSensorStatus.RUNNING)
def fault_runs_sensor(context: dg.SensorEvaluationContext):
    """Every tick asks for the same runs: the run keys make the daemon launch each once."""
    for run_key, job, partition, config in WANTED:
        yield dg.RunRequest(run_key=run_key, job_name=job.name, partition_key=partition, run_config=config)


defs = dg.Definitions(assets=studio_location.defs.assets, jobs=[fault_batch_job, fault_shots_job],
                      resources=studio_location.defs.resources,
                      sensors=[studio_location.defs.resolve_sensor_def("dead_run_sensor"), fault_runs_sensor])
