"""A stable identity of a workflow, for provenance."""

import hashlib
import json


def workflow_hash(workflow: dict) -> str:
    canonical = json.dumps(workflow, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()
