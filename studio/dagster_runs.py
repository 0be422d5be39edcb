"""Launch and follow Dagster runs through the webserver's GraphQL API (what the UI itself uses).

The API service does not import the code location: it asks the webserver which job holds an asset,
which partitions exist, and launches there. Schema names are those of dagster-graphql 1.13.27.

One run materializes exactly one partition of one asset: `launchRun` with an `assetSelection` of
that asset and the `dagster/partition` tag. The job is the asset's own job when one selects exactly
that asset (e.g. `characters_job`, so the UI shows a familiar name), else the implicit `__ASSET_JOB`.
With the QueuedRunCoordinator (Dagster's default) a launched run stays QUEUED until the daemon
starts it.
"""

from __future__ import annotations

import time

from studio.dagster_queries import DAEMON_HEALTH_QUERY, JOB_LOCATIONS_QUERY, RUNS_QUERY

IMPLICIT_ASSET_JOB = "__ASSET_JOB"
PARTITION_TAG = "dagster/partition"
# Who asked for a run: "api", "demo", ... set by us; runs of sensors carry Dagster's own sensor tag.
ORIGIN_TAG = "studio/origin"
SENSOR_TAG = "dagster/sensor_name"
# The daemon beats every ~20 s; Dagster calls it unhealthy after 60 s without one.
DAEMON_STALE_S = 60.0
DAEMON_DOWN = ("the Dagster daemon is not running: launched runs wait in the queue until it starts "
               "(`make daemon`, or `make up` for everything)")
FINISHED_STATUSES = frozenset({"SUCCESS", "FAILURE", "CANCELED"})


class DagsterRunsError(RuntimeError):
    """Dagster answered, but not with what was asked for (a rejected launch, a Python error)."""


class DagsterUnreachable(DagsterRunsError):
    pass


class UnknownAsset(DagsterRunsError):
    pass


class UnknownPartition(DagsterRunsError):
    pass


class UnknownJob(DagsterRunsError):
    pass


def run_origin(tags: dict[str, str]) -> str:
    if tags.get(ORIGIN_TAG):
        return tags[ORIGIN_TAG]
    if tags.get(SENSOR_TAG):
        return "sensor"
    if tags.get("dagster/schedule_name"):
        return "schedule"
    return "ui"  # launched from the Dagster UI (or a client that set no origin)


class RunNotFound(DagsterRunsError):
    pass


ASSET_QUERY = """
query StudioAssetForLaunch($assetKey: AssetKeyInput!) {
  assetNodeOrError(assetKey: $assetKey) {
    __typename
    ... on AssetNode {
      opNames
      isPartitioned
      isMaterializable
      partitionKeys
      jobs { name nodeNames }
      repository { name location { name } }
    }
    ... on AssetNotFoundError { message }
  }
}
"""

LAUNCH_MUTATION = """
mutation StudioLaunchRun($executionParams: ExecutionParams!) {
  launchRun(executionParams: $executionParams) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on RunConfigValidationInvalid { errors { message } }
    ... on Error { message }
  }
}
"""

RUN_QUERY = """
query StudioRunStatus($runId: ID!) {
  runOrError(runId: $runId) {
    __typename
    ... on Run {
      runId
      jobName
      status
      creationTime
      startTime
      endTime
      tags { key value }
      assetSelection { path }
      stepStats { stepKey status startTime endTime }
    }
    ... on RunNotFoundError { message }
    ... on PythonError { message }
  }
}
"""


class DagsterRuns:
    def __init__(self, graphql_url: str, *, timeout_s: float = 10.0, connect_timeout_s: float = 2.0):
        self.graphql_url = graphql_url
        # Connecting fails fast when the webserver is down; a launch itself may take seconds.
        self._timeout_s, self._connect_timeout_s = timeout_s, connect_timeout_s

    async def _query(self, query: str, variables: dict) -> dict:
        # Imported here: the review service imports this module for its errors, and httpx with its
        # command-line extras cost ~50 ms at every start.
        import httpx

        timeout = httpx.Timeout(self._timeout_s, connect=self._connect_timeout_s)
        try:
            async with httpx.AsyncClient(timeout=timeout) as client:
                response = await client.post(self.graphql_url, json={"query": query, "variables": variables})
        except httpx.HTTPError as exc:
            raise DagsterUnreachable(
                f"Dagster webserver at {self.graphql_url} is unreachable ({type(exc).__name__})"
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = {}
        if isinstance(body, dict) and body.get("errors"):  # a query this schema rejects: 200 or 400
            error = body["errors"][0]
            message = error.get("message", error) if isinstance(error, dict) else error
            raise DagsterRunsError(f"Dagster GraphQL error: {message}")
        if response.status_code != 200 or not isinstance(body, dict) or "data" not in body:
            # Something else answers at that address (wrong URL, a proxy page): no Dagster API there.
            raise DagsterUnreachable(
                f"no Dagster GraphQL API at {self.graphql_url} (HTTP {response.status_code})"
            )
        return body["data"]

    async def _asset(self, asset_key: str) -> dict:
        data = await self._query(ASSET_QUERY, {"assetKey": {"path": asset_key.split("/")}})
        node = data["assetNodeOrError"]
        if node["__typename"] != "AssetNode":
            raise UnknownAsset(f"asset {asset_key!r} is not defined in any Dagster code location")
        if not node["isMaterializable"]:
            raise UnknownAsset(f"asset {asset_key!r} cannot be materialized (it is external or observable only)")
        return node

    @staticmethod
    def _job_for(node: dict) -> str:
        # A job whose only ops are this asset's materializes it alone; subsetting a wider job would too,
        # but its name would suggest more than the run does.
        own = sorted(job["name"] for job in node["jobs"]
                     if job["name"] != IMPLICIT_ASSET_JOB and sorted(job["nodeNames"]) == sorted(node["opNames"]))
        return own[0] if own else IMPLICIT_ASSET_JOB

    async def _launch(self, params: dict) -> str:
        result = (await self._query(LAUNCH_MUTATION, {"executionParams": params}))["launchRun"]
        if result["__typename"] == "LaunchRunSuccess":
            return result["run"]["runId"]
        if result["__typename"] == "RunConfigValidationInvalid":
            detail = "; ".join(e["message"] for e in result["errors"])
        else:
            detail = result.get("message", "")
        raise DagsterRunsError(f"Dagster refused the run ({result['__typename']}): {detail}".strip())

    async def launch_job_run(self, job: str, partition_key: str | None, run_config: dict,
                             origin: str = "api") -> str:
        """Start a named job (all its assets, e.g. dataset_batch_job) with its run config."""
        data = (await self._query(JOB_LOCATIONS_QUERY, {}))["repositoriesOrError"]
        if data["__typename"] != "RepositoryConnection":
            raise DagsterRunsError(f"Dagster could not list its jobs: {data.get('message', '')}")
        found = [(repo["location"]["name"], repo["name"]) for repo in data["nodes"]
                 for candidate in repo["jobs"] if candidate["name"] == job and not job.startswith("__")]
        if not found:
            raise UnknownJob(f"job {job!r} is not defined in any Dagster code location")
        location, repository = found[0]
        tags = [{"key": ORIGIN_TAG, "value": origin}]
        if partition_key is not None:
            tags.append({"key": PARTITION_TAG, "value": partition_key})
        return await self._launch({
            "selector": {"repositoryLocationName": location, "repositoryName": repository, "jobName": job},
            "runConfigData": run_config, "executionMetadata": {"tags": tags}})

    async def list_runs(self, *, job: str | None = None, statuses: list[str] | None = None,
                        partition: str | None = None, origin: str | None = None, limit: int = 50) -> list[dict]:
        """Newest first. `origin` "sensor" matches runs of any sensor; other origins match our tag."""
        run_filter: dict = {}
        if job:
            run_filter["pipelineName"] = job
        if statuses:
            run_filter["statuses"] = statuses
        tags = [{"key": PARTITION_TAG, "value": partition}] if partition else []
        if origin and origin not in ("sensor", "ui", "schedule"):
            tags.append({"key": ORIGIN_TAG, "value": origin})
        if tags:
            run_filter["tags"] = tags
        # Origins that are an absence of our tag are filtered here, so ask for more than the limit.
        wanted = limit if origin in (None, "") or tags and origin not in ("sensor", "ui", "schedule") else limit * 5
        data = (await self._query(RUNS_QUERY, {"filter": run_filter, "limit": wanted}))["runsOrError"]
        if data["__typename"] != "Runs":
            raise DagsterRunsError(f"Dagster could not list runs: {data.get('message', '')}")
        runs = []
        for run in data["results"]:
            tags_of = {t["key"]: t["value"] for t in run["tags"]}
            summary = {"run_id": run["runId"], "job": run["jobName"], "status": run["status"],
                       "finished": run["status"] in FINISHED_STATUSES, "partition": tags_of.get(PARTITION_TAG),
                       "origin": run_origin(tags_of), "created_time": run["creationTime"],
                       "start_time": run["startTime"], "end_time": run["endTime"]}
            if origin and summary["origin"] != origin:
                continue
            runs.append(summary)
        return runs[:limit]

    async def daemon_problem(self) -> str | None:
        """Why queued runs would not start (the daemon is not running), or None when it runs."""
        data = await self._query(DAEMON_HEALTH_QUERY, {})
        statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
        coordinator = next((d for d in statuses if d["daemonType"] == "QUEUED_RUN_COORDINATOR"), None)
        if coordinator is None:
            return None  # a run coordinator that needs no daemon
        beat = coordinator.get("lastHeartbeatTime")
        if coordinator.get("healthy") or (beat and time.time() - beat < DAEMON_STALE_S):
            return None
        return DAEMON_DOWN

    async def launch_partition_run(self, asset_key: str, partition_key: str) -> str:
        """Start materializing one partition of one asset; returns the run id (the run may still be queued)."""
        node = await self._asset(asset_key)
        if not node["isPartitioned"]:
            raise UnknownPartition(f"asset {asset_key!r} is not partitioned")
        if partition_key not in node["partitionKeys"]:
            raise UnknownPartition(f"asset {asset_key!r} has no partition {partition_key!r}")
        repository = node["repository"]
        params = {
            "selector": {
                "repositoryLocationName": repository["location"]["name"],
                "repositoryName": repository["name"],
                "jobName": self._job_for(node),
                "assetSelection": [{"path": asset_key.split("/")}],
            },
            "executionMetadata": {"tags": [{"key": PARTITION_TAG, "value": partition_key},
                                           {"key": ORIGIN_TAG, "value": "api"}]},
        }
        return await self._launch(params)

    async def run_status(self, run_id: str) -> dict:
        """Status and per-step progress of a run; times are Unix seconds (None until known)."""
        result = (await self._query(RUN_QUERY, {"runId": run_id}))["runOrError"]
        if result["__typename"] == "RunNotFoundError":
            raise RunNotFound(f"run {run_id!r} not found")
        if result["__typename"] != "Run":
            raise DagsterRunsError(f"Dagster could not read run {run_id!r}: {result.get('message', '')}")
        tags = {t["key"]: t["value"] for t in result["tags"]}
        return {
            "run_id": result["runId"],
            "job": result["jobName"],
            "assets": ["/".join(key["path"]) for key in result["assetSelection"] or []],
            "partition": tags.get(PARTITION_TAG),
            "origin": run_origin(tags),
            "status": result["status"],
            "finished": result["status"] in FINISHED_STATUSES,
            "created_time": result["creationTime"],
            "start_time": result["startTime"],
            "end_time": result["endTime"],
            "steps": [{"key": s["stepKey"], "status": s["status"], "start_time": s["startTime"],
                       "end_time": s["endTime"]} for s in result["stepStats"]],
        }
