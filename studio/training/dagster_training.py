"""Starting, following and cancelling training runs over Dagster's GraphQL API (no Dagster import here).

A training is `training_job` for one character partition (the dataset snapshot, then the LoRA), so
the run is launched by job name in the code location that defines `lora_checkpoints`.
"""

from __future__ import annotations

from studio.dagster_runs import FINISHED_STATUSES, DagsterRuns, DagsterRunsError, RunNotFound, UnknownPartition

TRAINING_JOB = "training_job"
TRAINED_ASSET = "lora_checkpoints"

TERMINATE_MUTATION = """
mutation StudioTerminateRun($runId: String!) {
  terminateRun(runId: $runId) {
    __typename
    ... on TerminateRunSuccess { run { runId status } }
    ... on RunNotFoundError { message }
    ... on Error { message }
  }
}
"""


class TrainingRuns(DagsterRuns):
    async def launch_training(self, slug: str) -> str:
        node = await self._asset(TRAINED_ASSET)
        if slug not in node["partitionKeys"]:
            raise UnknownPartition(f"character {slug!r} is not a partition of {TRAINED_ASSET} yet")
        return await self.launch_job_run(TRAINING_JOB, slug, {}, origin="api")

    async def training_run(self, run_id: str) -> dict:
        """The run's status and steps; RunNotFound when it is not a training run."""
        run = await self.run_status(run_id)
        if run["job"] != TRAINING_JOB:
            raise RunNotFound(f"run {run_id!r} is a {run['job']} run, not a training run")
        return run

    async def training_runs(self, slug: str, limit: int = 20) -> list[dict]:
        return await self.list_runs(job=TRAINING_JOB, partition=slug, limit=limit)

    async def cancel(self, run_id: str) -> str:
        """Ask Dagster to terminate a training run: the step process is interrupted and our launcher
        ends the trainer's process group. A queued run is cancelled at once; a started one is CANCELING."""
        result = (await self._query(TERMINATE_MUTATION, {"runId": run_id}))["terminateRun"]
        if result["__typename"] == "TerminateRunSuccess":
            # The run in the answer was read before Dagster marked it: accepted means CANCELING.
            status = result["run"]["status"]
            return status if status in FINISHED_STATUSES else "CANCELING"
        if result["__typename"] == "RunNotFoundError":
            raise RunNotFound(f"run {run_id!r} not found")
        raise DagsterRunsError(f"Dagster could not cancel run {run_id!r}: {result.get('message', '')}")
