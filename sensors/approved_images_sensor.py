"""Keep `approved_images` fresh: re-count a character's approved set after decisions on its images
(a person approving in the review page, or the quality gate in a batch), RUNNING by default.

One run per character per tick at most, with a run key of its newest decision, so a crash between
requesting and storing the cursor re-issues the same key and Dagster drops the duplicate.
"""

from __future__ import annotations

import dagster as dg

from resources.database import StudioDatabase
from studio.datasets.approved_freshness import decided_since


@dg.sensor(asset_selection=dg.AssetSelection.assets("approved_images"), minimum_interval_seconds=15,
           default_status=dg.DefaultSensorStatus.RUNNING)
def approved_images_sensor(context: dg.SensorEvaluationContext, database: StudioDatabase):
    cursor = int(context.cursor or 0)

    async def changed(conn):
        return await decided_since(conn, cursor)

    decided, new_cursor = database.run_sync(changed)
    partitions = set(context.instance.get_dynamic_partitions("character"))
    requests = [dg.RunRequest(partition_key=slug, run_key=f"approved_images:{slug}:{last_id}",
                              tags={"studio/origin": "sensor"})
                for slug, last_id in sorted(decided.items()) if slug in partitions]
    if not requests:
        return dg.SensorResult(skip_reason=dg.SkipReason("no decisions since the last count"), cursor=str(new_cursor))
    return dg.SensorResult(run_requests=requests, cursor=str(new_cursor))
