"""Starting and cancelling training runs over Dagster's GraphQL API (no Dagster import here).

A training is `training_job` for one character partition (the dataset snapshot, then the LoRA), so
the run is launched by job name in the code location that defines `lora_checkpoints`.
"""

from __future__ import annotations

from studio.dagster_runs import (LAUNCH_MUTATION, PARTITION_TAG, DagsterRuns, DagsterRunsError, RunNotFound,
                                 UnknownPartition)

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
        repository = node["repository"]
        params = {
            "selector": {"repositoryLocationName": repository["location"]["name"],
                         "repositoryName": repository["name"], "jobName": TRAINING_JOB},
            "executionMetadata": {"tags": [{"key": PARTITION_TAG, "value": slug},
                                           {"key": "studio/started_by", "value": "api"}]},
        }
        result = (await self._query(LAUNCH_MUTATION, {"executionParams": params}))["launchRun"]
        if result["__typename"] == "LaunchRunSuccess":
            return result["run"]["runId"]
        raise DagsterRunsError(f"Dagster refused the training run ({result['__typename']}): "
                               f"{result.get('message', '')}".strip())

    async def cancel(self, run_id: str) -> str:
        """Ask Dagster to terminate the run: the step process gets SIGINT and our launcher ends the trainer's group."""
        result = (await self._query(TERMINATE_MUTATION, {"runId": run_id}))["terminateRun"]
        if result["__typename"] == "TerminateRunSuccess":
            return result["run"]["status"]
        if result["__typename"] == "RunNotFoundError":
            raise RunNotFound(f"run {run_id!r} not found")
        raise DagsterRunsError(f"Dagster could not cancel run {run_id!r}: {result.get('message', '')}")
