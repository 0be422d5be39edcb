"""Re-assemble and re-publish the episodes that use a scene video that was materialized again.

Off by default (switch it on in the UI): below an AllPartitionMapping nothing is automated eagerly,
and a person may want to finish a scene before its episodes are rebuilt. The cursor is the storage
id of the last scene_videos materialization seen; one run per episode per tick, keyed by that id, so
several scene changes at once rebuild an episode once.
"""

import dagster as dg

from jobs.episode_jobs import episodes_job
from resources.database import StudioDatabase
from studio.episodes.usage import episodes_using_scenes

SCENE_VIDEOS = dg.AssetKey("scene_videos")
BATCH = 200


@dg.sensor(job=episodes_job, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.STOPPED)
def episode_refresh_sensor(context: dg.SensorEvaluationContext, database: StudioDatabase):
    after = int(context.cursor) if context.cursor else None
    if after is None:
        # First tick: start from now; what was materialized before the sensor was switched on is not news.
        latest = context.instance.fetch_materializations(SCENE_VIDEOS, limit=1).records
        context.update_cursor(str(latest[0].storage_id if latest else 0))
        return dg.SkipReason("watching scene_videos from now on")
    records = context.instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=SCENE_VIDEOS, after_storage_id=after), limit=BATCH, ascending=True).records
    if not records:
        return dg.SkipReason("no scene video was materialized since the last tick")
    scenes = sorted({r.partition_key for r in records if r.partition_key})
    last = records[-1].storage_id
    context.update_cursor(str(last))
    known = set(context.instance.get_dynamic_partitions("episode"))
    episodes = [e for e in database.run_sync(lambda conn: episodes_using_scenes(conn, scenes)) if e in known]
    if not episodes:
        return dg.SkipReason(f"no episode uses {', '.join(scenes)}")
    return [dg.RunRequest(run_key=f"episode:{e}:{last}", partition_key=e, tags={"studio/scenes": ",".join(scenes)})
            for e in episodes]
