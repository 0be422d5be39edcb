"""The kinds of `studio_events` rows: what happened, for the sensors that read the table as a queue.

Written by one function each (see the modules named), read by cursor over `studio_events.id`.
"""

from __future__ import annotations

# A person or the quality gate decided an image (studio/review/decisions.py, the dataset batch).
IMAGE_DECIDED = "image_decided"
# The vision reviewer scored an image again, before or without a decision (studio/review/rereview.py).
IMAGE_REVIEWED = "image_reviewed"
# A character, scene, episode or shot row was created, changed or deleted (studio/story/sql.py).
CATALOG_CHANGED = "catalog_changed"

ALL = (IMAGE_DECIDED, IMAGE_REVIEWED, CATALOG_CHANGED)
