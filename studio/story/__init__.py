"""The story domain's SQL: projects, styles, characters, storyline, world, scenes, shots, episodes.

Plain async functions over an asyncpg connection; every change runs in one transaction and changes
to characters, scenes and episodes (Dagster partition keys) leave a `catalog_changed` event.
"""
