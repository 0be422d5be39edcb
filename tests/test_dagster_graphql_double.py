"""The Dagster webserver double answers the studio's own GraphQL client (studio/dagster_runs.py,
studio/training/dagster_training.py) end to end, as the fuzz test relies on it to."""

import pytest

from studio.dagster_runs import DagsterRuns, RunNotFound, UnknownAsset, UnknownJob, UnknownPartition
from studio.training.dagster_training import TrainingRuns
from tests.doubles.dagster_graphql import DagsterGraphQLDouble


async def test_launch_follow_list_and_cancel_through_the_double():
    with DagsterGraphQLDouble({"characters": ["mika"], "lora_checkpoints": ["mika"]}, jobs=["training_job"]) as dagster:
        runs = TrainingRuns(dagster.graphql_url)
        run_id = await runs.launch_partition_run("characters", "mika")
        status = await runs.run_status(run_id)
        assert (status["status"], status["partition"], status["origin"], status["assets"]) == \
            ("QUEUED", "mika", "api", ["characters"])
        training = await runs.launch_training("mika")
        assert [r["run_id"] for r in await runs.list_runs()] == [training, run_id]
        assert [r["run_id"] for r in await runs.training_runs("mika")] == [training]
        assert [r["run_id"] for r in await runs.list_runs(partition="mika", origin="ui")] == []
        assert await runs.cancel(training) == "CANCELING"  # the answer holds the run as it was
        assert (await runs.run_status(training))["status"] == "CANCELED"
        assert await runs.daemon_problem() is None
        dagster.daemon_healthy = False
        assert "daemon is not running" in await runs.daemon_problem()


async def test_what_dagster_does_not_have_is_refused_as_the_real_server_refuses_it():
    with DagsterGraphQLDouble({"characters": ["mika"]}) as dagster:
        runs = TrainingRuns(dagster.graphql_url)
        with pytest.raises(UnknownAsset):
            await runs.launch_partition_run("nothing", "mika")
        with pytest.raises(UnknownPartition):
            await runs.launch_partition_run("characters", "nobody")
        with pytest.raises(UnknownJob):
            await runs.launch_job_run("no_job", None, {})
        with pytest.raises(RunNotFound):
            await runs.run_status("00000000-0000-0000-0000-000000000000")
        with pytest.raises(RunNotFound):
            await runs.cancel("00000000-0000-0000-0000-000000000000")
        assert (await DagsterRuns(dagster.graphql_url).list_runs()) == []
