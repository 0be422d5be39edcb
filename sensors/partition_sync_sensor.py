"""Mirror the DB's characters, scenes and episodes into Dagster's dynamic partitions."""

import dagster as dg

from anime_assets.partitions import PARTITION_TABLES
from resources.database import StudioDatabase
from studio.db import catalog
from studio.domain.partition_sync import partition_changes


async def _all_slugs(conn) -> dict[str, list[str]]:
    return {name: await catalog.slugs(conn, table) for name, table in PARTITION_TABLES.items()}


@dg.sensor(minimum_interval_seconds=15, default_status=dg.DefaultSensorStatus.RUNNING)
def partition_sync_sensor(context: dg.SensorEvaluationContext, database: StudioDatabase):
    wanted = database.run_sync(_all_slugs)
    requests: list = []
    summary = []
    for name, keys in wanted.items():
        to_add, to_remove = partition_changes(context.instance.get_dynamic_partitions(name), keys)
        if to_add:
            requests.append(dg.AddDynamicPartitionsRequest(partitions_def_name=name, partition_keys=to_add))
            summary.append(f"{name}: +{', '.join(to_add)}")
        if to_remove:
            requests.append(
                dg.DeleteDynamicPartitionsRequest(partitions_def_name=name, partition_keys=to_remove)
            )
            summary.append(f"{name}: -{', '.join(to_remove)}")
    if not requests:
        return dg.SkipReason("partitions already mirror the studio database")
    context.log.info("partition changes: %s", "; ".join(summary))
    return dg.SensorResult(dynamic_partitions_requests=requests)
