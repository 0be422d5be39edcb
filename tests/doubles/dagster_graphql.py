"""A Dagster webserver double: the GraphQL operations studio/dagster_runs.py and
studio/training/dagster_training.py send, answered in dagster-graphql 1.13's shapes, over real HTTP.

    with DagsterGraphQLDouble({"characters": ["mika"]}, jobs=["training_job"]) as dagster:
        settings_for(dagster_graphql_url=dagster.graphql_url)

`assets` maps each materializable asset to its partition keys; every asset is partitioned and is
materialized by the implicit asset job. Launched runs stay QUEUED (a daemon that never comes) until
`terminateRun` cancels them; the daemon's heartbeat is healthy unless `daemon_healthy` is False.
Records: `launched` (the executionParams of every launch). An operation it does not know answers
GraphQL's own error shape, as the real server does for a query its schema rejects.
"""

from __future__ import annotations

import re
import time
import uuid

from aiohttp import web

from tests.doubles.server_thread import HttpDouble

REPOSITORY = {"name": "__repository__", "location": {"name": "anime_assets"}}
ASSET_JOB = "__ASSET_JOB"
OPERATION_NAME = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")


class DagsterGraphQLDouble(HttpDouble):
    def __init__(self, assets: dict[str, list[str]], *, jobs: list[str] = ()) -> None:
        super().__init__()
        self.assets = assets
        self.jobs = list(jobs)
        self.daemon_healthy = True
        self.launched: list[dict] = []
        self._runs: dict[str, dict] = {}

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/graphql", self._graphql)
        app.router.add_get("/server_info", self._server_info)
        return app

    async def _server_info(self, request: web.Request) -> web.Response:
        return web.json_response({"dagster_webserver_version": "1.13.27", "dagster_version": "1.13.27"})

    async def _graphql(self, request: web.Request) -> web.Response:
        body = await request.json()
        match = OPERATION_NAME.match(body.get("query", ""))
        handler = getattr(self, f"_op_{match.group(1)}", None) if match else None
        if handler is None:
            return web.json_response({"errors": [{"message": "Cannot query this operation"}]}, status=400)
        return web.json_response({"data": handler(body.get("variables") or {})})

    # -- the operations, by name -----------------------------------------------------------------

    def _op_StudioAssetForLaunch(self, variables: dict) -> dict:
        name = "/".join(variables["assetKey"]["path"])
        if name not in self.assets:
            return {"assetNodeOrError": {"__typename": "AssetNotFoundError",
                                         "message": f"Asset key {name} not found."}}
        return {"assetNodeOrError": {
            "__typename": "AssetNode", "opNames": [name], "isPartitioned": True, "isMaterializable": True,
            "partitionKeys": list(self.assets[name]), "jobs": [{"name": ASSET_JOB, "nodeNames": [name]}],
            "repository": REPOSITORY}}

    def _op_StudioLaunchRun(self, variables: dict) -> dict:
        params = variables["executionParams"]
        selector = params["selector"]
        if selector["jobName"] not in (ASSET_JOB, *self.jobs):
            return {"launchRun": {"__typename": "PipelineNotFoundError",
                                  "message": f"Could not find Pipeline {selector['jobName']}"}}
        self.launched.append(params)
        run_id = str(uuid.uuid4())
        self._runs[run_id] = {
            "runId": run_id, "jobName": selector["jobName"], "status": "QUEUED", "creationTime": time.time(),
            "startTime": None, "endTime": None, "tags": params.get("executionMetadata", {}).get("tags", []),
            "assetSelection": selector.get("assetSelection"), "stepStats": []}
        return {"launchRun": {"__typename": "LaunchRunSuccess", "run": {"runId": run_id}}}

    def _op_StudioRunStatus(self, variables: dict) -> dict:
        run = self._runs.get(variables["runId"])
        if run is None:
            return {"runOrError": {"__typename": "RunNotFoundError",
                                   "message": f"Run {variables['runId']} could not be found."}}
        return {"runOrError": {"__typename": "Run", **run}}

    def _op_StudioTerminateRun(self, variables: dict) -> dict:
        run = self._runs.get(variables["runId"])
        if run is None:
            return {"terminateRun": {"__typename": "RunNotFoundError",
                                     "message": f"Run {variables['runId']} could not be found."}}
        # Like Dagster's, the answer holds the run as read before it was marked.
        answer = {"runId": run["runId"], "status": run["status"]}
        if run["status"] not in ("SUCCESS", "FAILURE", "CANCELED"):
            run.update(status="CANCELED", endTime=time.time())
        return {"terminateRun": {"__typename": "TerminateRunSuccess", "run": answer}}

    def _op_StudioJobLocations(self, variables: dict) -> dict:
        jobs = [{"name": name, "isAssetJob": False} for name in self.jobs]
        return {"repositoriesOrError": {"__typename": "RepositoryConnection", "nodes": [
            {**REPOSITORY, "jobs": [{"name": ASSET_JOB, "isAssetJob": True}, *jobs]}]}}

    def _op_StudioRuns(self, variables: dict) -> dict:
        run_filter = variables.get("filter") or {}
        wanted_tags = {(t["key"], t["value"]) for t in run_filter.get("tags", [])}
        runs = [run for run in reversed(self._runs.values())
                if run_filter.get("pipelineName") in (None, run["jobName"])
                and (not run_filter.get("statuses") or run["status"] in run_filter["statuses"])
                and wanted_tags <= {(t["key"], t["value"]) for t in run["tags"]}]
        limit = variables.get("limit") or len(runs)
        return {"runsOrError": {"__typename": "Runs", "results": [
            {k: run[k] for k in ("runId", "jobName", "status", "creationTime", "startTime", "endTime", "tags")}
            for run in runs[:limit]]}}

    def _op_StudioDaemonHealth(self, variables: dict) -> dict:
        beat = time.time() if self.daemon_healthy else time.time() - 600
        return {"instance": {"daemonHealth": {"allDaemonStatuses": [
            {"daemonType": "QUEUED_RUN_COORDINATOR", "required": True, "healthy": self.daemon_healthy,
             "lastHeartbeatTime": beat}]}}}
