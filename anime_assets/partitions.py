"""Dynamic partitions keyed by the DB's stable slugs; sensors/partition_sync_sensor.py mirrors them."""

import dagster as dg

character_partitions = dg.DynamicPartitionsDefinition(name="character")
scene_partitions = dg.DynamicPartitionsDefinition(name="scene")
episode_partitions = dg.DynamicPartitionsDefinition(name="episode")

# Partition set name -> the table whose slugs it mirrors.
PARTITION_TABLES = {
    character_partitions.name: "characters",
    scene_partitions.name: "scenes",
    episode_partitions.name: "episodes",
}
