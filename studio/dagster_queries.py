"""GraphQL documents for launching named jobs, listing runs and reading the daemon's health
(dagster-graphql 1.13.27), used by studio/dagster_runs.py."""

JOB_LOCATIONS_QUERY = """
query StudioJobLocations {
  repositoriesOrError {
    __typename
    ... on RepositoryConnection { nodes { name location { name } jobs { name isAssetJob } } }
    ... on PythonError { message }
  }
}
"""

RUNS_QUERY = """
query StudioRuns($filter: RunsFilter, $limit: Int) {
  runsOrError(filter: $filter, limit: $limit) {
    __typename
    ... on Runs { results { runId jobName status creationTime startTime endTime tags { key value } } }
    ... on InvalidPipelineRunsFilterError { message }
    ... on PythonError { message }
  }
}
"""

DAEMON_HEALTH_QUERY = """
query StudioDaemonHealth {
  instance { daemonHealth { allDaemonStatuses { daemonType required healthy lastHeartbeatTime } } }
}
"""
